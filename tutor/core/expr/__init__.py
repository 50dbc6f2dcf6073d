"""The lesson expression language: a whitelist over Python's parsed tree, evaluated by torch."""

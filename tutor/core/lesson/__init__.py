"""Lessons: the data model, the loader that validates files, the catalog of lesson folders, and prose templates."""

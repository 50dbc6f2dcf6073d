"""Reusable widgets of the app; each module is imported where it is used, so opening one stays cheap."""

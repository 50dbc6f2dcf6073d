"""The app's screens: each is a module imported where it is opened, so start-up stays cheap."""

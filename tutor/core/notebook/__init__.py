"""A teacher's notebook translated into a lesson: read, never run."""

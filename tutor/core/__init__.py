"""The tutor's core: lessons, the expression language, live evaluation, checking; never Textual."""

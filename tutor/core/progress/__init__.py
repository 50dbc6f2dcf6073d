"""Progress: attempts stored in SQLite or a class's PostgreSQL, reports, skills and reviews."""

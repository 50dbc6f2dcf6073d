"""`python -m tutor` runs the command line."""

from tutor import _start_time  # noqa: F401  (first import: start-up is measured from here)
from tutor.cli.main import main

raise SystemExit(main())

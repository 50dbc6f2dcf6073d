"""The `tutor` command and its subcommands: arguments, text output, exit codes; opens the app lazily."""

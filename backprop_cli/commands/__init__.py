"""One module per command, each exposing `command`; cli.py loads them lazily."""

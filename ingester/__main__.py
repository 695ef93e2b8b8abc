"""`python -m ingester` runs the `ingest` command."""

from ingester.cli import main

main()

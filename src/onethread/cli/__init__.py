"""The ``onethread`` command line (Typer)."""

"""Command-line interface: a thin typer layer over the library."""

from collabgraph.cli.app import app, main

__all__ = ["app", "main"]

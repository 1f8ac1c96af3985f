"""How the CLI talks to a person: one way to fail, one way to print a table or JSON."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console

__all__ = ["fail", "print_json"]


def fail(message: str) -> typer.Exit:
    """Print one clear error line (never a traceback) and return the exit to raise."""
    # soft_wrap: a long path or URL stays on one line, so it can be copied.
    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(1)


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")

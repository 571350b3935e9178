"""Command groups beyond the lifecycle, one module each (`app = typer.Typer(...)`), registered in `cli.py`."""

from __future__ import annotations

from pathlib import Path

from provisioner.errors import InputError


def read_input(path: Path) -> bytes:
    """A file the user named on the command line; a failure is one line naming it."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None

"""Command groups beyond the lifecycle, one module each (`app = typer.Typer(...)`), registered in `cli.py`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from provisioner.errors import InputError

if TYPE_CHECKING:
    from provisioner.project import Project


def project_of(ctx: typer.Context) -> Project:
    """The project of this invocation: the root command's --project (read from the click context, which also
    works when the CLI runs as `python -m provisioner.cli`), else the nearest parent with modules/ and
    environments/."""
    from provisioner.project import find_project

    given = ctx.find_root().params.get("project")
    if given is not None and not (given / "environments").is_dir():
        raise InputError(f"--project {given}: no environments/ directory there")
    return find_project(given)


def read_input(path: Path) -> bytes:
    """A file the user named on the command line; a failure is one line naming it."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None

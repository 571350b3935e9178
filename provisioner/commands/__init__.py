"""Command groups beyond the lifecycle, one module each (`app = typer.Typer(...)`), registered in `cli.py`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from provisioner.errors import InputError
from provisioner.user_files import read_input

__all__ = ["project_of", "read_input"]

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

"""Command groups beyond the lifecycle, one module each (`app = typer.Typer(...)`), registered in `cli.py`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from provisioner.errors import InputError
from provisioner.user_files import read_input

__all__ = ["project_of", "read_input"]

if TYPE_CHECKING:
    from pathlib import Path

    from provisioner.project import Project


# The root command's --project, kept by its callback for commands without a `ctx` parameter (Typer does not
# make the click context current). Kept here, not in cli.py, so it is one object also under `python -m`.
_project_option: dict[str, Path | None] = {"project": None}


def remember_project_option(given: Path | None) -> None:
    _project_option["project"] = given


def project_of(ctx: typer.Context | None = None) -> Project:
    """The project of this invocation: the root command's --project (from the click context when given, which
    also works when the CLI runs as `python -m provisioner.cli`), else the nearest parent with modules/ and
    environments/."""
    from provisioner.project import find_project

    given = ctx.find_root().params.get("project") if ctx is not None else _project_option["project"]
    if given is not None and not (given / "environments").is_dir():
        raise InputError(f"--project {given}: no environments/ directory there")
    return find_project(given)

"""Command groups beyond the lifecycle, one module each (`app = typer.Typer(...)`), registered in `cli.py`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from provisioner.errors import InputError

if TYPE_CHECKING:
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


def read_input(path: Path) -> bytes:
    """A file the user named on the command line; a failure is one line naming it."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None

"""`provision emulator start|status|stop`: the embedded AWS emulator the `local` environment targets."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from provisioner.project import Project

app = typer.Typer(help="The embedded AWS emulator (a moto server on 127.0.0.1) behind the `local` environment.")


class StatusFormat(str, Enum):
    text = "text"
    json = "json"


def _project(ctx: typer.Context) -> Project:
    """The root command's --project, read from the click context (not from provisioner.cli's module state,
    which is a different module object when the CLI runs as `python -m provisioner.cli`)."""
    from provisioner.errors import InputError
    from provisioner.project import find_project

    given = ctx.find_root().params.get("project")
    if given is not None and not (given / "environments").is_dir():
        raise InputError(f"--project {given}: no environments/ directory there")
    return find_project(given)


@app.command()
def start(
    ctx: typer.Context,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="Port on 127.0.0.1 (default: a free one).")
    ] = None,
) -> None:
    """Start the emulator (or reuse the running one) and print its endpoint."""
    from provisioner.emulator.launcher import ensure_running

    record = ensure_running(_project(ctx), port)
    typer.echo(f"emulator running at {record.endpoint} (pid {record.pid}, moto {record.moto_version})")


@app.command()
def status(
    ctx: typer.Context,
    fmt: Annotated[StatusFormat, typer.Option("--format", help="text or json")] = StatusFormat.text,
) -> None:
    """Whether the emulator runs: {"running": bool, "endpoint": "http://127.0.0.1:PORT", "pid": int|null}."""
    import json

    from provisioner.emulator import launcher

    record, running = launcher.status(_project(ctx))
    data = {
        "running": running,
        "endpoint": record.endpoint if record and running else None,
        "pid": record.pid if record and running else None,
    }
    if fmt is StatusFormat.json:
        typer.echo(json.dumps(data))
    elif running and record:
        typer.echo(f"running at {record.endpoint} (pid {record.pid}, started {record.started_at})")
    elif record:
        typer.echo(f"not running (stale record: pid {record.pid} on port {record.port}; `up` replaces it)")
    else:
        typer.echo("not running")


@app.command()
def stop(ctx: typer.Context) -> None:
    """Stop the emulator; everything created on it is gone."""
    from provisioner.emulator import launcher

    record = launcher.stop(_project(ctx))
    typer.echo(f"stopped the emulator (pid {record.pid})" if record else "not running")

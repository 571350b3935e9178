"""`provision emulator start|status|stop`: the embedded AWS emulator the `local` environment targets."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer

from provisioner.commands import project_of

if TYPE_CHECKING:
    pass

app = typer.Typer(help="The embedded AWS emulator (a moto server on 127.0.0.1) behind the `local` environment.")


class StatusFormat(str, Enum):
    text = "text"
    json = "json"


@app.command()
def start(
    ctx: typer.Context,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="Port on 127.0.0.1 (default: a free one).")
    ] = None,
) -> None:
    """Start the emulator (or reuse the running one) and print its endpoint."""
    from provisioner.emulator.launcher import ensure_running

    record = ensure_running(project_of(ctx), port)
    typer.echo(f"emulator running at {record.endpoint} (pid {record.pid}, moto {record.moto_version})")


@app.command()
def status(
    ctx: typer.Context,
    fmt: Annotated[StatusFormat, typer.Option("--format", help="text or json")] = StatusFormat.text,
) -> None:
    """Whether the emulator runs: {"running": bool, "endpoint": "http://127.0.0.1:PORT", "pid": int|null}."""
    import json

    from provisioner.emulator import launcher

    record, running = launcher.status(project_of(ctx))
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

    record = launcher.stop(project_of(ctx))
    typer.echo(f"stopped the emulator (pid {record.pid})" if record else "not running")

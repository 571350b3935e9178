"""`provision opensearch ...`: the OpenSearch content the configurator Lambda applies, for review and drift."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from provisioner.commands import project_of

app = typer.Typer(
    help="OpenSearch content as code (templates, retention, roles, dashboards, monitors).", no_args_is_help=True
)


@app.command("content")
def content(
    ctx: typer.Context,
    env: Annotated[str, typer.Option("--env", "-e", help="Environment name (a file in environments/).")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write one JSON file per API object into.")],
) -> None:
    """Write exactly what the configurator applies: one request body per file (layout: README)."""
    from provisioner.errors import InputError
    from provisioner.opensearch.environment import COMPONENT, content_for, review_files, write_review_dir
    from provisioner.user_files import check_output_dir, writing
    from provisioner.workspace import load_spec

    project = project_of(ctx)
    spec = load_spec(project, env)
    if COMPONENT not in spec.enabled_components:
        raise InputError(f"{project.relative(project.environment_file(env))}: components.{COMPONENT}: not enabled")
    built = content_for(project, spec)
    check_output_dir(out, "--out", review_files(built))
    with writing(out, "--out"):
        written = write_review_dir(built, out)
    typer.echo(f"wrote {len(written)} files into {out}")

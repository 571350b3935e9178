"""`provision fleet merge`: one drift report from the reports of many jobs (a CI matrix, the fleet module)."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Fleet runs on existing engines: merge the drift reports of many jobs.", no_args_is_help=True)


class MergeFormat(str, Enum):
    json = "json"
    markdown = "markdown"


@app.command("merge")
def merge(
    reports: Annotated[
        list[Path] | None, typer.Argument(help="`provision drift --format json` reports, one per job.")
    ] = None,
    matrix: Annotated[
        Path | None,
        typer.Option("--matrix", help="The `envs --format github-matrix` output: a row without a report is an error."),
    ] = None,
    fmt: Annotated[MergeFormat, typer.Option("--format", help="json (drift schema 1) or markdown.")] = (
        MergeFormat.json
    ),
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the merged report here.")] = None,
) -> None:
    """Merge drift JSON reports into one (schema 1), recomputing summary and verdict.

    Exit codes as `provision drift`: 0 no drift, 2 drift, 1 an environment could not be checked or bad input.
    The Markdown table is appended to $GITHUB_STEP_SUMMARY when set."""
    import os

    from provisioner.fleet import merge_reports, merged_markdown
    from provisioner.report.common import write_output

    merged = merge_reports(reports or [], matrix)
    rendered = json.dumps(merged, indent=2) + "\n" if fmt is MergeFormat.json else merged_markdown(merged)
    if output is not None:
        write_output(output, rendered)
        typer.echo(f"{merged['summary']['environments']} environment(s) merged into {output}")
    else:
        typer.echo(rendered, nl=False)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(merged_markdown(merged) + "\n")
    raise typer.Exit(merged["exit_code"])

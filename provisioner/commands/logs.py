"""`provision logs normalize`: AWS security logs (CloudTrail, WAF, GuardDuty) to ECS NDJSON."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from provisioner.commands import read_input
from provisioner.errors import InputError
from provisioner.ui import json_safe

app = typer.Typer(help="Normalise AWS security logs to Elastic Common Schema.", no_args_is_help=True)


class LogSource(str, Enum):
    cloudtrail = "cloudtrail"
    waf = "waf"
    guardduty = "guardduty"


@app.command("normalize")
def normalize(
    file: Annotated[Path, typer.Argument(help="Log file or payload (JSON lines, JSON array, or native container).")],
    source: Annotated[LogSource, typer.Option("--source", help="Which service wrote the log.")],
) -> None:
    """Print ECS documents as NDJSON; malformed records are skipped and counted on stderr."""
    from provisioner.functions.errors import FunctionInputError
    from provisioner.functions.logs import normalize as normalize_records

    data = read_input(file)
    if not data.strip():
        raise InputError(f"{file}: empty file: no {source.value} record to normalise")
    try:
        docs, skipped = normalize_records(source.value, data, name=str(file))
    except FunctionInputError as exc:
        raise InputError(str(exc)) from None
    if skipped and not docs:  # nothing was read: never "0 documents", exit 0
        raise InputError(f"{file}: no {source.value} record could be read ({skipped} malformed records)")
    out = sys.stdout
    for doc in docs:
        try:
            line = json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (RecursionError, ValueError):  # nested too deeply to write: skipped like a malformed record
            skipped += 1
            continue
        out.write(json_safe(line) + "\n")
    out.flush()
    if skipped:
        typer.echo(f"note: skipped {skipped} malformed records", err=True)

"""`provision demo ...`: replay documented attacks on the local stack and watch them raise their alerts."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from provisioner.commands import project_of, read_input
from provisioner.errors import InputError

if TYPE_CHECKING:
    from provisioner.demo.stack import Stack
    from provisioner.project import Project
    from provisioner.spec import EnvironmentSpec

app = typer.Typer(help="Replay documented attacks on the local stack (emulator) end to end.", no_args_is_help=True)

ALL = "all"
DEFAULT_TECHNIQUE = "cloudtrail-stop-logging"


class DemoFormat(str, Enum):
    text = "text"
    json = "json"


FormatOpt = Annotated[DemoFormat, typer.Option("--format", help="text or json.")]


@app.command("list")
def list_(fmt: FormatOpt = DemoFormat.text) -> None:
    """The built-in techniques: name, source, ATT&CK ids, the rule whose alert each must raise."""
    from provisioner.demo.techniques import load

    items = [t.summary() for t in load().values()]
    if fmt is DemoFormat.json:
        typer.echo(json.dumps(items, indent=2))
        return
    for item in items:
        typer.echo(f"{item['name']:<34} {item['source']:<10} {','.join(item['attack']):<11} -> {item['rule']}")


def _emulator_stack(project: Project, spec: EnvironmentSpec, env: str) -> Stack:
    """Point this process at the running emulator (never start an empty one) and find the stack on it."""
    import os

    from provisioner.aws import reset_sessions
    from provisioner.demo.stack import StackMissing, discover
    from provisioner.emulator.launcher import status
    from provisioner.emulator.target import emulator_env

    if spec.target != "emulator":
        where = project.relative(project.environment_file(env))
        raise InputError(f"{where}: target: demo runs on the emulator target only (this environment is {spec.target})")
    record, running = status(project)
    if record is None or not running:
        raise StackMissing("the emulator is not running; run `make up` (provision up --env local) first")
    os.environ.update(emulator_env(record.endpoint, spec.region))
    reset_sessions()
    return discover(spec.name_prefix, spec.region)


def _records_of(path: Path) -> list[Any]:
    from provisioner.functions.logs.cloudtrail import records

    found, _ = records(read_input(path))
    if not any(isinstance(r, dict) and r.get("eventName") for r in found):
        raise InputError(f"{path}: no CloudTrail records (a CloudTrail file, a JSON array or JSON lines)")
    return found


def _print(result: dict[str, Any], fmt: DemoFormat) -> None:
    if fmt is DemoFormat.json:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    typer.echo(f"{result['technique']}: {result['records_sent']} sent, {result['indexed']} indexed")
    for alert in result["alerts"]:
        typer.echo(f"  ALERT {alert['monitor']} (severity {alert['severity']}, {alert['matches']} matches) "
                   f"-> SNS {alert['message_id']}")  # fmt: skip
    for decision in result.get("response", []):
        typer.echo(f"  response (GuardDuty Lambda): {json.dumps(decision, default=str)}")
    if not result["alerts"]:
        typer.echo("  no alert fired")


@app.command("attack")
def attack(
    ctx: typer.Context,
    env: Annotated[str, typer.Option("--env", "-e", help="Environment on the emulator target (local).")],
    technique: Annotated[
        str | None, typer.Option("--technique", help=f"A built-in technique (`provision demo list`) or `{ALL}`.")
    ] = None,
    events: Annotated[Path | None, typer.Option("--events", help="A file of CloudTrail records to replay.")] = None,
    fmt: FormatOpt = DemoFormat.text,
) -> None:
    """Send an attack's records into the stack, wait for the index, run the monitors, publish the alerts.
    Exit 0 when an alert fired (with `all`: when every technique raised its own rule's alert), 1 otherwise."""
    from provisioner.demo import attack as use_case
    from provisioner.demo.techniques import load
    from provisioner.opensearch.environment import content_for
    from provisioner.project import WorkspaceRef
    from provisioner.workspace import load_spec

    if technique is not None and events is not None:
        raise InputError("--technique, --events: give one of them")
    catalogue = load()
    chosen = technique or DEFAULT_TECHNIQUE
    if events is None and chosen != ALL and chosen not in catalogue:
        raise InputError(f"--technique {chosen}: unknown; one of {', '.join(catalogue)}, {ALL}")
    file_records = _records_of(events) if events is not None else None
    project = project_of(ctx)
    spec = load_spec(project, WorkspaceRef.parse(env))
    stack = _emulator_stack(project, spec, env)
    monitors = [o["body"] for o in content_for(project, spec)["objects"] if o["kind"] == "monitor"]
    if file_records is not None:
        replays = [use_case.file_replay(events.name if events else "events", file_records)]
    else:
        names = list(catalogue) if chosen == ALL else [chosen]
        replays = [use_case.replay_of(catalogue[n], stack, use_case.now()) for n in names]
    results = [use_case.run(stack, replay, monitors) for replay in replays]
    if fmt is DemoFormat.json and len(results) > 1:
        typer.echo(json.dumps(results, indent=2, default=str))
    for result in results if fmt is DemoFormat.text or len(results) == 1 else []:
        _print(result, fmt)
    if chosen == ALL and file_records is None:
        ok = all(any(a["monitor"] == catalogue[r["technique"]].rule for a in r["alerts"]) for r in results)
    else:
        ok = bool(results[0]["alerts"])
    raise typer.Exit(0 if ok else 1)


@app.command("findings")
def findings(
    ctx: typer.Context,
    env: Annotated[str, typer.Option("--env", "-e", help="Environment on the emulator target (local).")],
    tool: Annotated[str, typer.Option("--tool", help="zap, dependency-check or sonarqube.")],
    report: Annotated[Path, typer.Option("--report", help="The scanner's JSON report.")],
    repository: Annotated[str, typer.Option("--repository", help="Repository the report is filed under.")] = "demo/app",
    branch: Annotated[str, typer.Option("--branch", help="Branch the report is filed under.")] = "main",
) -> None:
    """Drop a scanner report in the reports bucket as the pipeline stage does; print what reached Security Hub.
    Exit 0 when findings were imported, 1 when none arrived."""
    from provisioner.demo import findings as use_case
    from provisioner.functions.findings import TOOLS
    from provisioner.project import WorkspaceRef
    from provisioner.workspace import load_spec

    if tool not in TOOLS:
        raise InputError(f"--tool {tool}: one of {', '.join(sorted(TOOLS))}")
    body = read_input(report)
    project = project_of(ctx)
    spec = load_spec(project, WorkspaceRef.parse(env))
    result = use_case.run(_emulator_stack(project, spec, env), tool, body, repository, branch)
    typer.echo(json.dumps(result, indent=2))
    raise typer.Exit(0 if result["imported"] else 1)

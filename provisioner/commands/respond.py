"""`provision respond`: rehearse the GuardDuty response on a finding, locally, with no AWS call.

It runs the Lambda's own decision function (provisioner/functions/response/decide.py) with an environment's
policy (or the defaults) and prints what the Lambda would do.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from provisioner.commands import read_input
from provisioner.errors import InputError
from provisioner.ui import one_line

if TYPE_CHECKING:
    from provisioner.functions.response.decide import Home


class RespondFormat(str, Enum):
    text = "text"
    json = "json"


def _read_finding(path: Path) -> Any:
    from provisioner.functions.common import load_json
    from provisioner.functions.errors import FunctionInputError

    try:
        return load_json(read_input(path), str(path))
    except FunctionInputError as exc:
        raise InputError(str(exc)) from None


def _policy(env: str | None) -> tuple[dict[str, Any], Home | None]:
    """The environment's policy and where its Lambda runs (its accounts and region); none without --env."""
    from provisioner.functions.response.decide import Home

    if env is None:
        return {}, None
    from provisioner.cli import _project
    from provisioner.component_inputs import response_policy
    from provisioner.spec import load_environment

    project = _project()
    spec = load_environment(project, env)  # validates the policy (SpecError names file and key)
    if "response" not in spec.enabled_components:
        raise InputError(f"{project.relative(project.environment_file(env))}: components.response: not enabled")
    return response_policy(spec), Home(frozenset(spec.account_ids), spec.region)


def render_text(report: dict[str, Any]) -> str:
    """The report for a terminal: every field from the finding (user names, ids) on one line, controls escaped."""
    finding = report["finding"]
    lines = [f"finding {one_line(finding['id'])}  {one_line(finding['type'])}  severity {finding['severity']:g}"]
    width = max((len(a["action"]) for a in report["actions"]), default=0)
    for action in report["actions"]:
        reason = f"  ({one_line(action['reason'])})" if action.get("reason") else ""
        lines.append(f"  {action['action'].ljust(width)}  {one_line(action['resource'])}  {action['status']}{reason}")
    if report["skipped_reason"]:
        lines.append(f"no action: {one_line(report['skipped_reason'])}")
    return "\n".join(lines)


def respond(
    finding: Annotated[
        Path, typer.Option("--finding", help="GuardDuty finding: raw, EventBridge event, or get-findings output.")
    ],
    env: Annotated[
        str | None, typer.Option("--env", "-e", help="Use this environment's response policy (default: built-in).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Decide as if the policy's dry_run were true.")] = False,
    fmt: Annotated[RespondFormat, typer.Option("--format", help="text or json")] = RespondFormat.text,
) -> None:
    """Print the actions the GuardDuty response would take on a finding (nothing is changed, no AWS call)."""
    from provisioner.functions.response.decide import decide
    from provisioner.functions.response.policy import PolicyError, load_policy

    raw_policy, home = _policy(env)
    if dry_run:
        raw_policy = {**raw_policy, "dry_run": True}
    try:
        policy = load_policy(raw_policy)
    except PolicyError as exc:  # only reachable without --env (the spec loader checks it otherwise)
        raise InputError(f"policy: {exc}") from None
    decision = decide(_read_finding(finding), policy, home)
    if decision.finding is None:
        raise InputError(f"{finding}: {decision.skipped_reason}")
    report = decision.as_dict()
    typer.echo(json.dumps(report, indent=2) if fmt is RespondFormat.json else render_text(report))

"""The fleet, for engines that already schedule work: a GitHub Actions matrix of everything deployed, and one
drift report merged from the reports of many jobs (`provision drift --format json`, schema 1).

No scheduler of our own: a matrix job (or a `fleet` module build) checks one environment; `merge` joins the
results so the final job can publish one report and one verdict.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from provisioner.errors import InputError, ProvisionError
from provisioner.project import Project
from provisioner.spec import EnvironmentSpec

FLEET_ROLE_SUFFIX = "fleet-drift"  # the role `modules/fleet_member` creates in each member account
_MAX_REPORT_BYTES = 64 * 1024 * 1024


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def fleet_role(spec: EnvironmentSpec) -> str:
    """The role a fleet job assumes for this environment: the spec's `fleet.role_arn`, else the member role."""
    if spec.fleet.role_arn:
        return spec.fleet.role_arn
    account = spec.account_ids[0]
    return f"arn:{_partition(spec.region)}:iam::{account}:role/{spec.project}-{FLEET_ROLE_SUFFIX}"


def _row(spec: EnvironmentSpec) -> dict[str, str]:
    return {
        "env": spec.name,
        "name": spec.workspace,  # what `provision drift --env` takes: `dev`, or `demo--pr-42` for an instance
        "account": spec.account_ids[0],
        "region": spec.region,
        "role": fleet_role(spec),
        "target": spec.target,
    }


def github_matrix(project: Project) -> dict[str, list[dict[str, str]]]:
    """`{"include": [...]}`: every non-template environment and every live (unexpired) ephemeral instance.

    An environment whose spec does not load is bad input, and unreadable instance records are an error: a matrix
    that silently dropped them would leave them unchecked."""
    from provisioner import instances
    from provisioner.spec import load_environment

    rows: list[dict[str, str]] = []
    templates: dict[str, EnvironmentSpec] = {}
    for name in project.environment_names():
        spec = load_environment(project, name)
        if spec.ephemeral.template:
            templates[name] = spec
        else:
            rows.append(_row(spec))
    found = instances.discover(project)
    if found.problems:
        # A matrix without some instances would silently leave them unchecked.
        raise ProvisionError(f"instance records: {found.problems[0]}", hint="the matrix needs every record: fix access")
    now = instances.utcnow()
    for record in found.records:
        template = templates.get(record.env)
        if record.expired(now) or template is None:
            continue  # expired: reap's business; no template left: nothing to check it against
        rows.append(_row(template.stamp(record.name, record.created_at, record.expires_at)))
    return {"include": rows}


def _load_report(path: Path) -> dict[str, Any]:
    from provisioner.functions.errors import FunctionInputError
    from provisioner.functions.fleet.merge import check_report

    try:
        if not path.is_file():
            raise InputError(f"{path}: not a regular file")
        if path.stat().st_size > _MAX_REPORT_BYTES:
            raise InputError(f"{path}: larger than {_MAX_REPORT_BYTES // (1024 * 1024)} MiB, not a drift report")
        data = json.loads(path.read_text(encoding="utf-8"))
        return check_report(data, str(path))
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        if isinstance(exc, FunctionInputError):
            raise InputError(str(exc)) from None
        raise InputError(f"{path}: not JSON: {str(exc).splitlines()[0][:200]}") from None


def _matrix_names(path: Path) -> list[str]:
    """The `name`s of a `provision envs --format github-matrix` file: what the merge must account for."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["include"]
        return [str(row["name"]) for row in rows if row.get("target", "aws") == "aws"]
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise InputError(f"{path}: include: not a `provision envs --format github-matrix` output") from None


def merge_reports(paths: list[Path], matrix: Path | None = None) -> dict[str, Any]:
    """One drift report (schema 1) from many: environments concatenated, summary and verdict recomputed; with
    `matrix`, an environment of the matrix that no report holds is an error (its job died before writing one)."""
    from provisioner.functions.errors import FunctionInputError
    from provisioner.functions.fleet.merge import merge

    expected = _matrix_names(matrix) if matrix is not None else []
    if not paths and not expected:
        raise InputError("fleet merge: give at least one report")
    try:
        return merge(((str(path), _load_report(path)) for path in paths), expected)
    except FunctionInputError as exc:
        raise InputError(str(exc)) from None


def merged_markdown(report: dict[str, Any]) -> str:
    """The fleet's summary table (the per-environment detail stays in each job's own report)."""
    from provisioner.report.common import md_cell
    from provisioner.report.drift import ICONS

    s = report["summary"]
    lines = [
        "## provision drift (fleet)",
        "",
        f"{s['environments']} environment(s): {s['clean']} clean, {s['drift']} drift, {s['error']} error "
        f"(exit {report['exit_code']})",
        "",
        "| environment | region | status | errors |",
        "|---|---|---|---|",
    ]
    for env in report["environments"]:
        name = env.get("workspace") or env["environment"]
        errors = "; ".join(str(e) for e in env.get("errors") or []) or "-"
        region = md_cell(env.get("region") or "-")
        lines.append(f"| `{md_cell(name)}` | {region} | {ICONS[env['status']]} | {md_cell(errors)} |")
    return "\n".join(lines) + "\n"

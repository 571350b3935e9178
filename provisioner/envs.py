"""`provision envs`: every environment (problems shown per environment, not fatal) and every ephemeral
instance, found by the one instance discovery (local records and the copies kept next to the state in S3)."""

from __future__ import annotations

import json
from typing import Any

from provisioner.errors import InputError
from provisioner.project import Project
from provisioner.ui import UI, one_line


def _environment_rows(project: Project) -> list[dict[str, Any]]:
    from provisioner.spec import load_environment

    rows: list[dict[str, Any]] = []
    for name in project.environment_names():
        try:
            spec = load_environment(project, name)
        except InputError as exc:
            rows.append({"name": name, "error": exc.message})
            continue
        rows.append(
            {
                "name": name,
                "region": spec.region,
                "accounts": spec.account_ids,
                "components": sorted(spec.enabled_components),
                "protected": spec.protection.destroy_protected,
                "template": spec.ephemeral.template,
            }
        )
    return rows


def _instance_rows(project: Project, ui: UI) -> list[dict[str, Any]]:
    from provisioner import instances

    found = instances.discover(project)
    for problem in found.problems:
        ui.warn(f"instance records: {problem}")
    now = instances.utcnow()
    return [
        {
            "name": record.workspace,
            "instance_of": record.env,
            "created_at": record.to_json()["created_at"],
            "expires_at": record.to_json()["expires_at"],
            "age_hours": round(record.age(now).total_seconds() / 3600, 1),
            "expired": record.expired(now),
        }
        for record in found.records
    ]


def _line(row: dict[str, Any]) -> str:
    if "error" in row:
        return f"{row['name']:<24} INVALID: {row['error']}"
    if "instance_of" in row:
        state = "EXPIRED" if row["expired"] else "active"
        return (
            f"{row['name']:<24} instance of {row['instance_of']}, age {row['age_hours']}h, "
            f"expires {row['expires_at']} ({state})"
        )
    flags = ",".join(f for f, on in (("protected", row["protected"]), ("template", row["template"])) if on)
    return (
        f"{row['name']:<24} {row['region']:<14} {','.join(row['accounts']):<14} {flags or '-':<20} "
        f"{', '.join(row['components'])}"
    )


def list_environments(project: Project, *, fmt: str = "text", ui: UI) -> str:
    if fmt == "github-matrix":
        from provisioner.fleet import github_matrix

        return json.dumps(github_matrix(project), separators=(",", ":"))
    rows = _environment_rows(project) + _instance_rows(project, ui)
    if fmt == "json":
        return json.dumps(rows, indent=2)
    header = f"{'ENVIRONMENT':<24} {'REGION':<14} {'ACCOUNTS':<14} {'FLAGS':<20} COMPONENTS"
    # Names come from file names and errors quote spec text: neither may drive the terminal.
    return "\n".join([header, *(one_line(_line(row)) for row in rows)])

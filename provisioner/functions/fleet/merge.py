"""Merging drift reports (`provision drift --format json`, schema 1) and the fingerprint a notification keys on.

Shared by the host (`provision fleet merge`) and the fleet's aggregation Lambda, so both judge alike."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from provisioner.functions.errors import FunctionInputError

SCHEMA = 1
STATUSES = ("clean", "drift", "error")
_EXIT = {"clean": 0, "drift": 2, "error": 1}


def check_report(data: Any, source: str) -> dict[str, Any]:
    """`data` if it is a drift report (schema 1) whose environments each have a name and a status."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("environments"), list):
        raise FunctionInputError(source, "schema: not a `provision drift --format json` report (schema 1)")
    for i, env in enumerate(data["environments"]):
        well_formed = isinstance(env, dict) and isinstance(env.get("environment"), str)
        if not well_formed or env.get("status") not in STATUSES:
            raise FunctionInputError(source, f"environments[{i}]: not a drift result (environment, status)")
    return data


def env_key(env: dict[str, Any]) -> str:
    return str(env.get("workspace") or env["environment"])


def missing_result(name: str, reason: str) -> dict[str, Any]:
    """An environment whose check left no usable report: an error, never silently clean."""
    return {
        "environment": name.partition("--")[0],
        "workspace": name,
        "region": None,
        "status": "error",
        "errors": [reason],
        "duration_seconds": 0,
        "terraform": None,
        "posture": None,
        "unmanaged": None,
        "opensearch": None,
    }


def merge(reports: Iterable[tuple[str, dict[str, Any]]], expected: Iterable[str] = ()) -> dict[str, Any]:
    """One report from (source, report) pairs: environments concatenated, summary and verdict recomputed; an
    `expected` environment no report holds is an error. The same environment twice is refused: which result is
    true is not ours to guess."""
    seen: dict[str, str] = {}
    environments: list[dict[str, Any]] = []
    aws_checks = True
    for source, report in reports:
        aws_checks = aws_checks and bool(report.get("aws_checks"))
        for env in report["environments"]:
            key = env_key(env)
            if key in seen:
                raise FunctionInputError(source, f"environments: {key!r} is also in {seen[key]}")
            seen[key] = source
            environments.append(env)
    for name in expected:
        if name not in seen:
            environments.append(missing_result(name, "no drift report: its job failed before writing one"))
    return with_verdict(environments, aws_checks=aws_checks)


def with_verdict(environments: list[dict[str, Any]], *, aws_checks: bool) -> dict[str, Any]:
    summary = {"environments": len(environments), "clean": 0, "drift": 0, "error": 0}
    for env in environments:
        summary[env["status"]] += 1
    worst = "error" if summary["error"] else "drift" if summary["drift"] else "clean"
    return {
        "schema": SCHEMA,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws_checks": aws_checks,
        "exit_code": _EXIT[worst],
        "summary": summary,
        "environments": environments,
    }


def drift_fingerprint(env: dict[str, Any]) -> str:
    """What an environment's drift is, without when it was found or how long that took: the same drift on another
    night has the same fingerprint; a different address, value, finding or status has another."""
    data = {k: v for k, v in env.items() if k not in ("duration_seconds", "errors")}
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def fingerprint(report: dict[str, Any]) -> str:
    """A fleet's drift: changes when any environment's drift appears, changes or is resolved."""
    state = {env_key(env): drift_fingerprint(env) for env in report["environments"] if env["status"] != "clean"}
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()

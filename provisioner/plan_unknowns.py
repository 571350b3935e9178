"""What a plan does not know yet: reconciles Checkov plan-scan failures on values unknown until apply.

A first plan knows nothing that AWS assigns at create time: the ARN of a KMS key created in the same run is
"known after apply", so the plan JSON has no `kms_key_id` and Checkov's plan scan reads it as missing
(CKV_AWS_158 and friends), although the configuration sets it. Neither `--repo-root-for-plan-enrichment`
(file/line mapping and inline skips only) nor `--deep-analysis` fills such values in (measured on the dev stack:
the same 29 false positives remain).

A plan-scan failure is deferred to the configuration scan only when all of these hold:
- the check reads attributes of the one resource (a Python resource check, `checkov.terraform.checks.resource`);
  graph checks (CKV2_*, CKV_AWS_18 in Checkov 3) judge connections between resources, which the plan knows;
- Checkov names the attributes it evaluated (`check_result.evaluated_keys`), and at least one of them is
  unknown in the plan (`after_unknown` of the resource's change) — the verdict rests on a missing value;
- the configuration scan evaluated the same check on the same resource (instance keys aside) and passed it
  every time — the configuration sets the value the plan cannot show yet.
A check that fails on values the plan knows stays failed, whatever the configuration scan said.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

RESOURCE_CHECKS = "checkov.terraform.checks.resource."
_INDEX = re.compile(r"\[(\d+)\]")
_INSTANCE_KEY = re.compile(r"\[[^\[\]]*\]")


def resource_key(address: str) -> str:
    """A resource address without instance keys (`[0]`, `["build"]`): how config and plan results meet."""
    return _INSTANCE_KEY.sub("", address)


def _any_unknown(node: Any) -> bool:
    if node is True:
        return True
    if isinstance(node, Mapping):
        return any(_any_unknown(v) for v in node.values())
    if isinstance(node, list):
        return any(_any_unknown(v) for v in node)
    return False


def is_unknown(after_unknown: Any, key: str) -> bool:
    """Whether the attribute at Checkov's evaluated-key path (`a/[0]/b`, `a/*/b`, `a/b`) is unknown, in whole
    or in part. Checkov writes nested blocks with or without list indices; both are followed."""
    return _unknown_at(after_unknown, [p for p in key.split("/") if p])


def _unknown_at(node: Any, parts: list[str]) -> bool:
    if node is True:
        return True
    if not parts:
        return _any_unknown(node)
    head, rest = parts[0], parts[1:]
    if isinstance(node, list):
        if head == "*":
            return any(_unknown_at(item, rest) for item in node)
        index = _INDEX.fullmatch(head)
        if index is not None:
            position = int(index.group(1))
            return position < len(node) and _unknown_at(node[position], rest)
        return any(_unknown_at(item, parts) for item in node)  # a block path written without its index
    if isinstance(node, Mapping):
        return head in node and _unknown_at(node[head], rest)
    return False


def unknowns_by_address(plan: Mapping[str, Any]) -> dict[str, Any]:
    """`after_unknown` of every resource the plan creates or updates, by address."""
    found: dict[str, Any] = {}
    for change in plan.get("resource_changes") or []:
        body = change.get("change") or {}
        actions = set(body.get("actions") or [])
        if actions & {"create", "update"} and body.get("after_unknown"):
            found[str(change.get("address", ""))] = body["after_unknown"]
    return found


def config_verdicts(reports: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], set[str]]:
    """(check id, resource key) -> the outcomes the configuration scan gave it ("passed", "failed")."""
    verdicts: dict[tuple[str, str], set[str]] = {}
    for report in reports:
        results = report.get("results") or {}
        for outcome, bucket in (("passed", "passed_checks"), ("failed", "failed_checks"), ("failed", "skipped_checks")):
            for raw in results.get(bucket) or []:
                key = (str(raw.get("check_id", "")), resource_key(str(raw.get("resource", ""))))
                verdicts.setdefault(key, set()).add(outcome)
    return verdicts


def deferral(plan: Mapping[str, Any], verdicts: Mapping[tuple[str, str], set[str]]) -> Callable[[dict[str, Any]], bool]:
    """The test `evaluate` applies to each failed plan check: True = unknown at plan time, config passed it."""
    unknowns = unknowns_by_address(plan)

    def unknown_and_passed(raw: dict[str, Any]) -> bool:
        if not str(raw.get("check_class", "")).startswith(RESOURCE_CHECKS):
            return False
        address = str(raw.get("resource_address") or raw.get("resource") or "")
        after_unknown = unknowns.get(address)
        keys = (raw.get("check_result") or {}).get("evaluated_keys") or []
        if after_unknown is None or not keys:
            return False
        if not any(is_unknown(after_unknown, str(key)) for key in keys):
            return False
        return verdicts.get((str(raw.get("check_id", "")), resource_key(address))) == {"passed"}

    return unknown_and_passed

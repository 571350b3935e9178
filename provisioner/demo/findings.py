"""`provision demo findings`: a scanner report dropped in the reports bucket reaches Security Hub.

The report lands where a pipeline stage puts it (`<tool>/<repository>/<branch>/<build_id>/report.json` in the
findings module's bucket); the bucket's notification runs the importer Lambda (on the emulator's Lambda
runtime), which files the findings as ASFF. The findings of that build are then read back from Security Hub.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from provisioner.aws import client
from provisioner.demo.stack import Stack, StackMissing

WAIT_SECONDS = 120.0


def reports_bucket(stack: Stack) -> str:
    name = f"{stack.prefix}-reports-{stack.account}-{stack.region}"
    buckets = {b["Name"] for b in client("s3", stack.region).list_buckets().get("Buckets", [])}
    if name not in buckets:
        raise StackMissing(f"reports bucket {name}: not found on the emulator; run `make up` first")
    return name


def _of_build(build_id: str, region: str) -> list[dict[str, Any]]:
    hub = client("securityhub", region)
    found: list[dict[str, Any]] = []
    for page in hub.get_paginator("get_findings").paginate():
        found += [f for f in page["Findings"] if (f.get("ProductFields") or {}).get("provision/BuildId") == build_id]
    return found


def run(stack: Stack, tool: str, report: bytes, repository: str, branch: str) -> dict[str, Any]:
    build_id = f"demo-{uuid.uuid4().hex[:12]}"
    key = f"{tool}/{repository}/{branch}/{build_id}/report.json"
    bucket = reports_bucket(stack)
    client("s3", stack.region).put_object(Bucket=bucket, Key=key, Body=report)
    deadline = time.monotonic() + WAIT_SECONDS
    findings = _of_build(build_id, stack.region)
    while not findings and time.monotonic() < deadline:
        time.sleep(1.0)
        findings = _of_build(build_id, stack.region)
    shown = [
        {"id": f["Id"], "title": f["Title"], "severity": f["Severity"].get("Label"), "generator": f["GeneratorId"]}
        for f in findings
    ]
    return {"tool": tool, "bucket": bucket, "key": key, "imported": len(shown), "findings": shown}

"""Security Hub import on the moto server (real HTTP, real boto3): no duplicates, resolution, retries, handler."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from provisioner.functions.common import Backoff
from provisioner.functions.errors import FunctionInputError
from provisioner.functions.findings import FindingContext, convert_report, import_findings
from provisioner.functions.findings.handler import lambda_handler, parse_key
from tests.functions.helpers import ACCOUNT, DATA, REGION, LambdaContext

CTX = FindingContext(ACCOUNT, REGION, repository="org-app", branch="main", commit="abc", build_id="1")
ZAP = DATA / "zap/report_json-2.8.0.json"


def _all_findings(client: Any) -> list[dict[str, Any]]:
    return [f for page in client.get_paginator("get_findings").paginate() for f in page["Findings"]]


def test_reimport_updates_instead_of_duplicating_and_gone_findings_are_archived(aws: str) -> None:
    client = boto3.client("securityhub", region_name=REGION)
    findings = convert_report("zap", ZAP.read_bytes(), CTX).findings
    first = import_findings(client, "zap", findings, CTX)
    assert (first.imported, first.updated, first.failed, first.resolved) == (3, 0, 0, 0)

    later = FindingContext(ACCOUNT, REGION, repository="org-app", branch="main", commit="def", build_id="2")
    again = import_findings(client, "zap", convert_report("zap", ZAP.read_bytes(), later).findings, later)
    assert (again.imported, again.updated, again.failed) == (0, 3, 0)
    stored = _all_findings(client)
    assert len(stored) == 3
    assert {f["ProductFields"]["provision/Commit"] for f in stored} == {"def"}
    assert {f["CreatedAt"] for f in stored} == {findings[0]["CreatedAt"]}  # first sighting kept

    report = json.loads(ZAP.read_bytes())
    fixed = report["site"][0]["alerts"].pop(2)  # X-Frame-Options fixed in the next build
    third = import_findings(client, "zap", convert_report("zap", json.dumps(report).encode(), later).findings, later)
    assert (third.imported, third.updated, third.resolved) == (0, 2, 1)
    states = {f["ProductFields"]["zap/PluginId"]: f["RecordState"] for f in _all_findings(client)}
    assert states == {"10050": "ACTIVE", "10036": "ACTIVE", fixed["pluginid"]: "ARCHIVED"}


def test_other_scopes_are_never_resolved(aws: str) -> None:
    client = boto3.client("securityhub", region_name=REGION)
    import_findings(client, "zap", convert_report("zap", ZAP.read_bytes(), CTX).findings, CTX)
    other = FindingContext(ACCOUNT, REGION, repository="org-other", branch="main")
    result = import_findings(client, "zap", [], other)
    assert result.resolved == 0
    assert {f["RecordState"] for f in _all_findings(client)} == {"ACTIVE"}


def test_failed_findings_are_retried_with_backoff_and_counted(aws: str) -> None:
    client = boto3.client("securityhub", region_name=REGION)
    findings = convert_report("zap", ZAP.read_bytes(), CTX).findings
    findings[1]["Resources"] = []  # Security Hub refuses a finding without a resource
    sleeps: list[float] = []
    result = import_findings(client, "zap", findings, CTX, backoff=Backoff(sleep=sleeps.append))
    assert (result.imported, result.failed) == (2, 1)
    assert result.failed_ids == [findings[1]["Id"]]
    assert sleeps == [0.5, 1.0, 2.0]


def test_batches_hold_at_most_100_findings(aws: str) -> None:
    client = boto3.client("securityhub", region_name=REGION)
    calls: list[int] = []
    client.meta.events.register(
        "provide-client-params.securityhub.BatchImportFindings",
        lambda params, **_: calls.append(len(params["Findings"])),
    )
    base = convert_report("zap", ZAP.read_bytes(), CTX).findings[0]
    many = [{**base, "Id": f"{base['Id']}-{n}"} for n in range(250)]
    result = import_findings(client, "zap", many, CTX)
    assert result.imported == 250
    assert calls == [100, 100, 50]


def test_lambda_handler_imports_an_s3_report(aws: str) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="reports", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    key = "dependency-check/org/app/main/42/dependency-check-report.json"
    s3.put_object(
        Bucket="reports",
        Key=key,
        Body=(DATA / "dependency-check/golang-fishy-7.1.1.json").read_bytes(),
        Metadata={"commit": "feedbeef"},
    )
    event = {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "reports"}, "object": {"key": key}}}]}
    (result,) = lambda_handler(event, LambdaContext())["results"]
    assert result["status"] == "imported" and result["imported"] == 1
    (stored,) = _all_findings(boto3.client("securityhub", region_name=REGION))
    assert stored["ProductFields"]["provision/Repository"] == "org/app"
    assert stored["ProductFields"]["provision/Commit"] == "feedbeef"
    assert stored["ProductFields"]["provision/BuildId"] == "42"


def test_lambda_handler_direct_invocation_rejects_a_bad_report_without_raising(aws: str) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="reports", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket="reports", Key="upload.json", Body=b'{"site": [')
    payload = {"bucket": "reports", "key": "upload.json", "tool": "zap", "repository": "r", "branch": "b"}
    (result,) = lambda_handler(payload, LambdaContext())["results"]
    assert result["status"] == "rejected"
    assert "invalid JSON" in result["error"]


def test_report_keys_must_follow_the_layout() -> None:
    assert parse_key("zap/my%20repo/main/7/report.json") == {
        "tool": "zap",
        "repository": "my repo",
        "branch": "main",
        "build_id": "7",
    }
    with pytest.raises(FunctionInputError, match="expected <tool>/<repository>"):
        parse_key("zap/report.json")

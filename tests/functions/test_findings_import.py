"""Security Hub side of finding identity: idempotent re-import, old Ids retired, vanished findings resolved.

moto (5.2.5) has no BatchUpdateFindings: the resolution path through it is checked against botocore's own service
model with botocore's Stubber on a real client, and through moto with a stubbed response for that one call.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from provisioner.functions.findings import FindingContext, ImportResult, convert_report, import_findings
from provisioner.functions.findings.handler import lambda_handler
from provisioner.functions.findings.importer import set_workflow_resolved
from tests.functions.helpers import ACCOUNT, DATA, REGION, LambdaContext

CTX = FindingContext(ACCOUNT, REGION, repository="org/app", branch="main", commit="abc", build_id="1")
LATER = FindingContext(ACCOUNT, REGION, repository="org/app", branch="main", commit="def", build_id="2")
REPORTS = sorted(
    str(p.relative_to(DATA)) for d in ("zap", "dependency-check", "sonarqube") for p in (DATA / d).glob("*.json")
)
PRODUCT = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"


def _findings(name: str, ctx: FindingContext = CTX) -> list[dict[str, Any]]:
    return convert_report(Path(name).parts[0], (DATA / name).read_bytes(), ctx, source=name).findings


def _stored(client: Any) -> dict[str, dict[str, Any]]:
    return {f["Id"]: f for page in client.get_paginator("get_findings").paginate() for f in page["Findings"]}


def test_reimporting_each_report_creates_nothing_new(aws: str) -> None:
    """Every fixture report, each in its own repository scope (one moto server state for all of them)."""
    client = boto3.client("securityhub", region_name=REGION)
    for name in REPORTS:
        tool, repo = Path(name).parts[0], f"org/{Path(name).stem}"
        first_ctx, later_ctx = (FindingContext(ACCOUNT, REGION, repo, "main", build_id=b) for b in ("1", "2"))
        count = len(_findings(name, first_ctx))
        first = import_findings(client, tool, _findings(name, first_ctx), first_ctx)
        again = import_findings(client, tool, _findings(name, later_ctx), later_ctx)
        assert (first.imported, first.updated, first.failed, first.resolved) == (count, 0, 0, 0), name
        assert (again.imported, again.updated, again.failed, again.resolved, again.resolution) == (
            0,
            count,
            0,
            0,
            "none",
        ), name
        stored = [f for f in _stored(client).values() if f["ProductFields"]["provision/Repository"] == repo]
        assert len(stored) == count and {f["RecordState"] for f in stored} <= {"ACTIVE"}, name


def _old_id(tool: str, repository: str, rule: str, location: str) -> str:
    """The Id scheme before issue 15: (tool, repository, rule, location), no branch."""
    digest = hashlib.sha256("\x1f".join((tool, repository, rule, location)).encode()).hexdigest()
    return f"provision/{tool}/{digest[:40]}"


def test_findings_filed_under_the_old_ids_are_archived_by_the_next_import(aws: str) -> None:
    client = boto3.client("securityhub", region_name=REGION)
    name = "zap/report_json-2.8.0.json"
    new = _findings(name)
    old = [
        {**f, "Id": _old_id("zap", "org/app", f["ProductFields"]["zap/PluginId"], f["ProductFields"]["zap/Site"])}
        for f in new
    ]
    assert import_findings(client, "zap", old, CTX).imported == 3  # what the previous version filed
    result = import_findings(client, "zap", _findings(name, LATER), LATER)
    assert (result.imported, result.updated, result.resolved, result.failed) == (3, 0, 3, 0)
    assert result.resolution == "archive_reimport"  # moto has no BatchUpdateFindings
    assert any("BatchUpdateFindings unavailable (404)" in w for w in result.warnings)
    states = {fid: f["RecordState"] for fid, f in _stored(client).items()}
    assert states == {**{f["Id"]: "ARCHIVED" for f in old}, **{f["Id"]: "ACTIVE" for f in new}}
    assert import_findings(client, "zap", _findings(name, LATER), LATER).resolved == 0  # archived once


def _stub_batch_update_findings(client: Any, calls: list[dict[str, Any]], unprocessed: int = 0) -> None:
    """Answer BatchUpdateFindings on this client (after botocore validated the request) as Security Hub does."""

    def capture(params: dict[str, Any], **_: Any) -> None:
        calls.append(params)

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        ids = calls[-1]["FindingIdentifiers"]
        failed = [
            {"FindingIdentifier": i, "ErrorCode": "FindingNotFound", "ErrorMessage": "x"} for i in ids[:unprocessed]
        ]
        return AWSResponse("", 200, {}, None), {"ProcessedFindings": ids[unprocessed:], "UnprocessedFindings": failed}

    client.meta.events.register("before-parameter-build.securityhub.BatchUpdateFindings", capture)
    client.meta.events.register("before-call.securityhub.BatchUpdateFindings", answer)


def test_vanished_findings_are_resolved_with_batch_update_findings_and_archived(aws: str) -> None:
    client = boto3.client("securityhub", region_name=REGION)
    calls: list[dict[str, Any]] = []
    _stub_batch_update_findings(client, calls)
    name = "sonarqube/dependency-check-plugin-issues.json"
    import_findings(client, "sonarqube", _findings(name), CTX)
    report = json.loads((DATA / name).read_bytes())
    fixed = report["issues"][2]  # gopkg.in/yaml.v3 upgraded
    fixed.update(status="CLOSED", resolution="FIXED")
    later = convert_report("sonarqube", json.dumps(report).encode(), LATER).findings
    result = import_findings(client, "sonarqube", later, LATER)
    assert (result.resolution, result.workflow_resolved, result.resolved, result.updated) == (
        "batch_update_findings",
        1,
        1,
        3,
    )
    (gone_id,) = set(_stored(client)) - {f["Id"] for f in later}
    assert calls == [
        {"FindingIdentifiers": [{"Id": gone_id, "ProductArn": PRODUCT}], "Workflow": {"Status": "RESOLVED"}}
    ]
    assert _stored(client)[gone_id]["RecordState"] == "ARCHIVED"


def _real_client() -> Any:
    return botocore.session.get_session().create_client(
        "securityhub", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s"
    )


def _gone(count: int) -> list[dict[str, Any]]:
    return [{"Id": f"provision/zap/{n:040d}", "ProductArn": PRODUCT} for n in range(count)]


def test_batch_update_findings_requests_match_the_service_model_in_batches_of_100() -> None:
    client, gone = _real_client(), _gone(150)
    idents = [{"Id": f["Id"], "ProductArn": PRODUCT} for f in gone]
    result = ImportResult()
    with Stubber(client) as stub:  # validates our request and the canned response against the service model
        stub.add_response(
            "batch_update_findings",
            {"ProcessedFindings": idents[:100], "UnprocessedFindings": []},
            {"FindingIdentifiers": idents[:100], "Workflow": {"Status": "RESOLVED"}},
        )
        stub.add_response(
            "batch_update_findings",
            {
                "ProcessedFindings": idents[101:],
                "UnprocessedFindings": [
                    {"FindingIdentifier": idents[100], "ErrorCode": "FindingNotFound", "ErrorMessage": "gone"}
                ],
            },
            {"FindingIdentifiers": idents[100:], "Workflow": {"Status": "RESOLVED"}},
        )
        done = set_workflow_resolved(client, gone, result)
        stub.assert_no_pending_responses()
    assert done == {f["Id"] for f in gone} - {idents[100]["Id"]}
    assert result.warnings == [f"{idents[100]['Id']}: workflow not set to RESOLVED: FindingNotFound"]


def test_a_denied_batch_update_findings_falls_back_to_archiving() -> None:
    client, result = _real_client(), ImportResult()
    with Stubber(client) as stub:
        stub.add_client_error("batch_update_findings", "AccessDeniedException", "not authorized", 403)
        assert set_workflow_resolved(client, _gone(3), result) is None
    assert result.warnings == [
        "BatchUpdateFindings unavailable (AccessDeniedException): vanished findings archived only"
    ]


def test_lambda_result_says_what_was_merged_and_how_vanished_findings_were_resolved(aws: str) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="reports", CreateBucketConfiguration={"LocationConstraint": REGION})
    key = "sonarqube/org/app/main/7/issues.json"
    s3.put_object(Bucket="reports", Key=key, Body=(DATA / "sonarqube/defectdojo-findings-over-api.json").read_bytes())
    event = {"Records": [{"s3": {"bucket": {"name": "reports"}, "object": {"key": key}}}]}
    (result,) = lambda_handler(event, LambdaContext())["results"]
    assert (result["findings"], result["imported"], result["resolution"]) == (4, 4, "none")
    assert [(m["identity"], m["entries"]) for m in result["merged"]] == [("SonarQube issue key fjioefjwoefisdfjo", 2)]

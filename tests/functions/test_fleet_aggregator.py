"""The fleet's aggregation Lambda against S3 and SNS on a moto server: every target reported (a missing or
broken report is an error, never clean), the topic told on new, changed and resolved drift only."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from provisioner.functions.errors import FunctionInputError
from provisioner.functions.fleet import handler

BUCKET = "fleet-results"
TARGETS = [
    {"name": "dev", "role": "arn:aws:iam::111111111111:role/devsecops-fleet-drift"},
    {"name": "prod", "role": "arn:aws:iam::333333333333:role/devsecops-fleet-drift"},
]


def _env(name: str, status: str, changed: list[str] | None = None) -> dict[str, Any]:
    terraform = {"changed_outside": [{"address": a} for a in changed or []], "pending": []}
    return {
        "environment": name, "workspace": name, "region": "eu-west-1", "status": status, "errors": [],
        "duration_seconds": 3.0, "terraform": terraform, "posture": [], "unmanaged": [], "opensearch": None,
    }  # fmt: skip


def _report(env: dict[str, Any]) -> bytes:
    return json.dumps({"schema": 1, "aws_checks": True, "environments": [env]}).encode()


@pytest.fixture
def fleet(aws: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket=BUCKET, Key="fleet.json", Body=json.dumps(TARGETS).encode())
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    monkeypatch.setenv("RESULTS_BUCKET", BUCKET)
    monkeypatch.setenv("ALERTS_TOPIC_ARN", topic)
    return {"s3": s3, "sqs": sqs, "queue": queue}


def _run(fleet: dict[str, Any], run: str, reports: dict[str, bytes]) -> tuple[dict[str, Any], list[str]]:
    for name, body in reports.items():
        fleet["s3"].put_object(Bucket=BUCKET, Key=f"runs/{run}/{name}.json", Body=body)
    result = handler.lambda_handler({"run": run}, None)
    got = fleet["sqs"].receive_message(QueueUrl=fleet["queue"], MaxNumberOfMessages=10, WaitTimeSeconds=0)
    messages = [m["Body"] for m in got.get("Messages", [])]
    for m in got.get("Messages", []):
        fleet["sqs"].delete_message(QueueUrl=fleet["queue"], ReceiptHandle=m["ReceiptHandle"])
    return result, messages


def test_notifies_new_drift_then_stays_silent_then_notifies_resolution(fleet: dict[str, Any]) -> None:
    drifted = {
        "dev": _report(_env("dev", "drift", ["module.shared.aws_s3_bucket.x"])),
        "prod": _report(_env("prod", "clean")),
    }
    first, messages = _run(fleet, "night-1", drifted)
    assert first["exit_code"] == 2 and first["summary"] == {"environments": 2, "clean": 1, "drift": 1, "error": 0}
    assert first["message_id"] and len(messages) == 1 and "- dev: drift" in messages[0]

    same, messages = _run(fleet, "night-2", drifted)  # same drift, another night: silent
    assert same["message_id"] is None and messages == []

    other = {**drifted, "dev": _report(_env("dev", "drift", ["module.shared.aws_kms_key.this"]))}
    changed, messages = _run(fleet, "night-3", other)  # different drift: told again
    assert changed["message_id"] and len(messages) == 1

    clean = {"dev": _report(_env("dev", "clean")), "prod": _report(_env("prod", "clean"))}
    resolved, messages = _run(fleet, "night-4", clean)
    assert resolved["exit_code"] == 0 and resolved["message_id"] and "All drift resolved." in messages[0]

    quiet, messages = _run(fleet, "night-5", clean)
    assert quiet["message_id"] is None and messages == []
    merged = json.loads(fleet["s3"].get_object(Bucket=BUCKET, Key="runs/night-5/fleet.json")["Body"].read())
    assert [e["environment"] for e in merged["environments"]] == ["dev", "prod"]
    assert json.loads(fleet["s3"].get_object(Bucket=BUCKET, Key="latest.json")["Body"].read()) == merged


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (None, "no drift report: the build failed before writing one"),
        (b"{not json", "not JSON"),
        (
            json.dumps({"schema": 1, "environments": [{"environment": "dev", "status": "meh"}]}).encode(),
            "environments[0]",
        ),
        (_report(_env("staging", "clean")), "holds no result for prod"),
        (b"[" * 50_000 + b"]" * 50_000, "not JSON"),
    ],
)
def test_a_missing_or_broken_report_is_an_error_never_clean(
    fleet: dict[str, Any], body: bytes | None, reason: str
) -> None:
    reports = {"dev": _report(_env("dev", "clean"))}
    if body is not None:
        reports["prod"] = body
    result, messages = _run(fleet, "night-x", reports)
    assert result["exit_code"] == 1 and result["summary"]["error"] == 1
    merged = json.loads(fleet["s3"].get_object(Bucket=BUCKET, Key="latest.json")["Body"].read())
    prod = next(e for e in merged["environments"] if e["workspace"] == "prod")
    assert prod["status"] == "error" and reason in prod["errors"][0]
    assert len(messages) == 1 and "- prod: error" in messages[0]


def test_refuses_a_run_name_that_is_not_an_execution_name(fleet: dict[str, Any]) -> None:
    with pytest.raises(FunctionInputError, match="run"):
        handler.lambda_handler({"run": "../../etc"}, None)

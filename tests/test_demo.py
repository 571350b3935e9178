"""`provision demo` on the emulator: the built-in techniques, and every one replayed through the real path.

The catalogue test is in-process (each technique's records, normalised by the Lambdas' own code, match the rule
written for it). The replay test starts the real emulator process and creates on it, named as the modules name
them, the parts of `local` an attack flows through: the trail's log group with its subscription, the CloudTrail
and GuardDuty normalisers and the response Lambda from the zip `provisioner.package` builds, the EventBridge rule,
the domain (its osmem data plane) configured by the real configurator Lambda with `local`'s own content, and
the alert topic. Then it runs `provision demo attack --env local --technique all` as a user would. The whole
stack applied by Terraform (`make up`) is the journey test's part (tests/test_local_e2e.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from provisioner.demo.techniques import Target, cloudtrail_records, guardduty_event, load
from provisioner.emulator import launcher
from provisioner.emulator.target import emulator_env
from provisioner.project import Project, WorkspaceRef

pytestmark = pytest.mark.slow  # a real emulator with Lambdas, a data plane and Security Hub

REPO = Path(__file__).resolve().parents[1]
REGION = "eu-west-1"
PREFIX = "dso-local"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip


def test_every_technique_matches_the_rule_written_for_it() -> None:
    from provisioner.rules import load_catalogue
    from provisioner.rules.engine import Engine
    from provisioner.rules.events import normalise_records

    engine = Engine(load_catalogue(REPO / "rules", REPO))
    target = Target("123456789012", REGION, PREFIX)
    techniques = load()
    assert len(techniques) >= 8 and {t.source for t in techniques.values()} >= {"cloudtrail", "guardduty"}
    for technique in techniques.values():
        now = datetime.now(UTC)
        if technique.source == "guardduty":
            records = [guardduty_event(technique, target, now)]
        else:
            records = cloudtrail_records(technique, target, now)
        events, skipped = normalise_records(records)
        assert events and skipped == 0, technique.name
        result = engine.run(events)[technique.rule]
        assert result.events or result.groups, f"{technique.name}: {technique.rule} did not match"


def _provision(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "provisioner.cli", "--project", str(root), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)


def test_demo_list_names_the_rule_of_each_technique(tmp_path: Path) -> None:
    listed = json.loads(_provision(REPO, "demo", "list", "--format", "json").stdout)
    assert [t["name"] for t in listed] == list(load())
    assert all(t["rule"] and t["attack"] and t["references"] for t in listed)


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("demo")
    for name in ("environments", "rules", "modules"):
        shutil.copytree(REPO / name, root / name)
    project = Project(root)
    running = launcher.ensure_running(project)
    saved = dict(os.environ)
    os.environ.update(emulator_env(running.endpoint, REGION))
    try:
        _build(project)
        yield root
    finally:
        os.environ.clear()
        os.environ.update(saved)
        launcher.stop(project)


def _function(role: str, name: str, handler: str, env: dict[str, str]) -> str:
    from provisioner.package import build_zip_bytes

    fn = boto3.client("lambda", region_name=REGION).create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler=handler, Code={"ZipFile": build_zip_bytes()},
        Timeout=120, Environment={"Variables": env},
    )  # fmt: skip
    return str(fn["FunctionArn"])


def _configure(project: Project, role: str, endpoint: str) -> None:
    from provisioner.opensearch.environment import content_for
    from provisioner.package import LAMBDA_FUNCTIONS
    from provisioner.workspace import load_spec

    content = content_for(project, load_spec(project, WorkspaceRef.parse("local")))
    _function(role, f"{PREFIX}-os-configurator", LAMBDA_FUNCTIONS["opensearch_configurator"], {})
    bindings = {"admin_role_arn": role, "alerts_publish_role_arn": role, "ingest_role_arns": [role],
                "alerts_topic_arn": f"arn:aws:sns:{REGION}:123456789012:{PREFIX}-security-alerts"}  # fmt: skip
    event = {"mode": "apply", "endpoint": endpoint, "admin_role_arn": role, "bindings": bindings,
             "content": json.dumps(content)}  # fmt: skip
    reply = boto3.client("lambda", region_name=REGION).invoke(
        FunctionName=f"{PREFIX}-os-configurator", Payload=json.dumps(event).encode()
    )
    result = json.loads(reply["Payload"].read())
    assert "FunctionError" not in reply, result
    assert result["counts"]["created"] == 3 and "monitor" in result["skipped"]


def _build(project: Project) -> None:
    from provisioner.package import LAMBDA_FUNCTIONS

    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="demo-fn", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    domain = boto3.client("opensearch", region_name=REGION).create_domain(DomainName=f"{PREFIX}-os")["DomainStatus"]
    endpoint = "https://" + (domain.get("Endpoint") or domain["Endpoints"]["vpc"])
    _configure(project, role, endpoint)
    boto3.client("sns", region_name=REGION).create_topic(Name=f"{PREFIX}-security-alerts")
    index = {"OPENSEARCH_ENDPOINT": endpoint, "INDEX_PREFIX": "logs"}
    trail_fn = _function(role, f"{PREFIX}-cloudtrail-normalizer", LAMBDA_FUNCTIONS["cloudtrail_normalizer"], index)
    logs = boto3.client("logs", region_name=REGION)
    group = f"/aws/cloudtrail/{PREFIX}"
    logs.create_log_group(logGroupName=group)
    logs.put_subscription_filter(logGroupName=group, filterName="n", filterPattern="", destinationArn=trail_fn)
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=f"{PREFIX}-trail", CreateBucketConfiguration={"LocationConstraint": REGION})
    group_arn = f"arn:aws:logs:{REGION}:123456789012:log-group:{group}:*"
    boto3.client("cloudtrail", region_name=REGION).create_trail(
        Name=f"{PREFIX}-trail", S3BucketName=f"{PREFIX}-trail", CloudWatchLogsLogGroupArn=group_arn,
        CloudWatchLogsRoleArn=role,
    )  # fmt: skip
    gd_fn = _function(role, f"{PREFIX}-guardduty-normalizer", LAMBDA_FUNCTIONS["guardduty_normalizer"], index)
    policy = {"dry_run": True}
    response_fn = _function(role, f"{PREFIX}-guardduty-response", LAMBDA_FUNCTIONS["guardduty_response"],
                            {"RESPONSE_POLICY": json.dumps(policy)})  # fmt: skip
    events = boto3.client("events", region_name=REGION)
    pattern = {"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"]}
    events.put_rule(Name=f"{PREFIX}-guardduty-findings", EventPattern=json.dumps(pattern))
    events.put_targets(Rule=f"{PREFIX}-guardduty-findings", Targets=[{"Id": "n", "Arn": gd_fn}])
    events.put_rule(Name=f"{PREFIX}-guardduty-response", EventPattern=json.dumps(pattern))
    events.put_targets(Rule=f"{PREFIX}-guardduty-response", Targets=[{"Id": "r", "Arn": response_fn}])
    topic = f"arn:aws:sns:{REGION}:123456789012:{PREFIX}-security-alerts"
    events.put_rule(Name=f"{PREFIX}-guardduty-high-severity", EventPattern=json.dumps(pattern))
    events.put_targets(Rule=f"{PREFIX}-guardduty-high-severity", Targets=[{"Id": "sns", "Arn": topic}])
    _findings_path(role)


def _findings_path(role: str) -> None:
    from provisioner.package import LAMBDA_FUNCTIONS

    importer = _function(role, f"{PREFIX}-findings-importer", LAMBDA_FUNCTIONS["findings_importer"], {})
    bucket = f"{PREFIX}-reports-123456789012-{REGION}"
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    rules = [{"Name": "prefix", "Value": "zap/"}, {"Name": "suffix", "Value": ".json"}]
    notify = {
        "LambdaFunctionArn": importer,
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": rules}},
    }
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": [notify]}
    )
    boto3.client("securityhub", region_name=REGION).enable_security_hub(EnableDefaultStandards=False)


def test_every_technique_raises_its_alert_on_the_emulator(local_stack: Path) -> None:
    done = _provision(local_stack, "demo", "attack", "--env", "local", "--technique", "all", "--format", "json")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results: list[dict[str, Any]] = json.loads(done.stdout)
    techniques = load()
    assert [r["technique"] for r in results] == list(techniques)
    for result in results:
        assert result["indexed"] == result["records_sent"] >= 1, result
        fired = {a["monitor"]: a for a in result["alerts"]}
        assert techniques[result["technique"]].rule in fired, result
        assert all(a["message_id"] and a["matches"] >= 1 for a in result["alerts"])
    # Each replay is judged on its own documents: an earlier technique's alert does not fire again.
    assert [r["technique"] for r in results if "cloudtrail-trail-tampering" in str(r["alerts"])] == [
        "cloudtrail-stop-logging"
    ]
    (guardduty,) = [r for r in results if r["technique"] == "guardduty-finding-high"]
    assert guardduty["response"] and guardduty["response"][0]["finding"]["severity"] == 8


def test_a_scanner_report_in_the_bucket_reaches_security_hub(local_stack: Path) -> None:
    report = REPO / "tests" / "data" / "zap" / "report_json-2.8.0.json"
    done = _provision(local_stack, "demo", "findings", "--env", "local", "--tool", "zap", "--report", str(report))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["imported"] == len(result["findings"]) >= 1
    assert all(f["generator"].startswith("provision/zap/") for f in result["findings"])


def test_up_on_local_names_what_the_configurator_skipped(local_stack: Path) -> None:
    from provisioner.aws import reset_sessions
    from provisioner.emulator.target import next_steps
    from provisioner.workspace import load_spec

    reset_sessions()
    text = next_steps(load_spec(Project(local_stack), WorkspaceRef.parse("local")))
    (line,) = [t for t in text.splitlines() if t.startswith("OpenSearch content not applied")]
    skipped = json.loads(line.split("per kind: ", 1)[1])
    assert set(skipped) == {"security_role", "security_role_mapping", "ism_policy", "notification_channel",
                            "saved_object", "monitor"}  # fmt: skip
    assert "provision demo attack --env local" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--technique", "nope"], "error: --technique nope: unknown; one of cloudtrail-stop-logging"),
        (["--technique", "all", "--events", "x.json"], "error: --technique, --events: give one of them"),
        (["--events", "missing.json"], "error: missing.json: cannot read"),
    ],
)
def test_demo_attack_refuses_bad_input_in_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    done = _provision(REPO, "demo", "attack", "--env", "local", *args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(message) and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_demo_attack_refuses_an_environment_on_aws() -> None:
    done = _provision(REPO, "demo", "attack", "--env", "dev")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: environments/dev.yaml: target: demo runs on the emulator target only (this environment is aws)"
    )


def test_demo_attack_replays_a_file_of_cloudtrail_records(local_stack: Path, tmp_path: Path) -> None:
    technique = load()["iam-attach-admin-policy"]
    records = cloudtrail_records(technique, Target("123456789012", REGION, PREFIX), datetime.now(UTC))
    events = tmp_path / "trail.json"
    events.write_text(json.dumps({"Records": records}))
    done = _provision(local_stack, "demo", "attack", "--env", "local", "--events", str(events), "--format", "json")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert (result["technique"], result["records_sent"], result["indexed"]) == ("trail.json", 1, 1)
    assert "cloudtrail-iam-admin-policy-attached" in {a["monitor"] for a in result["alerts"]}

"""`provision up/plan/apply/scan/bootstrap` end to end: real terraform, offline null provider, moto for AWS.

Driven through the CLI (the same code path as the AWS stack) on the fixture project.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import yaml
from typer.testing import CliRunner, Result

from provisioner.cli import app
from tests.usecase_support import UP_STEPS, in_order

SECRET = "not-a-real-secret"


def cli(project: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["--project", str(project), *args])


def _up(project: Path, plugin_dir: Path, env: str = "dev", *extra: str) -> Result:
    return cli(project, "up", "--env", env, "--auto-approve", "--plugin-dir", str(plugin_dir), *extra)


def test_up_applies_then_reports_no_changes(fixture_project: Path, plugin_dir: Path, aws: str) -> None:
    first = _up(fixture_project, plugin_dir)
    assert first.exit_code == 0, first.output
    out = first.output
    assert in_order(out, UP_STEPS), out
    assert "AWS account 123456789012" in out
    assert SECRET not in out
    state = json.loads((fixture_project / ".provision" / "dev" / "terraform.tfstate").read_text())
    assert len([r for r in state["resources"] if r["type"] == "null_resource"]) == 1
    assert len(state["resources"][0]["instances"]) == 3
    # The plan (with its unmasked values) is gone once applied.
    assert not (fixture_project / ".provision" / "dev" / "plan" / "tfplan.json").exists()

    second = _up(fixture_project, plugin_dir)
    assert second.exit_code == 0, second.output
    assert "no changes: dev is up to date" in second.output


def test_failing_checkov_scan_blocks_everything(
    fixture_project: Path, plugin_dir: Path, aws: str, tmp_path: Path
) -> None:
    result = _up(fixture_project, plugin_dir, "insecure", "--report-dir", str(tmp_path / "r"))
    assert result.exit_code == 1, result.output
    assert "Checkov configuration scan failed" in result.output
    assert "FAILED CKV_AWS_24 module.insecure_bucket.aws_security_group_rule.ssh_from_anywhere" in result.output
    assert "modules/insecure_bucket/main.tf:25" in result.output
    work = fixture_project / ".provision" / "insecure"
    # terraform init runs alongside the configuration scan (issue 17); nothing is planned, kept or applied.
    assert not (work / "terraform.tfstate").exists()
    assert not (work / "plan").exists()
    assert "Checkov: scanning the plan" not in result.output
    scans = json.loads((tmp_path / "r" / "checkov.json").read_text())
    assert [(s["target"], s["ok"]) for s in scans] == [("config", False)]
    assert (tmp_path / "r" / "checkov.junit.xml").exists()
    sarif = json.loads((tmp_path / "r" / "checkov.sarif").read_text())
    assert [run["automationDetails"]["id"] for run in sarif["runs"]] == ["checkov-config/insecure/"]


def test_policy_skip_with_reason_is_reported_as_used(fixture_project: Path, aws: str) -> None:
    env = fixture_project / "environments" / "insecure.yaml"
    data = yaml.safe_load(env.read_text())
    data["checkov"] = {
        "skip": [
            {"id": "CKV_AWS_24", "reason": "fixture: SSH exposure is the point of this test"},
            {"id": "CKV_AWS_999", "reason": "never matches anything in this fixture"},
            # Scoped to a resource that is not the failing one: the check still fails.
            {"id": "CKV_AWS_18", "reason": "access logging is not wanted on this one", "resources": ["*.other"]},
            {"id": "CKV_AWS_21", "reason": "versioning is not wanted on this one", "resources": ["*.open"]},
        ]
    }
    env.write_text(yaml.safe_dump(data))
    result = cli(fixture_project, "scan", "--env", "insecure", "--format", "json")
    assert result.exit_code == 1  # other checks still fail
    report = json.loads(result.output)
    assert [s["check_id"] for s in report["skipped"]] == ["CKV_AWS_21", "CKV_AWS_24"]
    assert report["skipped"][1]["reason"].startswith("fixture: SSH exposure")
    failed = {f["check_id"] for f in report["failed"]}
    assert "CKV_AWS_24" not in failed and "CKV_AWS_21" not in failed
    assert "CKV_AWS_18" in failed
    assert report["unused_skips"] == ["CKV_AWS_18", "CKV_AWS_999"]


def test_scan_passes_on_clean_env_and_writes_reports(fixture_project: Path, tmp_path: Path, aws: str) -> None:
    result = cli(fixture_project, "scan", "--env", "dev", "--report-dir", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    suites = ET.parse(tmp_path / "r" / "checkov.junit.xml").getroot()
    assert suites.tag == "testsuites" and suites[0].get("failures") == "0"
    assert json.loads((tmp_path / "r" / "checkov.json").read_text())[0]["ok"] is True


def test_plan_then_apply_and_refusals(fixture_project: Path, plugin_dir: Path, aws: str, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    planned = cli(
        fixture_project, "plan", "--env", "dev", "--plugin-dir", str(plugin_dir), "--report-dir", str(reports)
    )
    assert planned.exit_code == 0, planned.output
    assert "plan kept at .provision/dev/plan/tfplan" in planned.output
    assert {p.name for p in reports.iterdir()} >= {
        "checkov.json",
        "checkov.junit.xml",
        "checkov.sarif",
        "plan-summary.json",
        "plan-summary.md",
    }
    summary = json.loads((reports / "plan-summary.json").read_text())
    assert SECRET not in json.dumps(summary)

    # A changed configuration after the plan: apply refuses and applies nothing.
    env = fixture_project / "environments" / "dev.yaml"
    original = env.read_text()
    env.write_text(original.replace("count_of_markers: 3", "count_of_markers: 4"))
    refused = cli(fixture_project, "apply", "--env", "dev", "--auto-approve", "--plugin-dir", str(plugin_dir))
    assert refused.exit_code == 1
    assert "configuration changed since the plan was scanned" in refused.output
    assert not (fixture_project / ".provision" / "dev" / "terraform.tfstate").exists()

    # Back to the scanned configuration: a tampered plan file is refused too.
    env.write_text(original)
    plan_file = fixture_project / ".provision" / "dev" / "plan" / "tfplan"
    good = plan_file.read_bytes()
    plan_file.write_bytes(good + b"x")
    tampered = cli(fixture_project, "apply", "--env", "dev", "--auto-approve", "--plugin-dir", str(plugin_dir))
    assert tampered.exit_code == 1
    assert "not the one that was scanned" in tampered.output

    plan_file.write_bytes(good)
    applied = cli(fixture_project, "apply", "--env", "dev", "--auto-approve", "--plugin-dir", str(plugin_dir))
    assert applied.exit_code == 0, applied.output
    assert "applied dev" in applied.output
    again = cli(fixture_project, "apply", "--env", "dev", "--auto-approve")
    assert again.exit_code == 1 and "no scanned plan" in again.output


def test_apply_without_terminal_needs_auto_approve(fixture_project: Path, plugin_dir: Path, aws: str) -> None:
    result = cli(fixture_project, "up", "--env", "dev", "--plugin-dir", str(plugin_dir))
    assert result.exit_code == 1
    assert "no terminal to confirm on" in result.output
    assert not (fixture_project / ".provision" / "dev" / "terraform.tfstate").exists()


def test_wrong_account_refuses_before_terraform(fixture_project: Path, plugin_dir: Path, aws: str) -> None:
    env = fixture_project / "environments" / "dev.yaml"
    env.write_text(env.read_text() + 'account_ids: ["999999999999"]\n')
    result = _up(fixture_project, plugin_dir)
    assert result.exit_code == 1
    assert "credentials are for account 123456789012" in result.output
    assert "allows only 999999999999" in result.output
    assert not (fixture_project / ".provision").exists()  # nothing rendered, terraform never ran


def test_no_credentials_is_a_clear_error(
    fixture_project: Path,
    plugin_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    from provisioner import aws as aws_helpers

    aws_helpers._session.cache_clear()
    result = _up(fixture_project, plugin_dir)
    assert result.exit_code == 1
    assert "no AWS credentials found" in result.output
    assert "Traceback" not in result.output


def test_offline_provider_stops_with_clear_message(fixture_project: Path, aws: str) -> None:
    result = cli(fixture_project, "up", "--env", "offline", "--auto-approve")
    assert result.exit_code == 1
    assert "Checkov: scanning the rendered configuration" in result.output
    assert "offline: render, validate and the Checkov scan passed" in result.output
    assert "hashicorp/aws" in result.output
    assert "--plugin-dir" in result.output


def test_bootstrap_is_idempotent(fixture_project: Path, aws: str) -> None:
    import boto3

    first = cli(fixture_project, "bootstrap", "--env", "remote")
    assert first.exit_code == 0, first.output
    assert "created bucket fixture-tfstate-123456789012-eu-west-1" in first.output
    # Terraform >= 1.10 locks with a lock file next to the state: no DynamoDB table (tests/test_backend.py).
    assert "S3-native locking, no lock table" in first.output
    assert boto3.client("dynamodb", region_name="eu-west-1").list_tables()["TableNames"] == []
    second = cli(fixture_project, "bootstrap", "--env", "remote")
    assert second.exit_code == 0, second.output
    assert "no changes" in second.output

    s3 = boto3.client("s3", region_name="eu-west-1")
    bucket = "fixture-tfstate-123456789012-eu-west-1"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # The rendered backend points at what bootstrap created.
    rendered = cli(fixture_project, "render", "--env", "remote")
    assert rendered.exit_code == 0
    main = (fixture_project / ".provision" / "remote" / "main.tf").read_text()
    assert f'bucket  = "{bucket}"' in main and "dynamodb_table" not in main


def test_summarize_real_plan(fixture_project: Path, plugin_dir: Path, aws: str, tmp_path: Path) -> None:
    planned = cli(fixture_project, "plan", "--env", "dev", "--plugin-dir", str(plugin_dir))
    assert planned.exit_code == 0, planned.output
    plan_json = fixture_project / ".provision" / "dev" / "plan" / "tfplan.json"
    assert oct(plan_json.stat().st_mode & 0o777) == "0o600"
    result = cli(fixture_project, "summarize", str(plan_json), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert SECRET not in result.output
    assert json.dumps(data)  # well-formed
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    broken = cli(fixture_project, "summarize", str(bad))
    assert broken.exit_code == 2 and "not JSON" in broken.output


def test_ctrl_c_during_apply_leaves_no_lock_and_valid_state(fixture_project: Path, plugin_dir: Path, aws: str) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1", CI="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "provisioner.cli",
            "--project",
            str(fixture_project),
            "up",
            "--env",
            "slow",
            "--auto-approve",
            "--plugin-dir",
            str(plugin_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        seen.append(line)
        if "module.sleeper.null_resource.sleep" in line and "terraform apply" in "".join(seen):
            break
        assert time.monotonic() < deadline, "".join(seen)
    time.sleep(1.0)  # let the provisioner start sleeping
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    output = "".join(seen) + rest
    assert proc.returncode == 130, output
    assert "Interrupted" in output
    work = fixture_project / ".provision" / "slow"
    assert not (work / ".terraform.tfstate.lock.info").exists()
    state = json.loads((work / "terraform.tfstate").read_text())
    assert state["version"] == 4

"""`provision findings ...` and `provision logs normalize` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
from typer.testing import CliRunner

from provisioner.cli import app
from tests.functions.helpers import ACCOUNT, DATA, REGION

runner = CliRunner()
COMMON = ["--account", ACCOUNT, "--region", REGION, "--repository", "org/app", "--branch", "main"]


def test_convert_prints_a_json_array_of_asff() -> None:
    result = runner.invoke(
        app,
        ["findings", "convert", "--tool", "sonarqube", str(DATA / "sonarqube/sonarqube-pr-issues-page.json"), *COMMON],
    )
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)
    assert [f["Severity"]["Label"] for f in findings] == ["MEDIUM", "MEDIUM"]
    assert findings[0]["AwsAccountId"] == ACCOUNT


def test_bad_input_exits_2_with_file_and_reason(tmp_path: Path) -> None:
    truncated = tmp_path / "zap.json"
    truncated.write_bytes((DATA / "zap/report_json-2.8.0.json").read_bytes()[:300])
    result = runner.invoke(app, ["findings", "convert", "--tool", "zap", str(truncated), *COMMON])
    assert result.exit_code == 2
    assert f"error: {truncated}: invalid JSON at line 1" in result.stderr
    missing = runner.invoke(app, ["findings", "convert", "--tool", "zap", str(tmp_path / "nope.json"), *COMMON])
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
    bad_account = [*COMMON]
    bad_account[1] = "12345"
    wrong = runner.invoke(
        app, ["findings", "convert", "--tool", "zap", str(DATA / "zap/basic-traditional-json.json"), *bad_account]
    )
    assert wrong.exit_code == 2 and "12-digit" in wrong.stderr


def test_import_sends_findings_to_security_hub_on_moto(aws: str) -> None:
    args = ["findings", "import", "--tool", "zap", str(DATA / "zap/report_json-2.8.0.json"), *COMMON, "--build-id", "9"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["imported"] == 3
    again = json.loads(runner.invoke(app, args).stdout)
    assert (again["imported"], again["updated"]) == (0, 3)
    client = boto3.client("securityhub", region_name=REGION)
    assert len(client.get_findings()["Findings"]) == 3


def test_logs_normalize_prints_ndjson_and_counts_skips(tmp_path: Path) -> None:
    log = tmp_path / "waf.log"
    log.write_bytes((DATA / "waf/test-waf.log").read_bytes() + b'{"broken": \n')
    result = runner.invoke(app, ["logs", "normalize", "--source", "waf", str(log)])
    assert result.exit_code == 0
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["event"]["action"] for d in docs] == ["block", "allow", "block", "block"]
    assert "skipped 1 malformed records" in result.stderr

"""The Checkov gate (issues 12 and 17): one Checkov start-up per run, same verdicts and reports as the CLI,
the plan gate on a real plan, content-addressed reuse for `provision scan`, Ctrl-C without strays.

Real parts: Checkov from its own venv, terraform 1.0.3, the null provider, the aws provider 5.100.0 mirror
(/opt/tf-plugins, or PROVISION_AWS_PLUGIN_DIR) against a moto server.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from provisioner.cli import app
from provisioner.project import Project
from provisioner.render import render
from provisioner.scan import ScanSession, config_scan_key
from provisioner.spec import load_environment
from tests.test_sarif import assert_valid_sarif, resource_line

# Every test here runs the real Checkov (a worker or CLI processes): `make test` only.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
AWS_MIRROR = Path(os.environ.get("PROVISION_AWS_PLUGIN_DIR", "/opt/tf-plugins"))


def cli(project: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["--project", str(project), *args])


def _comparable(report: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in report.items() if k not in ("reused",)}


def test_worker_gives_the_cli_verdict(fixture_project: Path) -> None:
    """Same flags, same policy, same outcome: the forking worker and a plain `checkov` process agree."""
    project = Project(fixture_project)
    spec = load_environment(project, "insecure")
    root = render(project, spec).work_dir
    with ScanSession(spec.checkov, base=fixture_project) as worker:
        assert worker.runner.mode == "worker"
        from_worker = worker.scan_config(root)
    with ScanSession(spec.checkov, base=fixture_project, use_worker=False) as plain:
        assert plain.runner.mode == "cli"
        from_cli = plain.scan_config(root)
    assert not from_worker.ok and from_worker.failed
    assert from_worker.to_json() == from_cli.to_json()
    assert from_worker.to_text() == from_cli.to_text()


def test_first_real_plan_of_dev_passes_the_gate(tmp_path: Path) -> None:
    """The plan scan judges what the plan knows: the first real plan of dev (aws 5.100 against moto,
    tests/data/plans) passes with the policy of environments/_defaults.yaml, no skip for the KMS key."""
    shutil.copytree(REPO / "modules", tmp_path / "modules")
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    shutil.copytree(REPO / "rules", tmp_path / "rules")  # the detection catalogue the OpenSearch content compiles
    project = Project(tmp_path)
    spec = load_environment(project, "dev")
    root = render(project, spec).work_dir
    plan_json = tmp_path / "plan.json"
    with gzip.open(REPO / "tests" / "data" / "plans" / "dev-first-plan.json.gz", "rb") as packed:
        plan_json.write_bytes(packed.read())
    with ScanSession(spec.checkov, base=tmp_path) as scans:
        config = scans.start_config_scan(root).result()
        plan = scans.scan_plan(plan_json, root, config=config)
    assert config.ok and not config.failed, config.to_text()
    assert plan.ok, plan.to_text()
    assert len(plan.deferred) == 29
    assert {c.check_id for c in plan.deferred} == {
        "CKV_AWS_158",
        "CKV_AWS_27",
        "CKV_AWS_147",
        "CKV_AWS_173",
        "CKV_AWS_219",
        "CKV_AWS_247",
        "CKV_AWS_26",
        "CKV_AWS_35",
    }
    # The two real findings are skipped by their scoped, reasoned policy entries, nothing wider.
    scoped = {
        (s.check.check_id, s.check.resource) for s in plan.skipped if s.check.check_id in ("CKV_AWS_18", "CKV_AWS_61")
    }
    assert scoped == {
        ("CKV_AWS_18", "module.shared.module.access_logs.aws_s3_bucket.this"),
        ("CKV_AWS_61", "module.opensearch.aws_iam_role.admin[0]"),
    }
    assert plan.unused_skips == []
    assert json.loads(json.dumps(plan.to_json()))["unknown_until_apply"][0]["check_id"]


@pytest.mark.aws_provider
@pytest.mark.slow
def test_live_first_plan_of_dev_passes_the_gate(tmp_path: Path) -> None:
    """Makes the first real plan of dev now (aws provider mirror + moto, scripts/record_real_plan.py) and
    gates it: both scans pass with the policy's skips, nothing unknown is read as missing."""
    script = [sys.executable, str(REPO / "scripts" / "record_real_plan.py"), "--env", "dev"]
    made = subprocess.run(
        [*script, "--out", str(tmp_path), "--plugin-dir", str(AWS_MIRROR)],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    assert made.returncode == 0, made.stderr[-3000:]
    paths = dict(line.split(": ", 1) for line in made.stdout.splitlines() if ": " in line)
    root = Path(paths["root"])
    spec = load_environment(Project(root.parent.parent), "dev")
    with ScanSession(spec.checkov, base=root.parent.parent) as scans:
        config = scans.start_config_scan(root).result()
        plan = scans.scan_plan(Path(paths["plan"]), root, config=config)
    assert config.ok, config.to_text()
    assert plan.ok, plan.to_text()
    assert plan.deferred and all(c.check_id.startswith("CKV_AWS_") for c in plan.deferred)


# -- content-addressed reuse ---------------------------------------------------------------------------------


def test_scan_twice_reuses_and_never_across_a_change(fixture_project: Path, aws: str) -> None:
    first = cli(fixture_project, "scan", "--env", "dev", "--format", "json")
    assert first.exit_code == 0, first.output
    assert "reused" not in json.loads(first.output)
    second = cli(fixture_project, "scan", "--env", "dev", "--format", "json")
    assert second.exit_code == 0, second.output
    assert json.loads(second.output)["reused"] is True
    assert _comparable(json.loads(second.output)) == json.loads(first.output)
    text = cli(fixture_project, "scan", "--env", "dev")
    assert "(reused: same configuration, policy and Checkov as the stored report)" in text.output

    # A policy change: scanned again (and the skip shows up as unused).
    env = fixture_project / "environments" / "dev.yaml"
    data = yaml.safe_load(env.read_text())
    data["checkov"] = {"skip": [{"id": "CKV_AWS_999", "reason": "a new skip changes the policy"}]}
    env.write_text(yaml.safe_dump(data))
    changed_policy = cli(fixture_project, "scan", "--env", "dev")
    assert changed_policy.exit_code == 0 and "reused" not in changed_policy.output
    assert "CKV_AWS_999 matched nothing" in changed_policy.output

    # A module change (even a comment): scanned again.
    module = fixture_project / "modules" / "marker" / "main.tf"
    module.write_text(module.read_text() + "\n# a comment changes the module's content\n")
    changed_module = cli(fixture_project, "scan", "--env", "dev")
    assert changed_module.exit_code == 0 and "reused" not in changed_module.output


def _fake_checkov(tmp_path: Path, version: str) -> Path:
    """A checkov console script whose interpreter's prefix holds checkov-<version>.dist-info."""
    prefix = tmp_path / f"venv-{version}"
    (prefix / "bin").mkdir(parents=True)
    python = prefix / "bin" / "python3"
    python.symlink_to(sys.executable)
    record = prefix / "lib" / "python3.11" / "site-packages" / f"checkov-{version}.dist-info" / "RECORD"
    record.parent.mkdir(parents=True)
    record.write_text(f"checkov/version.py,sha256=x,{len(version)}\n")
    script = prefix / "bin" / "checkov"
    script.write_text(f"#!{python}\nimport sys\n")
    return script


def test_scan_key_changes_with_the_checkov_version(
    fixture_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = Project(fixture_project)
    spec = load_environment(project, "dev")
    rendered = render(project, spec)
    keys = []
    for version in ("3.3.30", "3.3.31"):
        monkeypatch.setenv("PROVISION_CHECKOV", str(_fake_checkov(tmp_path, version)))
        keys.append(config_scan_key(rendered.work_dir, rendered.config_hash, spec.checkov, fixture_project))
    assert keys[0] and keys[1] and keys[0] != keys[1]
    # A checkov whose version cannot be read is never reused.
    opaque = tmp_path / "opaque-checkov"
    opaque.write_text("#!/bin/sh\nexit 0\n")
    monkeypatch.setenv("PROVISION_CHECKOV", str(opaque))
    assert config_scan_key(rendered.work_dir, rendered.config_hash, spec.checkov, fixture_project) is None


# -- the insecure plan (real aws provider) ---------------------------------------------------------------------


@pytest.fixture()
def aws_and_null_plugins(plugin_dir: Path, tmp_path: Path) -> Path:
    """The aws 5.100 mirror and the null provider in one -plugin-dir."""
    aws = AWS_MIRROR / "registry.terraform.io" / "hashicorp" / "aws"
    if not aws.is_dir():
        pytest.fail(f"{aws}: the hashicorp/aws mirror is missing (set PROVISION_AWS_PLUGIN_DIR)")
    root = tmp_path / "plugins-aws-null"
    # terraform does not follow symlinked directories in a plugin dir, only symlinked files.
    for source in (AWS_MIRROR, plugin_dir):
        for binary in (source / "registry.terraform.io").glob("hashicorp/*/*/*/*"):
            target = root / binary.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(binary)
    return root


def test_insecure_plan_is_refused(fixture_project: Path, aws_and_null_plugins: Path, aws: str, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    result = cli(
        fixture_project,
        "up",
        "--env",
        "insecure_plan",
        "--auto-approve",
        "--plugin-dir",
        str(aws_and_null_plugins),
        "--report-dir",
        str(reports),
    )
    assert result.exit_code == 1, result.output
    assert "Checkov plan scan failed" in result.output
    assert "FAILED CKV_AWS_61 module.account_trust.aws_iam_role.account_trust" in result.output
    work = fixture_project / ".provision" / "insecure_plan"
    assert not (work / "terraform.tfstate").exists()
    assert not (work / "plan" / "tfplan.meta.json").exists()  # nothing `provision apply` would accept
    scans = json.loads((reports / "checkov.json").read_text())
    assert [(s["target"], s["ok"]) for s in scans] == [("config", True), ("plan", False)]
    assert [f["check_id"] for f in scans[1]["failed"]] == ["CKV_AWS_61"]
    assert (reports / "checkov.junit.xml").exists()
    # SARIF: one run per scan, each its own code-scanning category; the plan finding points at the module.
    sarif = json.loads((reports / "checkov.sarif").read_text())
    assert_valid_sarif(sarif)
    assert [run["automationDetails"]["id"] for run in sarif["runs"]] == [
        "checkov-config/insecure_plan/",
        "checkov-plan/insecure_plan/",
    ]
    (finding,) = sarif["runs"][1]["results"]
    module = fixture_project / "modules" / "account_trust" / "main.tf"
    assert finding["ruleId"] == "CKV_AWS_61"
    assert finding["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "modules/account_trust/main.tf", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": resource_line(module, "aws_iam_role", "account_trust")},
    }


# -- Ctrl-C: no lock, no stray process -----------------------------------------------------------------------


def _processes_with(marker: str) -> list[str]:
    """Live processes whose environment carries `marker` (what provision started, and their children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in environ and state != "Z":
            found.append(f"{entry.name}: {cmdline}")
    return found


@pytest.mark.parametrize("when", ["terraform init", "Checkov: scanning the plan"])
def test_ctrl_c_stops_terraform_and_checkov(fixture_project: Path, plugin_dir: Path, aws: str, when: str) -> None:
    marker = f"PROVISION_TEST_RUN={uuid.uuid4().hex}"
    name, value = marker.split("=")
    env = dict(os.environ, PYTHONUNBUFFERED="1", CI="1", **{name: value})
    command = [sys.executable, "-m", "provisioner.cli", "--project", str(fixture_project)]
    proc = subprocess.Popen(
        [*command, "plan", "--env", "dev", "--plugin-dir", str(plugin_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:
        seen.append(line)
        if when in line:
            break
    else:
        pytest.fail("never reached " + when + ":\n" + "".join(seen))
    assert _processes_with(marker), "provision started nothing to stop"
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    output = "".join(seen) + rest
    assert proc.returncode == 130, output
    deadline = time.monotonic() + 5  # killed process groups are reaped by their parents asynchronously
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with(marker) == [], output
    work = fixture_project / ".provision" / "dev"
    assert not (work / ".terraform.tfstate.lock.info").exists()
    assert not (work / "plan" / "tfplan.meta.json").exists()


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def test_close_ends_the_worker_and_a_running_scan(fixture_project: Path) -> None:
    project = Project(fixture_project)
    spec = load_environment(project, "dev")
    root = render(project, spec).work_dir
    session = ScanSession(spec.checkov, base=fixture_project)
    session.start_config_scan(root)  # still importing or scanning when closed
    (worker,) = session.runner.pids()
    assert _group_members(worker)
    session.close()
    assert _group_members(worker) == []
    session.close()  # idempotent


def test_the_brief_report_keeps_failures_whole_and_folds_the_policy() -> None:
    """What `up`/`plan` print without -v: every failed check in full; skips and deferred checks counted on one
    line each (their reasons stay in the full form and in checkov.json)."""
    from provisioner.scan import CheckResult, ScanReport, SkippedCheck

    def check(check_id: str, resource: str) -> CheckResult:
        return CheckResult(check_id, "Ensure something", resource, "modules/x/main.tf", 3, "https://example.test/g")

    reason = "a written reason, long enough to wrap a terminal line on its own " * 3
    report = ScanReport(
        "plan", passed=10, failed=[check("CKV_AWS_1", "aws_s3_bucket.a")],
        skipped=[SkippedCheck(check("CKV_AWS_2", f"aws_s3_bucket.{n}"), reason) for n in "abc"],
        deferred=[check("CKV_AWS_3", "aws_kms_key.k")], unused_skips=["CKV_AWS_4"],
    )  # fmt: skip
    assert report.to_text(brief=True).splitlines() == [
        "checkov (plan): 10 passed, 1 failed, 3 skipped by policy, 1 unknown until apply",
        "  FAILED CKV_AWS_1 aws_s3_bucket.a (modules/x/main.tf:3)",
        "         Ensure something",
        "         guideline: https://example.test/g",
        "  skipped by policy (reasons: -v or checkov.json): CKV_AWS_2 x3",
        "  unknown until apply (the configuration scan passed them): CKV_AWS_3 x1",
        "  note: policy skip CKV_AWS_4 matched nothing (remove it?)",
    ]
    full = report.to_text()
    assert f"  skipped CKV_AWS_2 on 3 resource(s): {reason}" in full.splitlines()

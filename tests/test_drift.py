"""`provision drift` end to end: real terraform with the offline null provider, moto for the AWS checks.

One environment (dev) is brought up once through `lifecycle.up` (the Checkov-gated path); each test works
on its own copy of that applied project and changes things behind Terraform's back.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import boto3
import pytest
import yaml
from typer.testing import CliRunner, Result

from provisioner.cli import app
from tests.test_docs import validate

SECRET = "not-a-real-secret"
SECRET_DIGEST = hashlib.sha256(SECRET.encode()).hexdigest()
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "project"
REGION = "eu-west-1"


def aws_client(service: str) -> Any:
    """boto3 clients typed loosely: the tests build requests the stubs' literal types cannot express."""
    factory: Any = boto3.client
    return factory(service, region_name=REGION)


def apply(root: Path, env: str, plugin_dir: Path) -> None:
    """Render and apply with the real terraform (the Checkov gate of `up` is tested in test_lifecycle)."""
    from provisioner.project import Project
    from provisioner.ui import UI
    from provisioner.workspace import Workspace

    ws = Workspace.open(Project(root), env, ui=UI(), plugin_dir=plugin_dir)
    rendered = ws.render()
    tf = ws.terraform
    tf.init()
    outcome = tf.plan(rendered.work_dir / "first.tfplan")
    tf.apply(outcome.plan_file)
    outcome.plan_file.unlink()


@pytest.fixture(scope="module")
def applied_project(tmp_path_factory: pytest.TempPathFactory, plugin_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("drift") / "project"
    shutil.copytree(FIXTURE, root)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("TF_CLI_CONFIG_FILE", raising=False)  # the machine's may point at a missing file
        mp.delenv("TF_PLUGIN_CACHE_DIR", raising=False)
        apply(root, "dev", plugin_dir)
    return root


@pytest.fixture()
def project(applied_project: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "project"
    shutil.copytree(applied_project, dest, symlinks=True)
    return dest


def drift(project: Path, plugin_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["--project", str(project), "drift", "--plugin-dir", str(plugin_dir), *args])


def state_path(project: Path) -> Path:
    return project / ".provision" / "dev" / "terraform.tfstate"


def delete_behind_terraforms_back(project: Path, index: int) -> None:
    """The null provider reads an empty id as "deleted outside Terraform"."""
    state = json.loads(state_path(project).read_text())
    marker = next(r for r in state["resources"] if r["type"] == "null_resource")
    marker["instances"][index]["attributes"]["id"] = ""
    state["serial"] += 1
    state_path(project).write_text(json.dumps(state))


def edit_spec(project: Path, env: str, change: dict[str, Any]) -> None:
    path = project / "environments" / f"{env}.yaml"
    data = yaml.safe_load(path.read_text())
    data.update(change)
    path.write_text(yaml.safe_dump(data))


def env_result(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in report["environments"] if e["environment"] == name)


def test_clean_environment_exits_0_with_json_shape(project: Path, plugin_dir: Path) -> None:
    for spec in (project / "environments").glob("*.yaml"):
        if spec.stem not in ("_defaults", "dev"):
            spec.unlink()  # --all: every environment, here only the applied one
    result = drift(project, plugin_dir, "--all", "--format", "json", "--no-aws-checks")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    validate(report, "drift-report")
    assert set(report) == {"schema", "generated_at", "aws_checks", "exit_code", "summary", "environments"}
    assert (report["schema"], report["aws_checks"], report["exit_code"]) == (1, False, 0)
    assert report["summary"] == {"environments": 1, "clean": 1, "drift": 0, "error": 0}
    dev = env_result(report, "dev")
    assert dev["status"] == "clean"
    assert dev["terraform"] == {"has_drift": False, "changed_outside": [], "pending": []}
    assert (dev["posture"], dev["unmanaged"], dev["errors"]) == (None, None, [])
    # The kept saved plans hold unmasked values: drift leaves none behind.
    assert not list((project / ".provision" / "dev" / "plan").glob("drift*.tfplan"))


def test_changed_outside_terraform_in_junit_text_and_markdown(
    project: Path, plugin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    delete_behind_terraforms_back(project, 1)
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    junit = tmp_path / "reports" / "drift.xml"

    result = drift(project, plugin_dir, "--env", "dev", "--format", "junit", "--output", str(junit), "--no-aws-checks")
    assert result.exit_code == 2, result.output
    address = "module.marker.null_resource.marker[1]"

    # stdout: the text report, with the masked attribute diff
    assert f"- {address} (delete)" in result.stdout
    assert f"+ {address} (create)" in result.stdout
    assert 'triggers.name: "fx-dev-1" -> null' in result.stdout
    assert "triggers.token: (sensitive) -> null" in result.stdout
    assert "1 environment(s): 0 clean, 1 drift, 0 error (exit 2)" in result.stdout

    suites = ET.fromstring(junit.read_text())
    assert suites.tag == "testsuites"
    assert (suites.get("tests"), suites.get("failures"), suites.get("errors")) == ("2", "2", "0")
    cases = {case.get("name"): case for case in suites.iter("testcase")}
    outside = cases["changed outside terraform"].find("failure")
    assert outside is not None and outside.get("type") == "drift"
    assert f"{address} (delete)" in (outside.text or "")
    pending = cases["pending changes"].find("failure")
    assert pending is not None and f"{address} (create)" in (pending.text or "")

    markdown = summary.read_text()
    assert markdown.startswith("earlier step\n## provision drift\n")  # appended, not replaced
    assert "| `dev` | ⚠️ drift | 1 | 1 | 0 | 0 |" in markdown
    assert f"| delete | `{address}` |" in markdown
    for text in (result.output, junit.read_text(), markdown):
        assert SECRET not in text and SECRET_DIGEST not in text


def test_pending_change_and_broken_environment(project: Path, plugin_dir: Path) -> None:
    edit_spec(project, "dev", {"components": {"marker": {"inputs": {"count_of_markers": 4}}}})
    broken_module = project / "modules" / "broken"
    broken_module.mkdir()
    (broken_module / "main.tf").write_text(
        'variable "name_prefix" {\n  type = string\n}\n\n'
        'resource "null_resource" "x" {\n  triggers = { a = var.not_declared }\n}\n'
    )
    (project / "environments" / "broken.yaml").write_text(
        "name_prefix: fx-broken\nterraform:\n  providers:\n"
        '    "null": {source: hashicorp/null, version: "2.1.2"}\ncomponents:\n  broken: {}\n'
    )
    envs = ["--env", "broken", "--env", "dev", "--env", "nosuch"]
    result = drift(project, plugin_dir, *envs, "--parallel", "2", "--format", "json", "--no-aws-checks")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    validate(report, "drift-report")
    assert [e["environment"] for e in report["environments"]] == ["broken", "dev", "nosuch"]
    assert report["summary"] == {"environments": 3, "clean": 0, "drift": 1, "error": 2}

    dev = env_result(report, "dev")  # still fully reported next to the failures
    assert dev["status"] == "drift"
    assert dev["terraform"]["changed_outside"] == []
    [change] = dev["terraform"]["pending"]
    assert (change["address"], change["action"]) == ("module.marker.null_resource.marker[3]", "create")
    assert {"path": "triggers.name", "before": None, "after": "fx-dev-3"} in change["attributes"]

    broken = env_result(report, "broken")
    assert broken["status"] == "error" and broken["terraform"] is None
    assert "not_declared" in broken["errors"][0]
    nosuch = env_result(report, "nosuch")
    assert nosuch["status"] == "error" and "unknown environment 'nosuch'" in nosuch["errors"][0]


def test_aws_checks_posture_from_state_outputs_and_unmanaged(project: Path, plugin_dir: Path, aws: str) -> None:
    # "sec" enables a cloudtrail component; this stand-in module only passes the trail ARN to its output,
    # so the state holds `cloudtrail_trail_arn` just as the real module's would.
    module = project / "modules" / "cloudtrail"
    module.mkdir()
    (module / "main.tf").write_text(
        'variable "trail_arn" {\n  type = string\n}\n\noutput "trail_arn" {\n  value = var.trail_arn\n}\n'
    )
    cloudtrail = aws_client("cloudtrail")
    s3 = aws_client("s3")
    s3.create_bucket(Bucket="trail-logs", CreateBucketConfiguration={"LocationConstraint": REGION})
    stopped = cloudtrail.create_trail(Name="custom-trail", S3BucketName="trail-logs")["TrailARN"]
    by_convention = cloudtrail.create_trail(Name="fx-sec-trail", S3BucketName="trail-logs")["TrailARN"]
    cloudtrail.start_logging(Name=by_convention)  # named like the module's, logging, but not the one in state
    (project / "environments" / "sec.yaml").write_text(
        yaml.safe_dump({"name_prefix": "fx-sec", "components": {"cloudtrail": {"inputs": {"trail_arn": stopped}}}})
    )
    apply(project, "sec", plugin_dir)

    edit_spec(project, "dev", {"drift": {"ignore": ["arn:aws:s3:::fx-dev-scratch-*"]}})
    for bucket, env in (("fx-dev-stray", "dev"), ("fx-dev-scratch-1", "dev"), ("fx-prod-data", "prod")):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        tags = [{"Key": "Project", "Value": "fixture"}, {"Key": "Environment", "Value": env}]
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})

    result = drift(project, plugin_dir, "--env", "dev", "--env", "sec", "--parallel", "2", "--format", "json")
    assert result.exit_code == 2, result.output
    report = json.loads(result.stdout)
    validate(report, "drift-report")
    assert report["aws_checks"] is True

    sec = env_result(report, "sec")
    assert (sec["status"], sec["terraform"]["has_drift"], sec["unmanaged"]) == ("drift", False, [])
    assert sec["posture"] == [
        {
            "id": "cloudtrail.logging",
            "component": "cloudtrail",
            "resource": stopped,
            "status": "drift",
            "severity": "critical",
            "message": "CloudTrail logging is stopped",
        }
    ]

    dev = env_result(report, "dev")
    assert (dev["status"], dev["terraform"]["has_drift"], dev["errors"]) == ("drift", False, [])
    assert dev["posture"] == []  # no security components in dev's spec: nothing to expect
    # Not the ignored scratch bucket, not prod's bucket, not the state's own resources.
    assert dev["unmanaged"] == [{"arn": "arn:aws:s3:::fx-dev-stray", "service": "s3", "resource_type": "bucket"}]


def test_aws_failure_is_that_environments_error(
    project: Path, plugin_dir: Path, aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"{aws}/not-an-aws-endpoint")
    result = drift(project, plugin_dir, "--env", "dev", "--format", "json")
    assert result.exit_code == 1, result.output
    dev = env_result(json.loads(result.stdout), "dev")
    assert dev["status"] == "error"
    assert dev["errors"][0].startswith("AWS identity check (sts:GetCallerIdentity): ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no environment to check"),
        (["--all", "--env", "dev"], "not both"),
        (["--env", "dev", "--parallel", "0"], "--parallel 0"),
        (["--env", "dev", "--format", "yaml"], "yaml"),
    ],
)
def test_usage_errors_exit_1_not_the_drift_code(
    fixture_project: Path, plugin_dir: Path, args: list[str], message: str
) -> None:
    result = drift(fixture_project, plugin_dir, *args)
    assert result.exit_code == 1, result.output
    assert message in result.output

"""The fleet on engines that already exist: the GitHub Actions matrix of what is deployed, and one drift report
merged from many jobs' reports."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import boto3
import jsonschema
import pytest
import yaml
from typer.testing import CliRunner, Result

from provisioner import instances
from provisioner.cli import app
from provisioner.project import Project
from provisioner.spec import load_environment

SCHEMA = json.loads((Path(__file__).parent.parent / "provisioner/schema/drift-report.schema.json").read_text())


def cli(project: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["--project", str(project), *args])


def _s3_template(project_dir: Path) -> Project:
    spec_file = project_dir / "environments" / "demo.yaml"
    data = yaml.safe_load(spec_file.read_text())
    data["backend"] = {"type": "s3"}
    spec_file.write_text(yaml.safe_dump(data))
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="fixture-tfstate-123456789012-eu-west-1",
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    return Project(project_dir)


def test_matrix_lists_every_deployed_environment_and_live_instance_only(fixture_project: Path, aws: str) -> None:
    project = _s3_template(fixture_project)
    now = instances.utcnow()
    demo = load_environment(project, "demo")
    instances.save(project, instances.Instance("demo", "pr-5", now, now + timedelta(hours=3)), remote_to=demo)
    expired = instances.Instance("demo", "old", now - timedelta(days=2), now - timedelta(hours=1))
    instances.save(project, expired, remote_to=demo)
    shutil.rmtree(fixture_project / ".provision")  # a fresh runner: only the records next to the state remain

    result = cli(fixture_project, "envs", "--format", "github-matrix")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["include"]
    names = [row["name"] for row in rows]
    deployed = sorted(n for n in project.environment_names() if not load_environment(project, n).ephemeral.template)
    assert sorted(names) == sorted([*deployed, "demo--pr-5"])  # no template, no expired instance
    pr5 = next(row for row in rows if row["name"] == "demo--pr-5")
    assert pr5 == {
        "env": "demo",
        "name": "demo--pr-5",
        "account": "123456789012",
        "region": "eu-west-1",
        "role": "arn:aws:iam::123456789012:role/fixture-fleet-drift",
        "target": "aws",
    }


def test_matrix_takes_the_role_from_the_spec(fixture_project: Path) -> None:
    spec_file = fixture_project / "environments" / "dev.yaml"
    data = yaml.safe_load(spec_file.read_text())
    data["fleet"] = {"role_arn": "arn:aws:iam::123456789012:role/ci/drift-reader"}
    spec_file.write_text(yaml.safe_dump(data))
    rows = json.loads(cli(fixture_project, "envs", "--format", "github-matrix").stdout)["include"]
    assert next(r for r in rows if r["name"] == "dev")["role"] == "arn:aws:iam::123456789012:role/ci/drift-reader"


def test_matrix_refuses_when_instance_records_cannot_be_read(fixture_project: Path) -> None:
    spec_file = fixture_project / "environments" / "demo.yaml"
    data = yaml.safe_load(spec_file.read_text())
    data["backend"] = {"type": "s3"}
    spec_file.write_text(yaml.safe_dump(data))
    result = cli(fixture_project, "envs", "--format", "github-matrix")  # no AWS credentials here
    assert result.exit_code == 1
    assert result.output.startswith("error: instance records:")
    assert "include" not in result.output


def test_matrix_refuses_an_invalid_environment(fixture_project: Path) -> None:
    (fixture_project / "environments" / "broken.yaml").write_text("name_prefix: 7\n")
    result = cli(fixture_project, "envs", "--format", "github-matrix")
    assert result.exit_code == 2
    assert result.output.startswith("error: environments/broken.yaml")


def _report(tmp_path: Path, name: str, *envs: tuple[str, str]) -> Path:
    report = {
        "schema": 1,
        "generated_at": "2026-12-07T10:00:00Z",
        "aws_checks": True,
        "exit_code": 0,
        "summary": {"environments": len(envs), "clean": 0, "drift": 0, "error": 0},
        "environments": [
            {
                "environment": env,
                "workspace": env,
                "region": "eu-west-1",
                "status": status,
                "errors": ["state locked"] if status == "error" else [],
                "duration_seconds": 2.5,
                "terraform": None,
                "posture": None,
                "unmanaged": None,
                "opensearch": None,
            }
            for env, status in envs
        ],
    }
    jsonschema.validate(report, SCHEMA)
    path = tmp_path / name
    path.write_text(json.dumps(report))
    return path


@pytest.mark.parametrize(
    ("statuses", "code"),
    [(("clean", "clean"), 0), (("clean", "drift"), 2), (("drift", "error"), 1)],
)
def test_merge_recomputes_summary_and_verdict(
    fixture_project: Path, tmp_path: Path, statuses: tuple[str, str], code: int
) -> None:
    a = _report(tmp_path, "a.json", ("dev", statuses[0]))
    b = _report(tmp_path, "b.json", ("staging", statuses[1]), ("prod", "clean"))
    result = cli(fixture_project, "fleet", "merge", str(a), str(b))
    assert result.exit_code == code, result.output
    merged = json.loads(result.stdout)
    jsonschema.validate(merged, SCHEMA)
    assert [e["environment"] for e in merged["environments"]] == ["dev", "staging", "prod"]
    assert merged["summary"]["environments"] == 3
    assert merged["exit_code"] == code


def test_merge_markdown_and_step_summary(
    fixture_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    a = _report(tmp_path, "a.json", ("dev", "drift"))
    out = tmp_path / "fleet.md"
    result = cli(fixture_project, "fleet", "merge", str(a), "--format", "markdown", "-o", str(out))
    assert result.exit_code == 2
    assert "| `dev` | eu-west-1 | ⚠️ drift | - |" in out.read_text()
    assert "1 environment(s): 0 clean, 1 drift, 0 error (exit 2)" in summary.read_text()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("not json", "not JSON"),
        ('{"schema": 2, "environments": []}', "not a `provision drift --format json` report"),
        ('{"schema": 1, "environments": [{"environment": "x", "status": "weird"}]}', "environments[0]"),
        ("[" * 100_000 + "]" * 100_000, "not JSON"),
    ],
)
def test_merge_refuses_what_is_not_a_drift_report(
    fixture_project: Path, tmp_path: Path, content: str, reason: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    out = tmp_path / "merged.json"
    result = cli(fixture_project, "fleet", "merge", str(bad), "-o", str(out))
    assert result.exit_code == 1  # drift's policy: 2 is a verdict, so bad input is 1
    assert result.output.startswith(f"error: {bad}:") and reason in result.output, result.output
    assert not out.exists()


def test_merge_refuses_the_same_environment_twice(fixture_project: Path, tmp_path: Path) -> None:
    a = _report(tmp_path, "a.json", ("dev", "clean"))
    b = _report(tmp_path, "b.json", ("dev", "drift"))
    result = cli(fixture_project, "fleet", "merge", str(a), str(b))
    assert result.exit_code == 1
    assert "'dev' is also in" in result.output


def test_merge_with_the_matrix_reports_a_job_that_left_no_report(fixture_project: Path, tmp_path: Path) -> None:
    matrix = tmp_path / "matrix.json"
    rows = [
        {"env": n, "name": n, "account": "1", "region": "eu-west-1", "role": "r", "target": "aws"}
        for n in ("dev", "prod")
    ]
    rows.append(
        {"env": "local", "name": "local", "account": "1", "region": "eu-west-1", "role": "r", "target": "emulator"}
    )
    matrix.write_text(json.dumps({"include": rows}))
    a = _report(tmp_path, "a.json", ("dev", "clean"))
    result = cli(fixture_project, "fleet", "merge", "--matrix", str(matrix), str(a))
    assert result.exit_code == 1, result.output
    merged = json.loads(result.stdout)
    jsonschema.validate(merged, SCHEMA)
    prod = next(e for e in merged["environments"] if e["workspace"] == "prod")
    assert prod["status"] == "error" and "no drift report" in prod["errors"][0]
    assert "local" not in {e["workspace"] for e in merged["environments"]}  # emulator rows are not checked by CI

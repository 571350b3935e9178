"""The workspace context and the error boundary: one spec load and one Terraform per `up`, one instance
discovery for `envs` and `drift --all`, and exit codes decided in one place."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from typer.testing import CliRunner, Result

from provisioner import instances
from provisioner.cli import app
from provisioner.errors import EXIT_BUG
from provisioner.project import Project
from provisioner.spec import load_environment


def cli(project: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["--project", str(project), *args])


def test_up_loads_the_spec_once_and_builds_one_terraform_per_work_dir(
    fixture_project: Path, plugin_dir: Path, aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import provisioner.spec
    import provisioner.terraform

    loads: list[str] = []
    original_load = provisioner.spec.load_environment

    def counting_load(project: Project, name: str, **kwargs: Any) -> Any:
        loads.append(name)
        return original_load(project, name, **kwargs)

    built: Counter[str] = Counter()
    original_init = provisioner.terraform.Terraform.__init__

    def counting_init(self: Any, workdir: Path, *args: Any, **kwargs: Any) -> None:
        built[str(Path(workdir).resolve())] += 1
        original_init(self, workdir, *args, **kwargs)

    monkeypatch.setattr(provisioner.spec, "load_environment", counting_load)
    monkeypatch.setattr(provisioner.terraform.Terraform, "__init__", counting_init)
    result = cli(fixture_project, "up", "--env", "dev", "--auto-approve", "--plugin-dir", str(plugin_dir))
    assert result.exit_code == 0, result.output
    assert loads == ["dev"]
    assert built == Counter({str((fixture_project / ".provision" / "dev").resolve()): 1})


def test_drift_all_and_envs_find_an_instance_recorded_only_in_the_state_bucket(fixture_project: Path, aws: str) -> None:
    spec_file = fixture_project / "environments" / "demo.yaml"
    data = yaml.safe_load(spec_file.read_text())
    data["backend"] = {"type": "s3"}
    spec_file.write_text(yaml.safe_dump(data))
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(
        Bucket="fixture-tfstate-123456789012-eu-west-1",
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    project = Project(fixture_project)
    now = instances.utcnow()
    record = instances.Instance("demo", "pr-5", now, now + timedelta(hours=3))
    instances.save(project, record, remote_to=load_environment(project, "demo"))
    shutil.rmtree(fixture_project / ".provision")  # a fresh clone: only the copy next to the state remains

    rows = json.loads(cli(fixture_project, "envs", "--format", "json").output)
    assert [row["name"] for row in rows if "instance_of" in row] == ["demo--pr-5"]

    result = cli(fixture_project, "drift", "--all", "--no-aws-checks", "--format", "json")
    report = json.loads(result.stdout)
    checked = {env["environment"]: env for env in report["environments"]}
    assert "demo--pr-5" in checked
    assert checked["demo--pr-5"]["workspace"] == "demo--pr-5"  # its spec was stamped from the record


def test_a_bug_is_not_reported_as_bad_input(fixture_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import provisioner.envs

    def broken(*args: Any, **kwargs: Any) -> str:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(provisioner.envs, "list_environments", broken)
    result = cli(fixture_project, "envs")
    assert result.exit_code == EXIT_BUG, result.output
    assert "error: internal error (a bug in provision, not in your input): ZeroDivisionError: boom" in result.output
    crash = Path(result.output.split("hint: the traceback is in ", 1)[1].split(";", 1)[0])
    assert "ZeroDivisionError: boom" in crash.read_text()
    crash.unlink()
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["render", "--env", "nope"], 2),  # bad input
        (["render", "--bogus"], 2),  # a usage error
        (["drift", "--env", "nope", "--bogus"], 1),  # drift: 2 is the verdict, so bad input exits 1
        (["drift", "--parallel", "0", "--env", "dev"], 1),
    ],
)
def test_exit_codes_follow_each_commands_policy(fixture_project: Path, args: list[str], code: int) -> None:
    result = cli(fixture_project, *args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output

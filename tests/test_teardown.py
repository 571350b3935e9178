"""`provision down` and `provision reap` end to end: real terraform, offline null provider, moto for AWS.

Bringing an environment up costs two Checkov runs, so a module fixture brings `demo --name pr-1`, `prod` and
`slow` up once and every test works on its own copy of that project (state files included).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
import yaml
from typer.testing import CliRunner, Result

from provisioner import instances, lifecycle, teardown
from provisioner.cli import app
from provisioner.errors import GateFailed
from provisioner.project import Project
from provisioner.spec import load_environment
from provisioner.ui import UI
from provisioner.workspace import Workspace
from tests.aws_env import point_at_moto

FIXTURE_PROJECT = Path(__file__).resolve().parent / "fixtures" / "project"
SLEEPER = "module.sleeper.null_resource.sleep"


def cli(project: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["--project", str(project), *args])


def state_addresses(project: Path, workspace: str) -> list[str]:
    path = project / ".provision" / workspace / "terraform.tfstate"
    state = json.loads(path.read_text())
    return sorted(
        f"{r['module']}.{r['type']}.{r['name']}" if "module" in r else f"{r['type']}.{r['name']}"
        for r in state["resources"]
        if r["mode"] == "managed"
    )


@pytest.fixture(scope="module")
def stock(tmp_path_factory: pytest.TempPathFactory, moto_server: str, plugin_dir: Path, terraform_bin: Path) -> Path:
    """The fixture project with demo--pr-1, prod and slow applied (slow: 1 s to create, 5 s to destroy)."""
    root = tmp_path_factory.mktemp("stock") / "project"
    shutil.copytree(FIXTURE_PROJECT, root)
    slow = root / "environments" / "slow.yaml"
    data = yaml.safe_load(slow.read_text())
    data["components"]["sleeper"]["inputs"] = {"seconds": 1, "destroy_seconds": 5}
    slow.write_text(yaml.safe_dump(data))
    cli_config = root.parent / "terraformrc"
    cli_config.write_text("")
    with pytest.MonkeyPatch.context() as mp:
        point_at_moto(mp, moto_server)
        mp.setenv("TF_CLI_CONFIG_FILE", str(cli_config))
        mp.setenv("PROVISION_TERRAFORM", str(terraform_bin))
        # Module scope runs before conftest's per-test hermetic env: keep the machine's AWS profile out here too.
        mp.delenv("AWS_PROFILE", raising=False)
        mp.setenv("AWS_CONFIG_FILE", str(root.parent / "aws-config-missing"))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(root.parent / "aws-credentials-missing"))
        project = Project(root)
        ui = UI(out=io.StringIO(), err=io.StringIO())
        demo = Workspace.open(project, "demo", ui=ui, plugin_dir=plugin_dir)
        lifecycle.up(demo, instance="pr-1", ttl="24h", auto_approve=True)
        for env in ("prod", "slow"):
            lifecycle.up(Workspace.open(project, env, ui=ui, plugin_dir=plugin_dir), auto_approve=True)
    return root


@pytest.fixture()
def project(stock: Path, tmp_path: Path, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the applied project. These tests only read from AWS (identity, tag inventory), so
    they use the moto server without the `aws` fixture's reset, which costs seconds once IAM is loaded."""
    point_at_moto(monkeypatch, moto_server)
    dest = tmp_path / "project"
    shutil.copytree(stock, dest, symlinks=True)
    return dest


def test_down_asks_for_the_name_typed_back(project: Path, plugin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    ui = UI(out=out, err=out, interactive=True)
    monkeypatch.setattr(sys, "stdin", io.StringIO("demo\n"))  # the template's name, not the instance's
    with pytest.raises(GateFailed, match="the name typed was not 'demo--pr-1'"):
        teardown.down(Workspace.open(Project(project), "demo", instance="pr-1", ui=ui, plugin_dir=plugin_dir))
    shown = out.getvalue()
    assert "Plan: 0 to create, 0 to update, 0 to replace, 1 to delete" in shown
    assert "- module.marker.null_resource.marker[0] (delete)" in shown
    assert "Type 'demo--pr-1' to continue" in shown
    assert state_addresses(project, "demo--pr-1") == ["module.marker.null_resource.marker"]
    assert instances.load(Project(project), "demo", "pr-1") is not None

    out.seek(0)
    out.truncate()
    monkeypatch.setattr(sys, "stdin", io.StringIO("demo--pr-1\n"))
    result = teardown.down(Workspace.open(Project(project), "demo", instance="pr-1", ui=ui, plugin_dir=plugin_dir))
    assert result.destroyed == 1 and result.leftovers == []
    shown = out.getvalue()
    assert "module.marker.null_resource.marker[0]: Destruction complete" in shown
    assert "Sweep: resources still tagged Project=fixture, Environment=demo, ManagedBy=provision, Instance=pr-1" in (
        shown
    )
    assert "destroyed demo--pr-1: 1 resource(s); the state is empty" in shown
    assert state_addresses(project, "demo--pr-1") == []
    # The instance is gone for good: its record too, so `envs` and `reap` no longer see it.
    assert instances.load(Project(project), "demo", "pr-1") is None
    assert "demo--pr-1" not in cli(project, "envs").output


def test_down_without_a_terminal_needs_yes(project: Path, plugin_dir: Path) -> None:
    listed = cli(project, "envs")
    assert listed.exit_code == 0, listed.output
    line = next(row for row in listed.output.splitlines() if row.startswith("demo--pr-1 "))
    assert re.search(r"instance of demo, age \d+\.\dh, expires 20\d\d-\d\d-\d\dT[\d:]+Z \(active\)$", line), line

    refused = cli(project, "down", "--env", "demo", "--name", "pr-1", "--plugin-dir", str(plugin_dir))
    assert refused.exit_code == 1, refused.output
    assert "not destroyed: no terminal to type 'demo--pr-1' on" in refused.output
    assert "pass --yes" in refused.output
    assert state_addresses(project, "demo--pr-1") == ["module.marker.null_resource.marker"]

    done = cli(project, "down", "--env", "demo", "--name", "pr-1", "--yes", "--plugin-dir", str(plugin_dir))
    assert done.exit_code == 0, done.output
    assert "1 to delete" in done.output
    assert "destroyed demo--pr-1" in done.output
    assert state_addresses(project, "demo--pr-1") == []


def test_protected_environment_refuses_until_spec_and_operator_both_unlock(project: Path, plugin_dir: Path) -> None:
    def down(*extra: str) -> Result:
        return cli(project, "down", "--env", "prod", "--plugin-dir", str(plugin_dir), *extra)

    for attempt in (down("--yes"), down("--confirm-protected", "prod")):
        assert attempt.exit_code == 1, attempt.output
        assert "refusing: prod is destroy-protected (environments/prod.yaml: protection.destroy_protected" in (
            attempt.output
        )
        assert "set protection.allow_destroy: true in environments/prod.yaml" in attempt.output
        assert "provision down --env prod --confirm-protected prod" in attempt.output
    assert not list((project / ".provision" / "prod" / "plan").glob("*.tfplan"))

    spec_file = project / "environments" / "prod.yaml"
    data = yaml.safe_load(spec_file.read_text())
    data["protection"]["allow_destroy"] = True
    spec_file.write_text(yaml.safe_dump(data))
    unconfirmed = down("--yes")
    assert unconfirmed.exit_code == 1, unconfirmed.output
    assert "the operator has not confirmed (--yes is not enough" in unconfirmed.output
    wrong = down("--confirm-protected", "dev")
    assert wrong.exit_code == 2, wrong.output
    assert "does not name the environment being destroyed ('prod')" in wrong.output
    assert state_addresses(project, "prod") == ["module.marker.null_resource.marker"]

    unlocked = down("--confirm-protected", "prod")
    assert unlocked.exit_code == 0, unlocked.output
    assert "destroyed prod: 3 resource(s)" in unlocked.output
    assert state_addresses(project, "prod") == []


def test_interrupted_destroy_is_finished_by_running_down_again(project: Path, plugin_dir: Path) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1", CI="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "provisioner.cli", "--project", str(project), "down", "--env", "slow", "--yes",
         "--plugin-dir", str(plugin_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:
        seen.append(line)
        if f"{SLEEPER}: Destroying..." in line:
            break
    time.sleep(0.5)  # the destroy-time provisioner is sleeping now
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    output = "".join(seen) + rest
    assert proc.returncode == 130, output
    assert "Interrupted" in output
    assert "re-run `provision down --env slow` to finish the destroy" in output
    work = project / ".provision" / "slow"
    assert not (work / ".terraform.tfstate.lock.info").exists()
    assert state_addresses(project, "slow") == [SLEEPER]
    assert not list((work / "plan").glob("*.tfplan"))

    again = cli(project, "down", "--env", "slow", "--yes", "--plugin-dir", str(plugin_dir))
    assert again.exit_code == 0, again.output
    assert "1 to delete" in again.output and "destroyed slow: 1 resource(s)" in again.output
    assert state_addresses(project, "slow") == []
    # Nothing left: a third run is a harmless no-op.
    third = cli(project, "down", "--env", "slow", "--plugin-dir", str(plugin_dir))
    assert third.exit_code == 0, third.output
    assert "nothing to destroy" in third.output


def test_reap_is_a_dry_run_until_yes_and_one_failure_does_not_stop_the_rest(project: Path, plugin_dir: Path) -> None:
    proj = Project(project)
    live = instances.load(proj, "demo", "pr-1")
    assert live is not None
    now = instances.utcnow()
    instances.save(proj, instances.Instance("demo", "pr-1", live.created_at, now - timedelta(hours=1)))
    instances.save(proj, instances.Instance("demo", "pr-2", now, now + timedelta(hours=5)))
    # An expired instance whose template was deleted: its teardown fails, the others go on.
    instances.save(proj, instances.Instance("gone", "pr-9", now - timedelta(days=2), now - timedelta(days=1)))

    rows = json.loads(cli(project, "envs", "--format", "json").output)
    expiry = {row["name"]: row["expired"] for row in rows if "instance_of" in row}
    assert expiry == {"demo--pr-1": True, "demo--pr-2": False, "gone--pr-9": True}

    dry = cli(project, "reap")
    assert dry.exit_code == 0, dry.output
    assert "Reap: 2 of 3 ephemeral instance(s) past their expiry" in dry.output
    assert "would go gone--pr-9" in dry.output and "would go demo--pr-1" in dry.output
    assert "keep     demo--pr-2" in dry.output
    assert "dry run: nothing was destroyed" in dry.output
    assert state_addresses(project, "demo--pr-1") == ["module.marker.null_resource.marker"]

    real = cli(project, "reap", "--yes", "--plugin-dir", str(plugin_dir))
    assert real.exit_code == 1, real.output
    assert "gone--pr-9: " in real.output and "unknown environment 'gone'" in real.output
    assert "destroyed demo--pr-1" in real.output
    assert "1 destroyed, 1 failed, 1 not expired" in real.output
    assert "reap: 1 failure(s): gone--pr-9" in real.output
    assert state_addresses(project, "demo--pr-1") == []
    assert instances.load(proj, "demo", "pr-1") is None
    assert instances.load(proj, "demo", "pr-2") is not None


def test_reap_on_a_fresh_machine_finds_records_in_the_state_bucket(fixture_project: Path, aws: str) -> None:
    spec_file = fixture_project / "environments" / "demo.yaml"
    data = yaml.safe_load(spec_file.read_text())
    data["backend"] = {"type": "s3"}
    spec_file.write_text(yaml.safe_dump(data))
    bucket = "fixture-tfstate-123456789012-eu-west-1"
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    proj = Project(fixture_project)
    template = load_environment(proj, "demo")
    now = instances.utcnow()
    pr7 = instances.Instance("demo", "pr-7", now - timedelta(hours=30), now - timedelta(hours=6))
    instances.save(proj, pr7, remote_to=template)
    instances.save(proj, instances.Instance("demo", "pr-8", now, now + timedelta(hours=2)), remote_to=template)
    key = "provision/fixture/demo--pr-7/instance.json"  # next to provision/fixture/demo--pr-7/terraform.tfstate
    assert json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())["name"] == "pr-7"

    shutil.rmtree(fixture_project / ".provision")  # a CI runner that never ran `up`
    dry = cli(fixture_project, "reap")
    assert dry.exit_code == 0, dry.output
    assert "Reap: 1 of 2 ephemeral instance(s) past their expiry" in dry.output
    assert "would go demo--pr-7" in dry.output and "keep     demo--pr-8" in dry.output

    instances.forget(proj, "demo", "pr-7", remote_to=template)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["provision/fixture/demo--pr-8/instance.json"]


def test_unreadable_record_store_fails_the_reap_but_lists_the_rest(fixture_project: Path, aws: str) -> None:
    spec_file = fixture_project / "environments" / "demo.yaml"
    data = yaml.safe_load(spec_file.read_text())
    data["backend"] = {"type": "s3", "bucket": "no-such-state-bucket"}
    spec_file.write_text(yaml.safe_dump(data))
    proj = Project(fixture_project)
    now = instances.utcnow()
    instances.save(proj, instances.Instance("demo", "pr-3", now, now + timedelta(hours=2)))
    result = cli(fixture_project, "reap")
    assert result.exit_code == 1, result.output
    assert "cannot read instance records: listing instance records in s3://no-such-state-bucket/" in result.output
    assert "NoSuchBucket" in result.output
    assert "keep     demo--pr-3" in result.output

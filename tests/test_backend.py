"""The S3 backend per Terraform version: S3-native lock files from 1.10 (no DynamoDB table), the table before 1.10
or when the spec names one; applied for real by both terraforms of this machine against a moto server."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from provisioner.aws.backend import bootstrap, init_settings, lock_table
from provisioner.emulator import launcher
from provisioner.emulator.target import emulator_env
from provisioner.errors import ToolMissingError
from provisioner.project import Project
from provisioner.spec import EnvironmentSpec, load_environment
from provisioner.terraform import Terraform, find_terraform

FIXTURE_PROJECT = Path(__file__).parent / "fixtures" / "project"
SYSTEM_TERRAFORM = Path("/usr/local/bin/terraform")  # 1.11.4 on machines of this kind (TOOLCHAIN.md)
BUCKET = "fixture-tfstate-123456789012-eu-west-1"
KEY = "provision/remote/terraform.tfstate"

ROOT = f"""
terraform {{
  backend "s3" {{
    bucket         = "{BUCKET}"
    key            = "{KEY}"
    region         = "eu-west-1"
    encrypt        = true
    use_path_style = true
  }}
}}
resource "null_resource" "slow" {{
  provisioner "local-exec" {{
    command = "sleep 4"
  }}
}}
"""


def _spec(**backend: str) -> EnvironmentSpec:
    spec = load_environment(Project(FIXTURE_PROJECT), "remote")
    return spec.model_copy(update={"backend": spec.backend.model_copy(update=backend)})


def test_lock_table_only_before_1_10_or_when_named() -> None:
    spec = _spec()
    assert lock_table(spec, (1, 15, 5)) is None
    assert init_settings(spec, (1, 15, 5)) == {"use_lockfile": "true"}
    assert lock_table(spec, (1, 9, 1)) == "fixture-tfstate-lock"
    assert init_settings(spec, (1, 9, 1)) == {"dynamodb_table": "fixture-tfstate-lock"}
    # A team that named its table keeps it; from 1.10 both locks are taken (Terraform's migration path).
    named = _spec(lock_table="team-locks")
    assert init_settings(named, (1, 11, 4)) == {"use_lockfile": "true", "dynamodb_table": "team-locks"}
    assert init_settings(_spec(type="local"), (1, 15, 5)) == {}


def test_the_emulator_refuses_a_backend_that_cannot_reach_it() -> None:
    spec = _spec().model_copy(update={"target": "emulator"})
    with pytest.raises(ToolMissingError, match=r"terraform 1\.5\.7: the emulator target needs >= 1\.6\.0"):
        lock_table(spec, (1, 5, 7))
    assert lock_table(spec, (1, 6, 0)) == "fixture-tfstate-lock"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real emulator process (moto with its fixes: bootstrap's TLS-only policy needs one)."""
    project = Project(tmp_path_factory.mktemp("emulator"))
    yield launcher.ensure_running(project).endpoint
    launcher.stop(project)


@pytest.fixture()
def aws(emulator: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """This process and the terraform it starts point at the emulator, as `--env local` does."""
    for name, value in emulator_env(emulator, "eu-west-1").items():
        monkeypatch.setenv(name, value)
    yield emulator
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{emulator}/moto-api/reset", method="POST"), timeout=10).read()


@pytest.mark.parametrize("which", ["default", "system"])
def test_an_apply_holds_an_s3_lock_file_and_needs_no_table(
    which: str, aws: str, plugin_dir: Path, terraform_bin: Path, tmp_path: Path
) -> None:
    path = terraform_bin if which == "default" else SYSTEM_TERRAFORM
    if not path.is_file():
        pytest.fail(f"{path} missing: this test needs the machine's second terraform")
    binary = find_terraform({"PROVISION_TERRAFORM": str(path), "PATH": os.environ["PATH"]})
    spec = _spec()
    # What `provision bootstrap` creates for this terraform: the bucket only.
    result = bootstrap(BUCKET, lock_table(spec, binary.version), "eu-west-1", {"Project": "fixture"})
    assert result.table is None and f"created bucket {BUCKET}" in result.changes
    (tmp_path / "main.tf").write_text(ROOT)
    tf = Terraform(tmp_path, binary=binary, plugin_dir=plugin_dir)
    tf.init(backend_config=init_settings(spec, binary.version))
    plan = tf.plan(tmp_path / "p.tfplan")
    applying = threading.Thread(target=tf.apply, args=(plan.plan_file,))
    applying.start()
    s3 = boto3.client("s3", region_name="eu-west-1")
    seen: set[str] = set()
    while applying.is_alive():
        seen |= {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
        time.sleep(0.2)
    applying.join()
    assert f"{KEY}.tflock" in seen  # held while terraform applied
    left = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    assert left == {KEY}  # state written, lock released
    assert boto3.client("dynamodb", region_name="eu-west-1").list_tables()["TableNames"] == []
    assert not tf.plan(tmp_path / "again.tfplan").has_changes

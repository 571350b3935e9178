"""One work dir, two terraform binaries: through `make` provision used the venv's terraform, from a plain shell
whatever terraform came first on PATH (a system-wide 1.11.4 here), and the second one failed on the first one's
`.terraform/` with "Backend configuration changed ... -migrate-state". Now the binary that initialised a work
dir is on record: a different one re-initialises it (state untouched, one line says so), and a plan kept by one
is refused by the other with one line naming both.

Real parts: the venv's terraform (1.15.5) and the machine's /usr/local/bin/terraform 1.11.4, the S3 backend in the
embedded emulator (what `local` uses), `provision` in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.terraform import find_terraform

SYSTEM_TERRAFORM = Path("/usr/local/bin/terraform")
REPO = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture()
def project(fixture_project: Path) -> Iterator[Path]:
    """The fixture project with an environment on the emulator's S3 backend (outputs only: no provider)."""
    spec = "name_prefix: fx-emu\ntarget: emulator\nbackend:\n  type: s3\n"
    (fixture_project / "environments" / "emu.yaml").write_text(spec)
    yield fixture_project
    _provision(fixture_project, os.environ["PROVISION_TERRAFORM"], "emulator", "stop")


def _provision(project: Path, terraform: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"PROVISION_TERRAFORM": terraform, "PYTHONPATH": str(REPO), "CI": "1"}
    argv = [sys.executable, "-m", "provisioner.cli", "--project", str(project), *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)


def _record(project: Path) -> dict[str, str]:
    data: dict[str, str] = json.loads((project / ".provision" / "emu" / "terraform-init.json").read_text())
    return data


def test_a_work_dir_follows_a_change_of_terraform(project: Path) -> None:
    if not SYSTEM_TERRAFORM.is_file():
        pytest.fail(f"{SYSTEM_TERRAFORM} missing: this test needs a second terraform version")
    venv = os.environ["PROVISION_TERRAFORM"]
    old, new = (
        find_terraform({"PROVISION_TERRAFORM": venv}),
        find_terraform({"PROVISION_TERRAFORM": str(SYSTEM_TERRAFORM)}),
    )
    assert old.version != new.version, (old, new)  # two terraforms (the venv's 1.15.5 is the newer one)

    planned = _provision(project, venv, "plan", "--env", "emu")
    assert planned.returncode == 0, planned.stdout[-2000:] + planned.stderr[-2000:]

    # The kept plan was made by the venv's terraform: 1.11.4 refuses it before Terraform does, naming both.
    refused = _provision(project, str(SYSTEM_TERRAFORM), "apply", "--env", "emu", "--auto-approve")
    assert refused.returncode == 1
    first = refused.stderr.splitlines()[0]
    assert first == (
        f"error: refusing: the kept plan was made with terraform {old.version_text} ({old.path}); "
        f"this run uses terraform {new.version_text} ({new.path})"
    )
    assert _record(project) == {"path": str(old.path), "version": old.version_text}

    # A new plan with 1.11.4 re-initialises the work dir (no migrate-state), then applies.
    switched = _provision(project, str(SYSTEM_TERRAFORM), "plan", "--env", "emu")
    assert switched.returncode == 0, switched.stdout[-2000:] + switched.stderr[-2000:]
    said = [line for line in switched.stdout.splitlines() if "re-initialising" in line]
    assert said == [
        f"  terraform {old.version_text} ({old.path}) initialised this work dir, this run uses terraform "
        f"{new.version_text} ({new.path}): re-initialising it (-reconfigure; the state stays where it is)"
    ]
    assert "migrate-state" not in switched.stdout + switched.stderr
    assert _record(project)["version"] == new.version_text
    applied = _provision(project, str(SYSTEM_TERRAFORM), "apply", "--env", "emu", "--auto-approve")
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr[-2000:]

    # Back to the venv's terraform: the state 1.11.4 wrote is read as it is; nothing to change.
    back = _provision(project, venv, "plan", "--env", "emu")
    assert back.returncode == 0, back.stdout[-2000:] + back.stderr[-2000:]
    assert "re-initialising" in back.stdout
    assert "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete" in back.stdout

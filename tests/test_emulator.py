"""The emulator launcher, record and CLI: a real moto server process on 127.0.0.1, started by provision."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provisioner.cli import app
from provisioner.emulator import launcher, record
from provisioner.emulator.target import check_plugin_dir, find_aws_mirror
from provisioner.errors import InputError
from provisioner.project import Project

# Starts real emulator processes: `make test` only.
pytestmark = pytest.mark.slow


@pytest.fixture()
def project(tmp_path: Path) -> Iterator[Project]:
    (tmp_path / "environments").mkdir()
    (tmp_path / "modules").mkdir()
    proj = Project(tmp_path)
    yield proj
    record.record_path(proj).unlink(missing_ok=True) if not _readable(proj) else launcher.stop(proj)


def _readable(proj: Project) -> bool:
    try:
        record.load(proj)
    except InputError:
        return False
    return True


def cli(project: Project, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--project", str(project.root), "emulator", *args])
    return result.exit_code, result.stdout, result.stderr


def test_start_status_reuse_stop(project: Project) -> None:
    first = launcher.ensure_running(project)
    assert launcher.answers(first.endpoint)
    assert launcher.ensure_running(project) == first, "a running emulator is reused"
    code, out, _ = cli(project, "status", "--format", "json")
    assert code == 0
    assert json.loads(out) == {"running": True, "endpoint": first.endpoint, "pid": first.pid}
    code, out, _ = cli(project, "stop")
    assert (code, out.strip()) == (0, f"stopped the emulator (pid {first.pid})")
    assert not record.pid_alive(first.pid)
    code, out, _ = cli(project, "status", "--format", "json")
    assert json.loads(out) == {"running": False, "endpoint": None, "pid": None}


def test_stale_record_is_replaced(project: Project) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    record.save(
        project, record.EmulatorRecord(pid=dead.pid, port=1, started_at="2026-01-01T00:00:00Z", moto_version="x")
    )
    _, out, _ = cli(project, "status", "--format", "json")
    assert json.loads(out)["running"] is False
    fresh = launcher.ensure_running(project)
    assert fresh.pid != dead.pid and launcher.answers(fresh.endpoint)
    assert record.load(project) == fresh


def test_port_in_use_is_one_line_exit_2(project: Project) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = cli(project, "start", "--port", str(port))
    assert code == 2
    assert err.strip().splitlines() == [
        f"error: --port {port}: 127.0.0.1:{port} is already in use by another process; "
        "pick another port or leave --port out to use a free one"
    ]
    assert record.load(project) is None, "nothing recorded"


def test_unreadable_record_is_one_line_exit_2(project: Project) -> None:
    record.record_path(project).parent.mkdir(parents=True)
    record.record_path(project).write_text("{not json")
    code, _, err = cli(project, "status")
    assert code == 2
    assert err.startswith("error: .provision/emulator.json: unreadable emulator record")
    assert len(err.strip().splitlines()) == 1


def test_plugin_dir_without_aws_provider_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        check_plugin_dir(tmp_path, "--plugin-dir")
    assert caught.value.exit_code == 2
    assert "no hashicorp/aws provider in it" in caught.value.message


def test_mirror_discovery_finds_a_laid_out_provider(tmp_path: Path) -> None:
    leaf = tmp_path / "mirror/registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64"
    leaf.mkdir(parents=True)
    (leaf / "terraform-provider-aws_v5.100.0_x5").write_text("")
    assert find_aws_mirror((str(tmp_path / "nothing"), str(tmp_path / "mirror"))) == tmp_path / "mirror"
    assert find_aws_mirror((str(tmp_path / "nothing"),)) is None


def test_server_process_applies_every_fix(project: Project) -> None:
    started = launcher.ensure_running(project)
    cmdline = Path(f"/proc/{started.pid}/cmdline").read_bytes()
    assert b"provisioner.emulator.server" in cmdline
    assert os.getpgid(started.pid) == started.pid, "own session: Ctrl-C in the terminal does not reach it"


def test_local_deploys_the_same_components_as_dev() -> None:
    """So the resource count `local` plans is the count `dev` plans (the 95% target counts against it)."""
    from provisioner.spec import load_environment

    repo = Project(Path(__file__).resolve().parent.parent)
    dev, local = load_environment(repo, "dev"), load_environment(repo, "local")
    assert (local.target, dev.target) == ("emulator", "aws")
    assert {n: c.module for n, c in local.components.items()} == {n: c.module for n, c in dev.components.items()}
    assert all(local.components[n].wiring == c.wiring for n, c in dev.components.items())
    # The only inputs local changes turn off what the emulator cannot carry (README "The local environment").
    changed = {
        f"{n}.{key}"
        for n, c in dev.components.items()
        for key in set(c.inputs) | set(local.components[n].inputs)
        if c.inputs.get(key) != local.components[n].inputs.get(key)
    }
    assert changed == {"guardduty.trusted_ip_list_file", "guardduty.threat_ip_list_files"}
    assert local.account_ids == ["123456789012"]


def test_up_with_a_plugin_dir_without_the_provider_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    repo = Path(__file__).resolve().parent.parent
    root = tmp_path / "copy"
    shutil.copytree(repo / "environments", root / "environments")
    shutil.copytree(repo / "modules", root / "modules")
    empty = tmp_path / "plugins"
    empty.mkdir()
    monkeypatch.setenv("PROVISION_PLUGIN_DIR", str(empty))
    result = CliRunner().invoke(app, ["--project", str(root), "up", "--env", "local", "--auto-approve"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: PROVISION_PLUGIN_DIR {empty}: no hashicorp/aws provider in it; lay it out as "
        f"{empty}/registry.terraform.io/hashicorp/aws/VERSION/linux_amd64/terraform-provider-aws_*"
    ]
    assert not (root / ".provision" / "emulator.json").exists(), "no emulator started"


@pytest.mark.slow
def test_down_activates_the_emulator_before_it_builds_terraform(tmp_path: Path) -> None:
    """`down` on `local` as a newcomer runs it: no PROVISION_PLUGIN_DIR, so the provider dir is the one the
    emulator target finds. Terraform used to be built before that (init failed offline, in 2 s)."""
    import shutil

    repo = Path(__file__).resolve().parent.parent
    for part in ("environments", "modules", "rules"):
        shutil.copytree(repo / part, tmp_path / part)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {"PYTHONPATH": str(repo), "CI": "1"}
    argv = [sys.executable, "-m", "provisioner.cli", "--project", str(tmp_path)]
    try:
        down = subprocess.run([*argv, "down", "--env", "local", "--yes"], env=env, capture_output=True, text=True)
        assert down.returncode == 0, down.stdout[-2000:] + down.stderr[-2000:]
        assert "nothing to destroy: the state of local is empty" in down.stdout
    finally:
        subprocess.run([*argv, "emulator", "stop"], env=env, capture_output=True, check=False)

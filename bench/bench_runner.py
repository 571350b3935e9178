"""Overhead of the runner: raw `terraform plan` vs `Terraform.plan` (streamed events) on a null-provider root."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from provisioner.terraform import Terraform, find_terraform

NULL = "terraform-provider-null_v2.1.2_x4"
RESOURCES = 20
ROUNDS = 5
ROOT = """
resource "null_resource" "r" {
  count    = %d
  triggers = { index = count.index }
}
"""


def _plugin_dir(base: Path) -> Path:
    src = Path(sys.prefix) / "lib" / NULL
    dest = base / "plugins" / "registry.terraform.io" / "hashicorp" / "null" / "2.1.2" / "linux_amd64"
    dest.mkdir(parents=True)
    shutil.copy2(src, dest / NULL)
    (dest / NULL).chmod(0o755)
    return base / "plugins"


def _median_seconds(action: Callable[[], None], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run() -> dict[str, str]:
    env = dict(os.environ)
    venv_terraform = Path(sys.prefix) / "bin" / "terraform"
    if "PROVISION_TERRAFORM" not in env and venv_terraform.exists():
        env["PROVISION_TERRAFORM"] = str(venv_terraform)
    binary = find_terraform(env)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        root = base / "root"
        root.mkdir()
        (root / "main.tf").write_text(ROOT % RESOURCES)
        tf = Terraform(root, binary=binary, plugin_dir=_plugin_dir(base), env={"TF_CLI_CONFIG_FILE": ""})
        tf.init()
        child_env = tf.child_env()
        raw_args = [str(binary.path), f"-chdir={root}", "plan", "-input=false", "-no-color", "-json"]
        raw_args += ["-detailed-exitcode", f"-out={root / 'raw.tfplan'}"]
        events: list[dict[str, object]] = []

        def raw() -> None:
            subprocess.run(raw_args, env=child_env, capture_output=True, check=False)

        def runner() -> None:
            events.clear()
            tf.plan(root / "runner.tfplan", on_event=events.append)

        raw()  # warm the page cache before timing either side
        raw_s = _median_seconds(raw)
        runner_s = _median_seconds(runner)
    return {
        "terraform": binary.version_text,
        "resources": str(RESOURCES),
        "rounds": str(ROUNDS),
        "raw_plan_median_s": f"{raw_s:.3f}",
        "runner_plan_median_s": f"{runner_s:.3f}",
        "runner_overhead_ms": f"{(runner_s - raw_s) * 1000:.0f}",
        "events_per_plan": str(len(events)),
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key}: {value}")

"""Wall time of `provision drift` (Terraform part: init, refresh-only plan, plan, two shows) for one
environment and for four with --parallel 4 (and --parallel 1 for comparison), on applied fixture
environments with the offline null provider.

Target: four environments with --parallel 4 well under four times one environment (on 2 cores, terraform
plans are partly CPU-bound, so not 1x either).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from bench.common import fixture_copy, plugin_dir, timed

ENVS = ("dev", "prod", "demo", "outputs")


def _apply(project: Path, plugins: Path, env: str) -> None:
    from provisioner.project import Project
    from provisioner.ui import UI
    from provisioner.workspace import Workspace

    ws = Workspace.open(Project(project), env, ui=UI(), plugin_dir=plugins)
    tf = ws.terraform
    ws.render()
    tf.init()
    outcome = tf.plan(ws.work_dir / "bench.tfplan")
    tf.apply(outcome.plan_file)
    outcome.plan_file.unlink()


def run() -> dict[str, str]:
    from provisioner.drift import DriftRequest, check_drift
    from provisioner.project import Project
    from provisioner.report.drift import to_text
    from provisioner.ui import UI

    project, plugins = fixture_copy(), plugin_dir()
    empty_config = project.parent / "terraformrc"
    empty_config.write_text("")
    saved = os.environ.get("TF_CLI_CONFIG_FILE")
    os.environ["TF_CLI_CONFIG_FILE"] = str(empty_config)
    try:
        for env in ENVS:
            _apply(project, plugins, env)
        quiet = UI(out=io.StringIO(), err=io.StringIO())

        def drift(envs: tuple[str, ...], parallel: int) -> None:
            request = DriftRequest(envs=envs, parallel=parallel, aws_checks=False, plugin_dir=plugins)
            report = check_drift(Project(project), request, ui=quiet)
            if report.exit_code != 0:
                raise RuntimeError(f"bench environments drifted: {to_text(report)}")

        one, _ = timed(lambda: drift(ENVS[:1], 4), repeat=3)
        four, _ = timed(lambda: drift(ENVS, 4), repeat=3)
        serial, _ = timed(lambda: drift(ENVS, 1), repeat=1)
    finally:
        if saved is None:
            os.environ.pop("TF_CLI_CONFIG_FILE", None)
        else:
            os.environ["TF_CLI_CONFIG_FILE"] = saved
    return {
        "drift 1 env (median of 3)": f"{one:.2f} s",
        "drift 4 envs --parallel 4 (median of 3)": f"{four:.2f} s",
        "drift 4 envs --parallel 1": f"{serial:.2f} s",
        "4 envs parallel / 1 env": f"{four / one:.2f}x",
        "cpu cores": str(os.cpu_count()),
    }

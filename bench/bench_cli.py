"""Start-up time of `provision --help` (target <= 150 ms) and render + validate of the full dev stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.common import repo_copy, timed


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def run() -> dict[str, str]:
    provision = Path(sys.prefix) / "bin" / "provision"
    help_median, help_min = timed(
        lambda: subprocess.run([str(provision), "--help"], capture_output=True, check=True), repeat=10
    )
    python_median, _ = timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), repeat=10)

    from provisioner.project import Project
    from provisioner.render import render
    from provisioner.spec import load_environment
    from provisioner.validate import validate_tree

    project = Project(repo_copy())

    def render_dev() -> None:
        render(project, load_environment(project, "dev"))

    render_median, _ = timed(render_dev, repeat=5)
    work = project.work_dir("dev")
    validate_median, _ = timed(lambda: validate_tree(work, project.modules_dir), repeat=3)
    cli_median, _ = timed(
        lambda: subprocess.run(
            [str(provision), "--project", str(project.root), "render", "--env", "dev"],
            capture_output=True,
            check=True,
        ),
        repeat=3,
    )
    return {
        "provision --help (median / min, target <= 150 ms)": f"{_ms(help_median)} / {_ms(help_min)}",
        "bare python start-up (median)": _ms(python_median),
        "render dev stack, in process (median)": _ms(render_median),
        "validate dev stack (HCL + provider schema, median)": _ms(validate_median),
        "`provision render --env dev` end to end (median)": _ms(cli_median),
    }

"""Overhead of `provision plan` / `up` over raw terraform on the fixture project (scans excluded),
the Checkov scan time on the full AWS stack, and the resource count per module.

Target: provision's overhead within 10 % or 0.3 s of raw terraform, whichever is larger.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import fixture_copy, plugin_dir, repo_copy


def _raw_terraform(work: Path, plugins: Path, terraform: str) -> float:
    """The same terraform work provision does for `plan`: init, plan -out, show -json."""
    for leftover in (".terraform", ".terraform.lock.hcl", "terraform.tfstate"):
        path = work / leftover
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    started = time.perf_counter()
    run = [terraform, f"-chdir={work}"]
    subprocess.run([*run, "init", "-input=false", f"-plugin-dir={plugins}"], capture_output=True, check=True)
    subprocess.run([*run, "plan", "-input=false", "-out=raw.tfplan"], capture_output=True, check=False)
    subprocess.run([*run, "show", "-json", "raw.tfplan"], capture_output=True, check=True)
    return time.perf_counter() - started


def _provision_plan(project: Path, plugins: Path) -> tuple[float, float]:
    """Wall time of lifecycle.plan_environment and the part of it spent in Checkov."""
    from provisioner import lifecycle, scan
    from provisioner.project import Project
    from provisioner.ui import UI
    from provisioner.workspace import Workspace

    scan_seconds = 0.0
    originals = (scan.scan_config, scan.scan_plan)

    def timed_config(*args: Any, **kwargs: Any) -> Any:
        nonlocal scan_seconds
        started = time.perf_counter()
        try:
            return originals[0](*args, **kwargs)
        finally:
            scan_seconds += time.perf_counter() - started

    def timed_plan(*args: Any, **kwargs: Any) -> Any:
        nonlocal scan_seconds
        started = time.perf_counter()
        try:
            return originals[1](*args, **kwargs)
        finally:
            scan_seconds += time.perf_counter() - started

    scan.scan_config, scan.scan_plan = timed_config, timed_plan  # type: ignore[assignment]
    work = project / ".provision" / "dev"
    shutil.rmtree(work, ignore_errors=True)
    try:
        ui = UI(out=io.StringIO(), err=io.StringIO())
        started = time.perf_counter()
        lifecycle.plan_environment(Workspace.open(Project(project), "dev", ui=ui, plugin_dir=plugins))
        total = time.perf_counter() - started
    finally:
        scan.scan_config, scan.scan_plan = originals  # type: ignore[assignment]
    return total, scan_seconds


def _resource_counts(modules: Path) -> dict[str, int]:
    import hcl2

    counts: Counter[str] = Counter()
    for tf in sorted(modules.glob("*/*.tf")):
        parsed = hcl2.loads(tf.read_text(encoding="utf-8"))
        counts[tf.parent.name] += sum(len(block) for block in parsed.get("resource", []))
    return dict(sorted(counts.items()))


def run() -> dict[str, str]:
    from moto.server import ThreadedMotoServer

    from provisioner.terraform import find_terraform

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    saved = dict(os.environ)
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://{host}:{port}",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="eu-west-1",
        CHECKOV_SKIP_PACKAGE_UPDATE_CHECK="true",
    )
    results: dict[str, str] = {}
    try:
        terraform = str(find_terraform().path)
        plugins = plugin_dir()
        project = fixture_copy()
        provision_runs = []
        raw_runs = []
        for _ in range(3):
            provision_runs.append(_provision_plan(project, plugins))
            raw_runs.append(_raw_terraform(project / ".provision" / "dev", plugins, terraform))
        total, scans = min(provision_runs, key=lambda r: r[0] - r[1])
        raw = min(raw_runs)
        overhead = (total - scans) - raw
        budget = max(0.1 * raw, 0.3)
        results["raw terraform init+plan+show (best of 3)"] = f"{raw:.2f} s"
        results["provision plan, scans excluded (best of 3)"] = f"{total - scans:.2f} s"
        results["provision overhead (target <= max(10%, 0.3 s))"] = (
            f"{overhead:+.2f} s ({'within' if overhead <= budget else 'OVER'} budget {budget:.2f} s)"
        )
        results["checkov time in provision plan (config + plan scan)"] = f"{scans:.2f} s"

        from provisioner.project import Project
        from provisioner.render import render
        from provisioner.scan import scan_config
        from provisioner.spec import load_environment

        repo = Project(repo_copy())
        spec = load_environment(repo, "dev")
        rendered = render(repo, spec)
        started = time.perf_counter()
        report = scan_config(rendered.work_dir, spec.checkov, base=repo.root)
        results["checkov on the full dev stack"] = (
            f"{time.perf_counter() - started:.2f} s ({report.passed} passed, {len(report.failed)} failed, "
            f"{len(report.skipped)} skipped by policy)"
        )
        counts = _resource_counts(repo.modules_dir)
        results["resources per module"] = ", ".join(f"{k}={v}" for k, v in counts.items())
        results["resources in all modules"] = str(sum(counts.values()))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()
    return results

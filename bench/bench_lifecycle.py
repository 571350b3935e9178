"""`provision plan` against its parts, on the fixture project and on the full dev stack (issue 17).

For each: the raw terraform path (init + plan -out + show -json), one raw Checkov plan scan (one `checkov`
process, start-up included) and `provision plan` wall time, plus how long `provision plan` waited for the
configuration scan once Terraform was done (0 = fully overlapped). Alternatives measured on the fixture:
the Checkov worker (default), one CLI process per scan (`PROVISION_CHECKOV_WORKER=0`, still concurrent), and
the old sequential gate (config CLI scan, then terraform, then plan CLI scan: the sum of the raw parts).

Targets: fixture `provision plan` <= 1.15 x (raw terraform + one raw Checkov plan scan); dev: the
configuration scan fully overlapped. The dev stack needs the hashicorp/aws mirror (/opt/tf-plugins or
PROVISION_AWS_PLUGIN_DIR) and plans against an in-process moto server.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import REPO, fixture_copy, plugin_dir

AWS_MIRROR = Path(os.environ.get("PROVISION_AWS_PLUGIN_DIR", "/opt/tf-plugins"))


def _clean(work: Path) -> None:
    for leftover in (".terraform", ".terraform.lock.hcl", "terraform.tfstate"):
        path = work / leftover
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


def _raw_terraform(work: Path, plugins: Path, terraform: str) -> tuple[float, Path]:
    """The same terraform work provision does for `plan`: init, plan -out, show -json."""
    _clean(work)
    started = time.perf_counter()
    run = [terraform, f"-chdir={work}"]
    subprocess.run([*run, "init", "-input=false", f"-plugin-dir={plugins}"], capture_output=True, check=True)
    subprocess.run([*run, "plan", "-input=false", "-out=raw.tfplan"], capture_output=True, check=True)
    shown = subprocess.run([*run, "show", "-json", "raw.tfplan"], capture_output=True, check=True)
    elapsed = time.perf_counter() - started
    plan_json = work / "raw.tfplan.json"
    plan_json.write_bytes(shown.stdout)
    return elapsed, plan_json


def _raw_checkov(args: list[str], cwd: Path) -> float:
    """One `checkov` process, start-up included, with the gate's flags."""
    from provisioner.checkov_runner import COMMON_ARGS, checkov_env, find_checkov

    started = time.perf_counter()
    proc = subprocess.run(
        [str(find_checkov()), *args, *COMMON_ARGS], cwd=cwd, env=checkov_env(), capture_output=True, check=False
    )
    if proc.returncode not in (0, 1):
        raise RuntimeError(proc.stderr.decode(errors="replace")[-500:])
    return time.perf_counter() - started


@contextmanager
def _config_wait() -> Iterator[list[float]]:
    """Time `provision plan` spends blocked on the Checkov configuration scan itself (its report's parsing
    excluded): 0 when the scan had finished before Terraform did."""
    from provisioner.checkov_runner import CheckovRunner

    waits: list[float] = []
    original = CheckovRunner._wait_worker

    def timed(self: Any, scan_id: str) -> int:
        started = time.perf_counter()
        try:
            return original(self, scan_id)
        finally:
            if scan_id.startswith("config"):
                waits.append(time.perf_counter() - started)

    CheckovRunner._wait_worker = timed  # type: ignore[method-assign]
    try:
        yield waits
    finally:
        CheckovRunner._wait_worker = original  # type: ignore[method-assign]


def _provision_plan(project: Path, env: str, plugins: Path) -> tuple[float, float]:
    """Wall time of lifecycle.plan_environment and its wait for the configuration scan."""
    from provisioner import lifecycle
    from provisioner.project import Project
    from provisioner.ui import UI
    from provisioner.workspace import Workspace

    shutil.rmtree(project / ".provision" / env, ignore_errors=True)
    with _config_wait() as waits:
        ui = UI(out=io.StringIO(), err=io.StringIO())
        started = time.perf_counter()
        lifecycle.plan_environment(Workspace.open(Project(project), env, ui=ui, plugin_dir=plugins))
        total = time.perf_counter() - started
    return total, sum(waits)


@contextmanager
def _env(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class _NoScans:
    """Stands in for ScanSession to measure what provision adds to terraform, scans excluded."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from provisioner.scan import ScanReport

        self.report = ScanReport

    def start_config_scan(self, root_dir: Path, *, on_report: Any = None) -> Any:
        report = self.report(target="config")
        if on_report is not None:
            on_report(report)
        pending = type("Done", (), {"collected": True, "done": lambda s: True, "result": lambda s: report})
        return pending()

    def start_plan_scan(self, *args: Any, **kwargs: Any) -> Any:
        report = self.report(target="plan")
        return type("Done", (), {"result": lambda s, config=None: report})()

    def close(self) -> None:
        pass


def _plan_args(plan_json: Path, root: Path) -> list[str]:
    from provisioner.scan import plan_args

    return plan_args(plan_json, root)


def _fixture(results: dict[str, str], terraform: str) -> None:
    """Rounds of every measurement, interleaved, so that the machine's load drifts over all of them alike."""
    from provisioner.scan import config_args

    plugins = plugin_dir()
    project = fixture_copy()
    work = project / ".provision" / "dev"
    runs: dict[str, list[float]] = {k: [] for k in ("worker", "wait", "cli", "bare", "raw", "plan", "config")}
    ratios = []
    for _ in range(3):
        total, wait = _provision_plan(project, "dev", plugins)
        runs["worker"].append(total)
        runs["wait"].append(wait)
        with _env(PROVISION_CHECKOV_WORKER="0"):
            runs["cli"].append(_provision_plan(project, "dev", plugins)[0])
        runs["bare"].append(_without_scans(project, plugins))
        raw, plan_json = _raw_terraform(work, plugins, terraform)
        runs["raw"].append(raw)
        runs["plan"].append(_raw_checkov(_plan_args(plan_json, work), work))
        runs["config"].append(_raw_checkov(config_args(work), work))
        ratios.append(total / (raw + runs["plan"][-1]))
    best = {k: min(v) for k, v in runs.items()}
    ratio = sorted(ratios)[1]
    overhead = best["bare"] - best["raw"]
    budget = max(0.1 * best["raw"], 0.3)
    results["fixture: raw terraform init+plan+show (best of 3)"] = f"{best['raw']:.2f} s"
    results["fixture: provision plan overhead over raw terraform, scans excluded (target <= max(10%, 0.3 s))"] = (
        f"{overhead:+.2f} s ({'within' if overhead <= budget else 'OVER'} budget {budget:.2f} s)"
    )
    results["fixture: raw Checkov plan scan, one process (best of 3)"] = f"{best['plan']:.2f} s"
    results["fixture: raw Checkov configuration scan, one process (best of 3)"] = f"{best['config']:.2f} s"
    results["fixture: provision plan, Checkov worker (best of 3)"] = (
        f"{best['worker']:.2f} s; config-scan wait after terraform {best['wait']:.2f} s"
    )
    results["fixture: provision plan / (raw terraform + raw plan scan), median of 3 rounds (target <= 1.15)"] = (
        f"{ratio:.2f} ({'met' if ratio <= 1.15 else 'MISSED'}; rounds {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    results["fixture: provision plan, one Checkov process per scan (best of 3)"] = f"{best['cli']:.2f} s"
    results["fixture: before (sequential gate = config scan + terraform + plan scan, best parts)"] = (
        f"{best['config'] + best['raw'] + best['plan']:.2f} s"
    )


def _without_scans(project: Path, plugins: Path) -> float:
    from provisioner import scan

    original = scan.ScanSession
    scan.ScanSession = _NoScans  # type: ignore[assignment,misc]
    try:
        return _provision_plan(project, "dev", plugins)[0]
    finally:
        scan.ScanSession = original  # type: ignore[misc]


def _dev_project() -> Path:
    """A copy of the repository whose pins admit the 5.100 mirror, planned against moto's default account."""
    sys.path.insert(0, str(REPO / "scripts"))
    from record_real_plan import project_copy

    root = project_copy(Path(tempfile.mkdtemp(prefix="bench-dev-")) / "repo")
    dev = root / "environments" / "dev.yaml"
    dev.write_text(dev.read_text().replace('account_ids: ["111111111111"]', 'account_ids: ["123456789012"]'))
    return root


def _dev(results: dict[str, str], terraform: str) -> None:
    if not (AWS_MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        results["dev stack"] = f"not measured: no hashicorp/aws mirror at {AWS_MIRROR}"
        return
    project = _dev_project()
    work = project / ".provision" / "dev"
    total, wait = _provision_plan(project, "dev", AWS_MIRROR)
    raw, plan_json = _raw_terraform(work, AWS_MIRROR, terraform)
    plan_scan = _raw_checkov(_plan_args(plan_json, work), work)
    results["dev: raw terraform init+plan+show (aws 5.100 against moto)"] = f"{raw:.2f} s"
    results["dev: raw Checkov plan scan, one process"] = f"{plan_scan:.2f} s"
    results["dev: provision plan, Checkov worker"] = (
        f"{total:.2f} s (raw terraform + plan scan = {raw + plan_scan:.2f} s); config-scan wait after "
        f"terraform {wait:.2f} s ({'fully overlapped' if wait < 0.05 else 'NOT fully overlapped'})"
    )


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
    results: dict[str, str] = {}
    try:
        with _env(
            AWS_ENDPOINT_URL=f"http://{host}:{port}",
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_DEFAULT_REGION="eu-west-1",
            AWS_REGION="eu-west-1",
            CHECKOV_SKIP_PACKAGE_UPDATE_CHECK="true",
            TF_IN_AUTOMATION="1",
        ):
            terraform = str(find_terraform().path)
            _fixture(results, terraform)
            _dev(results, terraform)
        counts = _resource_counts(REPO / "modules")
        results["resources per module"] = ", ".join(f"{k}={v}" for k, v in counts.items())
        results["resources in all modules"] = str(sum(counts.values()))
    finally:
        server.stop()
    return results

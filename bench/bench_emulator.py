"""The main job on the embedded emulator (`local`): wall time of `up`, the no-change `plan`, `drift` and
`down`, resources created vs planned, and the emulator's peak memory.

Default: OpenSearch replaced by the test stand-in (the provider's fixed 10-minute waits on a domain's create
and delete would dominate every figure); BENCH_REAL_OPENSEARCH=1 runs the real module (about 26 minutes).
The `local` spec deploys the same components as `dev`, so its planned count is what `dev` plans.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from tests.e2e_local import build_project, instance_count, local_cli, provider_dir_or_skip, state_resources


def _peak_rss_mib(pid: int) -> float:
    """VmHWM: the process's peak resident set so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run() -> dict[str, Any]:
    import json

    real = os.environ.get("BENCH_REAL_OPENSEARCH") == "1"
    plugin_dir = provider_dir_or_skip()
    project = build_project(Path(tempfile.mkdtemp(prefix="bench-local-")), standin=not real)
    session = local_cli(project, plugin_dir)
    cli = next(session)
    metrics: dict[str, Any] = {"opensearch": "real module" if real else "stand-in"}
    try:
        up = cli("up", "--env", "localci", "--auto-approve")
        assert up.code == 0, up.err[-2000:]
        planned = int(re.search(r"(\d+) to create", up.out).group(1))  # type: ignore[union-attr]
        metrics |= {"up (s)": round(up.seconds, 1), "planned": planned, "created": instance_count(state_resources(cli))}
        plan = cli("plan", "--env", "localci")
        metrics["no-change plan (s)"] = round(plan.seconds, 1)
        metrics["plan changes"] = re.search(r"Plan: [^\n]*", plan.out).group(0) if "Plan:" in plan.out else plan.code  # type: ignore[union-attr]
        drift = cli("drift", "--env", "localci", "--format", "json")
        metrics |= {"drift (s)": round(drift.seconds, 1), "drift exit": json.loads(drift.out)["exit_code"]}
        pid = json.loads(cli("emulator", "status", "--format", "json").out)["pid"]
        down = cli("down", "--env", "localci", "--yes")
        metrics |= {"down (s)": round(down.seconds, 1), "down exit": down.code}
        metrics["emulator peak RSS (MiB)"] = round(_peak_rss_mib(pid), 0)
    finally:
        session.close()
    return metrics

"""Throughput of `provision rules test`'s evaluator: the whole catalogue over normalised events, one core.

Run: .venv/bin/python bench/bench_rules.py   (target: >= 50,000 events/s/core)

The mix: every case event of the catalogue (positives and negatives of all three sources) plus Elastic's CloudTrail,
WAF and GuardDuty test records, replicated with varied source IPs, principals and times (1 s apart) so that
correlations see many small groups, as in real traffic.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from provisioner.rules.engine import Engine
from provisioner.rules.events import normalise_records
from provisioner.rules.loader import load_catalogue

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
N_EVENTS = 200_000
BASE_MS = 1_767_225_600_000


def _records() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted((DATA / "rules" / "cases").glob("*.json")):
        data = json.loads(path.read_text())
        out.extend(r for kind in ("positive", "negative") for scenario in data[kind] for r in scenario)
    for path in (
        *(DATA / "cloudtrail").glob("*.log"),
        DATA / "waf" / "test-waf.log",
        DATA / "guardduty" / "test-guard_duty.log",
    ):
        out.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return out


def _vary(rec: dict[str, Any], n: int) -> dict[str, Any]:
    rec = copy.deepcopy(rec)
    ip = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(BASE_MS // 1000 + n))
    if "eventName" in rec:
        rec["sourceIPAddress"], rec["eventTime"] = ip, stamp
        rec.setdefault("userIdentity", {})["userName"] = f"user{n % 500}"
    elif "httpRequest" in rec:
        rec["httpRequest"]["clientIp"], rec["timestamp"] = ip, BASE_MS + n * 1000
    else:
        finding = rec.get("detail", rec)
        finding["updatedAt"] = stamp
    return rec


def run() -> dict[str, str]:
    catalogue = load_catalogue(REPO / "rules", REPO)
    base = _records()
    records = [_vary(base[n % len(base)], n) for n in range(N_EVENTS)]
    started = time.perf_counter()
    events, skipped = normalise_records(records)
    normalised = time.perf_counter() - started
    engine = Engine(catalogue)
    best = cpu_best = float("inf")
    fired = 0
    for _ in range(3):
        started, cpu_started = time.perf_counter(), time.process_time()
        results = engine.run(events)
        best = min(best, time.perf_counter() - started)
        cpu_best = min(cpu_best, time.process_time() - cpu_started)  # per core: the machine is shared
        fired = sum(1 for r in catalogue.alerting if results[r.name].count)
    return {
        "catalogue": f"{len(catalogue.rules)} rules ({len(catalogue.alerting)} alerting)",
        "events": f"{len(events):,} normalised ({skipped} skipped), {len(base)} distinct base records",
        "evaluate, per core (CPU time)": f"{len(events) / cpu_best:,.0f} events/s ({cpu_best * 1000:.0f} ms CPU)",
        "evaluate, wall clock": f"{len(events) / best:,.0f} events/s ({best * 1000:.0f} ms)",
        "normalise (for reference)": f"{len(records) / normalised:,.0f} records/s",
        "rules that fired": str(fired),
    }


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name}: {value}")

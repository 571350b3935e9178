"""Throughput of the log normalisers and the findings converter, on replicated real records.

Run: .venv/bin/python bench/bench_functions.py
"""

from __future__ import annotations

import copy
import gzip
import json
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from provisioner.functions.findings import FindingContext, convert_report
from provisioner.functions.logs import normalize

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
N_LOG_RECORDS = 50_000
N_ALERTS = 10_000


def _replicate_lines(path: Path, count: int, vary: Callable[[dict[str, Any], int], None]) -> list[dict[str, Any]]:
    base = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    out = []
    for n in range(count):
        rec = copy.deepcopy(base[n % len(base)])
        vary(rec, n)
        out.append(rec)
    return out


def _vary_cloudtrail(rec: dict[str, Any], n: int) -> None:
    rec["eventID"] = f"{n:08d}-0000-4000-8000-{n:012d}"
    rec["sourceIPAddress"] = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def _vary_waf(rec: dict[str, Any], n: int) -> None:
    rec["timestamp"] += n
    rec["httpRequest"]["requestId"] = f"req-{n}"


def _vary_guardduty(rec: dict[str, Any], n: int) -> None:
    rec["id"] = f"{n:032x}"


def _rate(label: str, fn: Callable[[], int], results: dict[str, str], repeat: int = 3) -> None:
    best = float("inf")
    count = 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = fn()
        best = min(best, time.perf_counter() - start)
    results[label] = f"{count / best:,.0f} records/s ({count:,} records in {best * 1000:.0f} ms)"


def _zap_report(count: int) -> bytes:
    report = json.loads((DATA / "zap/report_json-2.8.0.json").read_bytes())
    alerts = report["site"][0]["alerts"]
    many = []
    for n in range(count):
        alert = copy.deepcopy(alerts[n % len(alerts)])
        alert["pluginid"] = str(100000 + n)
        many.append(alert)
    report["site"][0]["alerts"] = many
    return json.dumps(report).encode()


def run() -> dict[str, str]:
    results: dict[str, str] = {}
    trail = _replicate_lines(DATA / "cloudtrail/test-console-login-json.log", N_LOG_RECORDS, _vary_cloudtrail)
    s3_object = gzip.compress(json.dumps({"Records": trail}).encode())
    json_lines = "\n".join(json.dumps(r) for r in trail).encode()
    # The machine is shared: json.loads alone is the floor to read the other numbers against.
    as_array = b"[" + json_lines.replace(b"\n", b",") + b"]"
    _rate("baseline: json.loads of the same records", lambda: len(json.loads(as_array)), results)
    _rate("cloudtrail S3 object (gzip, parse+normalise)", lambda: len(normalize("cloudtrail", s3_object)[0]), results)
    _rate("cloudtrail JSON lines (parse+normalise)", lambda: len(normalize("cloudtrail", json_lines)[0]), results)
    waf = "\n".join(json.dumps(r) for r in _replicate_lines(DATA / "waf/test-waf.log", N_LOG_RECORDS, _vary_waf))
    _rate("waf JSON lines (parse+normalise)", lambda: len(normalize("waf", waf.encode())[0]), results)
    gd = _replicate_lines(DATA / "guardduty/test-guard_duty.log", N_LOG_RECORDS // 5, _vary_guardduty)
    gd_bytes = json.dumps(gd).encode()
    _rate("guardduty JSON array (parse+normalise)", lambda: len(normalize("guardduty", gd_bytes)[0]), results)

    report = _zap_report(N_ALERTS)
    ctx = FindingContext("123456789012", "eu-west-1", repository="org/app", branch="main")
    _rate("zap -> ASFF (10,000 alerts)", lambda: len(convert_report("zap", report, ctx).findings), results)

    tracemalloc.start()
    normalize("cloudtrail", s3_object)
    _, peak_logs = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    convert_report("zap", report, ctx)
    _, peak_zap = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    results["peak memory, cloudtrail 50k records"] = f"{peak_logs / 2**20:.0f} MiB (tracemalloc)"
    results["peak memory, zap 10k alerts"] = f"{peak_zap / 2**20:.0f} MiB (tracemalloc)"
    results["max RSS of the benchmark process"] = f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    return results


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name}: {value}")

"""Runs every `bench/bench_*.py` (or those named on the command line) and prints one table of metrics."""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    names = argv or sorted(p.stem for p in here.glob("bench_*.py"))
    failures = 0
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        try:
            metrics = module.run()
        except Exception:
            failures += 1
            traceback.print_exc()
            continue
        width = max((len(k) for k in metrics), default=0)
        for key, value in metrics.items():
            print(f"  {key.ljust(width)}  {value}", flush=True)
        print(f"  ({time.perf_counter() - started:.1f} s)", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

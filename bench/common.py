"""Helpers shared by the benchmarks (timing, an offline plugin dir, a private fixture project copy)."""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURE_PROJECT = REPO / "tests" / "fixtures" / "project"


def timed(fn: Callable[[], object], repeat: int = 5) -> tuple[float, float]:
    """Median and minimum wall time in seconds over `repeat` runs."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), min(samples)


def plugin_dir() -> Path:
    """The null provider from PyPI laid out for `terraform init -plugin-dir`, like tests/conftest.py."""
    src = Path(sys.prefix) / "lib" / "terraform-provider-null_v2.1.2_x4"
    root = Path(tempfile.mkdtemp(prefix="bench-plugins-"))
    dest = root / "registry.terraform.io" / "hashicorp" / "null" / "2.1.2" / "linux_amd64"
    dest.mkdir(parents=True)
    shutil.copy2(src, dest / src.name)
    return root


def fixture_copy() -> Path:
    dest = Path(tempfile.mkdtemp(prefix="bench-project-")) / "project"
    shutil.copytree(FIXTURE_PROJECT, dest)
    return dest


def repo_copy() -> Path:
    dest = Path(tempfile.mkdtemp(prefix="bench-repo-")) / "repo"
    shutil.copytree(REPO / "modules", dest / "modules")
    shutil.copytree(REPO / "environments", dest / "environments")
    shutil.copytree(REPO / "rules", dest / "rules")  # the detection catalogue the OpenSearch content compiles
    return dest

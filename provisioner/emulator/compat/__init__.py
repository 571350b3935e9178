"""Minimal compatibility fixes to moto (pinned: see `provisioner.emulator.MOTO_VERSION`), applied inside the
emulator process only (never to tests' in-process moto, never to real AWS).

Each fix wraps one moto function, is named after the moto behaviour it corrects, and has its own test in
tests/test_emulator_compat.py. The README's "The local environment" lists each one with its reason.
"""

from __future__ import annotations

from provisioner.emulator import MOTO_VERSION
from provisioner.emulator.compat.registry import FIXES, fix

__all__ = ["FIXES", "apply_all", "fix"]
_applied: set[str] = set()


def apply_all() -> list[str]:
    """Apply every fix once (idempotent); refuse a moto version the fixes were not written for."""
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(f"emulator fixes target moto {MOTO_VERSION}, found {moto.__version__}")
    from provisioner.emulator.compat import ec2, fixes, lambdas, opensearch_data, states  # noqa: F401 - registers the fixes

    for name, func in FIXES.items():
        if name not in _applied:
            func()
            _applied.add(name)
    return sorted(_applied)

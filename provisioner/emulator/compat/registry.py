"""The registry of fixes: `fixes.py` registers each with `@fix`, the package applies them (no import cycle)."""

from __future__ import annotations

from collections.abc import Callable

FIXES: dict[str, Callable[[], None]] = {}


def fix(func: Callable[[], None]) -> Callable[[], None]:
    FIXES[func.__name__] = func
    return func

"""Tool-native identity: which report entries are one finding, and the record of every merge made.

Each converter groups its report's entries by the scanner's own identity (SonarQube issue key,
Dependency-Check (vulnerability, package), ZAP (site, alert reference)) and builds one finding per group.
Entries are merged only when they share that identity; every merge is recorded so the caller can say
exactly what was folded together and why.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


@dataclass(frozen=True)
class Merge:
    """`entries` report entries (>= 2) became the one finding `finding_id` because they share `identity`."""

    finding_id: str
    identity: str
    entries: int


@dataclass
class Converted:
    """What a converter returns: findings (one per identity), skipped entries, merges."""

    findings: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0
    merges: list[Merge] = field(default_factory=list)

    def add(self, finding: dict[str, Any], identity: str, entries: int) -> None:
        self.findings.append(finding)
        if entries > 1:
            self.merges.append(Merge(finding["Id"], identity, entries))


def grouped(items: Iterable[tuple[K, T]]) -> dict[K, list[T]]:
    """Entries by identity, both in report order."""
    groups: dict[K, list[T]] = {}
    for key, item in items:
        groups.setdefault(key, []).append(item)
    return groups


def unique(values: Iterable[str]) -> list[str]:
    """Non-empty values, first occurrence first."""
    return list(dict.fromkeys(v for v in values if v))

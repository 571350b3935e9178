"""What a terraform command leaves behind: the run itself, a saved plan, an apply."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioner.terraform.diagnostics import Diagnostic


@dataclass(frozen=True)
class RunResult:
    returncode: int
    diagnostics: tuple[Diagnostic, ...]
    stdout: str = ""  # only for captured commands; streamed ones hand their output to on_event
    stderr: str = ""
    lock_id: str | None = None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


@dataclass(frozen=True)
class ChangeCounts:
    """Terraform's own `change_summary` event (add/change/remove)."""

    add: int = 0
    change: int = 0
    remove: int = 0

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> ChangeCounts:
        changes = event.get("changes") or {}
        return cls(int(changes.get("add", 0)), int(changes.get("change", 0)), int(changes.get("remove", 0)))


@dataclass(frozen=True)
class PlanOutcome:
    """A saved plan. `has_changes` follows `-detailed-exitcode`, except for refresh-only plans, which count
    only when Terraform reported drift (1.0 exits 2 there while saying "No changes")."""

    has_changes: bool
    plan_file: Path
    returncode: int
    counts: ChangeCounts
    drift_addresses: tuple[str, ...]
    warnings: tuple[Diagnostic, ...]
    destroy: bool = False
    refresh_only: bool = False


@dataclass(frozen=True)
class ApplyOutcome:
    counts: ChangeCounts
    warnings: tuple[Diagnostic, ...]

"""Saved plans, in one place: where they live, how a scanned plan is recorded, verified and removed.

A work dir keeps at most one *scanned* plan (`provision plan` -> `provision apply`): the binary plan, its JSON
(unmasked values: owner-only and deleted with the plan) and a meta file binding the plan's hash to the rendered
configuration's hash and the scans' verdicts. Destroy and drift plans are transient: they exist only while the
command that made them runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from provisioner.errors import GateFailed

PLAN_DIR = "plan"
TransientKind = Literal["destroy", "drift-refresh", "drift", "refresh"]
_SCANNED = "tfplan"
_SCANNED_JSON = "tfplan.json"
_SCANNED_META = "tfplan.meta.json"


@dataclass(frozen=True)
class ScannedPlan:
    """A saved plan that passed both Checkov scans; the only thing an apply accepts."""

    workspace: str
    plan_file: Path
    plan_sha256: str
    config_hash: str
    has_changes: bool
    total_changes: int


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class PlanStore:
    """The saved plans of one work dir."""

    def __init__(self, work_dir: Path) -> None:
        self.dir = work_dir / PLAN_DIR

    @property
    def plan_file(self) -> Path:
        return self.dir / _SCANNED

    @property
    def plan_json(self) -> Path:
        return self.dir / _SCANNED_JSON

    @property
    def _meta(self) -> Path:
        return self.dir / _SCANNED_META

    def new_plan(self) -> Path:
        """The path `terraform plan -out` writes to; a stale meta must never bless the new plan."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self._meta.unlink(missing_ok=True)
        return self.plan_file

    def write_json(self, data: dict[str, Any]) -> Path:
        """The plan as JSON for the scan; holds unmasked values, so it is private to the owner."""
        fd = os.open(self.plan_json, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        return self.plan_json

    def record_scanned(
        self, workspace: str, *, config_hash: str, has_changes: bool, total_changes: int, scans: list[bool]
    ) -> ScannedPlan:
        scanned = ScannedPlan(
            workspace, self.plan_file, sha256_of(self.plan_file), config_hash, has_changes, total_changes
        )
        meta = {
            "workspace": workspace,
            "plan_sha256": scanned.plan_sha256,
            "config_hash": config_hash,
            "destroy": False,
            "has_changes": has_changes,
            "total_changes": total_changes,
            "scans": scans,
        }
        self._meta.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return scanned

    def load_scanned(self, workspace: str, config_hash: str, *, plan_command: str) -> ScannedPlan:
        """The kept plan, only if it is byte for byte the scanned one and the configuration is unchanged."""
        if not self._meta.exists() or not self.plan_file.exists():
            raise GateFailed(f"no scanned plan for {workspace}", hint=f"run `{plan_command}` first")
        meta: dict[str, Any] = json.loads(self._meta.read_text())
        if meta.get("destroy"):
            raise GateFailed("the kept plan is a destroy plan; use `provision down`")
        if sha256_of(self.plan_file) != meta.get("plan_sha256"):
            raise GateFailed("refusing: the plan file is not the one that was scanned (hash differs)")
        if config_hash != meta.get("config_hash"):
            raise GateFailed(
                "refusing: the configuration changed since the plan was scanned", hint=f"run `{plan_command}` again"
            )
        return ScannedPlan(
            workspace,
            self.plan_file,
            meta["plan_sha256"],
            meta["config_hash"],
            bool(meta.get("has_changes", True)),
            int(meta.get("total_changes", 0)),
        )

    def discard(self) -> None:
        """Forget the scanned plan (applied, or made against resources that no longer exist)."""
        for path in (self.plan_file, self.plan_json, self._meta):
            path.unlink(missing_ok=True)

    @contextmanager
    def transient(self, *kinds: TransientKind) -> Iterator[list[Path]]:
        """Plan files that never outlive the command: they hold unmasked values and nothing may apply them
        later."""
        self.dir.mkdir(parents=True, exist_ok=True)
        paths = [self.dir / f"{kind}.tfplan" for kind in kinds]
        try:
            yield paths
        finally:
            for path in paths:
                path.unlink(missing_ok=True)

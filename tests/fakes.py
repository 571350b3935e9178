"""Fakes of the two programs a `Workspace` drives (Terraform and Checkov), for the fast lane (`make test-fast`).

They are injected through `provisioner.workspace.Tools`, as Atlantis mocks its TerraformExec: the use-cases
(up, plan, apply, drift, down, reap) run their real code against them. Their answers are recorded output of
the real tools: plan JSON from `tests/data/plans` (Terraform 1.0.3, null provider; `regenerate.py` there) and
Checkov reports in the shape Checkov 3.3 writes (`tests/data/plans/dev-first-plan.checkov-*.json.gz`).
The real-binary tests (tests/test_lifecycle.py, test_teardown.py, test_drift.py, ...) stay the reference.
"""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provisioner.errors import Interrupted, TerraformError
from provisioner.scan import ScanSession
from provisioner.spec import CheckovPolicy
from provisioner.terraform.binary import TerraformBinary
from provisioner.terraform.results import ApplyOutcome, ChangeCounts, PlanOutcome
from provisioner.workspace import Tools

PLANS = Path(__file__).resolve().parent / "data" / "plans"
EventHandler = Callable[[dict[str, Any]], None]


def recorded_plan(name: str) -> dict[str, Any]:
    """A `terraform show -json` plan recorded with the real binary (tests/data/plans/NAME.json)."""
    loaded: dict[str, Any] = json.loads((PLANS / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def recorded_checkov_failures(target: str = "config", count: int = 1) -> list[dict[str, Any]]:
    """Failed checks from Checkov 3.3.30's real report of the dev stack (`target`: config or plan)."""
    raw = json.loads(gzip.decompress((PLANS / f"dev-first-plan.checkov-{target}.json.gz").read_bytes()))
    report = raw[0] if isinstance(raw, list) else raw
    failed: list[dict[str, Any]] = report["results"]["failed_checks"][:count]
    return failed


def checkov_report(check_type: str, failed: list[dict[str, Any]], passed: int = 3) -> list[dict[str, Any]]:
    """Checkov's JSON output for one framework (`-o json`), as parsed by checkov_runner.parse_output."""
    passed_checks = [
        {"check_id": f"CKV_FAKE_{i}", "check_name": "passes", "resource": "null_resource.keep", "file_path": "/main.tf"}
        for i in range(passed)
    ]
    return [
        {
            "check_type": check_type,
            "results": {
                "passed_checks": passed_checks,
                "failed_checks": copy.deepcopy(failed),
                "skipped_checks": [],
                "parsing_errors": [],
            },
            "summary": {"passed": passed, "failed": len(failed), "skipped": 0, "parsing_errors": 0},
        }
    ]


@dataclass
class FakeCheckov:
    """Stands in for `CheckovRunner` inside a real `ScanSession`: the policy, deferral and reports are real."""

    config_failures: list[dict[str, Any]] = field(default_factory=list)
    plan_failures: list[dict[str, Any]] = field(default_factory=list)
    submitted: list[tuple[str, list[str]]] = field(default_factory=list)
    closed: int = 0
    version: str = "3.3.30"
    mode: str = "fake"

    def submit(self, scan_id: str, args: list[str], cwd: Path) -> None:
        self.submitted.append((scan_id, list(args)))

    def finished(self, scan_id: str) -> bool:
        return True

    def wait(self, scan_id: str) -> list[dict[str, Any]]:
        if scan_id.startswith("config"):
            return checkov_report("terraform", self.config_failures)
        return checkov_report("terraform_plan", self.plan_failures)

    def pids(self) -> list[int]:
        return []

    def close(self) -> None:
        self.closed += 1


@dataclass
class FakeCloud:
    """What the fake Terraform remembers between calls: the state of each work dir, and scripted trouble.

    The configuration is the recorded `create.json` plan: a normal plan creates what the state lacks, a destroy
    plan deletes what it holds, applies change the state accordingly."""

    desired: dict[str, Any] = field(default_factory=lambda: recorded_plan("create"))
    states: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (work dir name, command)
    drifted: set[str] = field(default_factory=set)  # work dir names whose refresh finds changes outside
    fail: dict[str, TerraformError] = field(default_factory=dict)  # command -> error it raises
    interrupt_apply_after: int | None = None  # Ctrl-C after this many changes of the next apply
    unformatted: list[str] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)
    built: list[str] = field(default_factory=list)  # work dir of every FakeTerraform made

    def tools(self, checkov: FakeCheckov | None = None) -> Tools:
        scanner = checkov or FakeCheckov()

        def scan_session(policy: CheckovPolicy, base: Path) -> ScanSession:
            return ScanSession(policy, base=base, runner=scanner)  # type: ignore[arg-type]

        def version() -> str:
            self.versions.append("1.15.5")
            return "terraform 1.15.5 (fake)"

        return Tools(
            terraform=lambda work_dir, plugin_dir: FakeTerraform(work_dir, self, plugin_dir),  # type: ignore[arg-type,return-value]
            scan_session=scan_session,
            terraform_version=version,
        )

    def state_of(self, work_dir: Path) -> dict[str, dict[str, Any]]:
        return self.states.setdefault(str(work_dir), {})

    def commands(self, work_dir_name: str | None = None) -> list[str]:
        return [cmd for name, cmd in self.calls if work_dir_name is None or name == work_dir_name]


def _change(rc: dict[str, Any], actions: list[str], before: Any, after: Any) -> dict[str, Any]:
    out = copy.deepcopy(rc)
    out["change"] = {**out["change"], "actions": actions, "before": before, "after": after}
    if actions in (["delete"], ["no-op"]):
        out["change"]["after_unknown"] = {}
    return out


class FakeTerraform:
    """The `Terraform` runner's interface over a `FakeCloud`; plan files hold the plan JSON itself."""

    def __init__(self, workdir: Path, cloud: FakeCloud, plugin_dir: Path | None = None) -> None:
        self.workdir = Path(workdir).absolute()
        self.plugin_dir = plugin_dir
        self.cloud = cloud
        self.binary = TerraformBinary(Path("/fake/terraform"), (1, 15, 5))
        cloud.built.append(str(self.workdir))

    @property
    def _state(self) -> dict[str, dict[str, Any]]:
        return self.cloud.state_of(self.workdir)

    def _call(self, command: str) -> None:
        self.cloud.calls.append((self.workdir.name, command))
        error = self.cloud.fail.get(command)
        if error is not None:
            raise error

    def initialised_by_other(self) -> str | None:
        return None  # one fake binary: never another terraform's work dir

    def init(self, *args: Any, on_event: EventHandler | None = None, **kwargs: Any) -> None:
        self._call("init")
        if on_event is not None:
            on_event({"type": "log", "@message": "Terraform has been successfully initialized!"})

    def fmt_check(self, paths: Any = (".",)) -> list[str]:
        self._call("fmt")
        return list(self.cloud.unformatted)

    def _plan_json(self, *, destroy: bool, refresh_only: bool) -> dict[str, Any]:
        plan = copy.deepcopy(self.cloud.desired)
        state = self._state
        if refresh_only:
            plan["resource_changes"] = []
            if self.workdir.name in self.cloud.drifted:
                plan["resource_drift"] = recorded_plan("drift_refresh")["resource_drift"]
            return plan
        changes = []
        for rc in plan["resource_changes"]:
            address = rc["address"]
            held = state.get(address)
            if destroy:
                if held is not None:
                    changes.append(_change(rc, ["delete"], held, None))
            elif held is None:
                changes.append(_change(rc, ["create"], None, rc["change"]["after"]))
            else:
                changes.append(_change(rc, ["no-op"], held, held))
        if destroy:  # what the state holds beyond the configuration is destroyed too
            known = {rc["address"] for rc in plan["resource_changes"]}
            for address, held in state.items():
                if address not in known:
                    changes.append(_orphan_delete(address, held))
        plan["resource_changes"] = changes
        return plan

    def plan(
        self, out: Path, *, destroy: bool = False, refresh_only: bool = False, on_event: EventHandler | None = None
    ) -> PlanOutcome:
        self._call("plan -destroy" if destroy else "plan -refresh-only" if refresh_only else "plan")
        plan = self._plan_json(destroy=destroy, refresh_only=refresh_only)
        Path(out).write_text(json.dumps(plan), encoding="utf-8")
        counts = _counts(plan["resource_changes"])
        drift = tuple(d["address"] for d in plan.get("resource_drift") or [])
        has_changes = bool(drift) if refresh_only else bool(counts.add or counts.change or counts.remove)
        return PlanOutcome(
            has_changes=has_changes,
            plan_file=Path(out).resolve(),
            returncode=2 if has_changes else 0,
            counts=counts,
            drift_addresses=drift,
            warnings=(),
            destroy=destroy,
            refresh_only=refresh_only,
        )

    def show_json(self, plan_file: Path) -> dict[str, Any]:
        self._call("show")
        loaded: dict[str, Any] = json.loads(Path(plan_file).read_text(encoding="utf-8"))
        return loaded

    def apply(self, plan_file: Path, on_event: EventHandler | None = None) -> ApplyOutcome:
        self._call("apply")
        plan = json.loads(Path(plan_file).read_text(encoding="utf-8"))
        emit = on_event or (lambda event: None)
        done = 0
        for rc in plan.get("resource_changes") or []:
            actions = rc["change"]["actions"]
            if actions == ["no-op"]:
                continue
            if self.cloud.interrupt_apply_after is not None and done >= self.cloud.interrupt_apply_after:
                self.cloud.interrupt_apply_after = None
                raise Interrupted("interrupted: terraform stopped after finishing the current resource")
            action = "delete" if actions == ["delete"] else "create"
            hook = {"resource": {"addr": rc["address"]}, "action": action}
            emit({"type": "apply_start", "hook": hook})
            if action == "delete":
                self._state.pop(rc["address"], None)
            else:
                self._state[rc["address"]] = rc["change"]["after"]
            emit({"type": "apply_complete", "hook": hook})
            done += 1
        counts = _counts(plan.get("resource_changes") or [])
        emit(
            {"type": "change_summary", "changes": {"add": counts.add, "change": counts.change, "remove": counts.remove}}
        )
        return ApplyOutcome(counts=counts, warnings=())

    def show_state_json(self) -> dict[str, Any]:
        self._call("show state")
        resources = [
            {
                "address": address,
                "mode": "managed",
                "type": address.split(".")[0],
                "name": address.split(".")[1],
                "provider_name": "registry.terraform.io/hashicorp/null",
                "values": values,
            }
            for address, values in sorted(self._state.items())
        ]
        return {
            "format_version": "0.2",
            "terraform_version": "1.15.5",
            "values": {"root_module": {"resources": resources}},
        }

    def output_json(self) -> dict[str, Any]:
        self._call("output")
        return {}

    def state_list(self) -> list[str]:
        self._call("state list")
        return sorted(self._state)

    def force_unlock_hint(self, lock_id: str | None) -> str:
        return f"terraform -chdir={self.workdir} force-unlock {lock_id or 'LOCK_ID'}"


def _orphan_delete(address: str, held: dict[str, Any]) -> dict[str, Any]:
    kind, name = address.split(".")[:2]
    return {
        "address": address,
        "mode": "managed",
        "type": kind,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/null",
        "change": {"actions": ["delete"], "before": held, "after": None, "after_unknown": {}},
    }


def _counts(changes: list[dict[str, Any]]) -> ChangeCounts:
    add = change = remove = 0
    for rc in changes:
        actions = rc["change"]["actions"]
        add += "create" in actions
        remove += "delete" in actions
        change += actions == ["update"]
    return ChangeCounts(add, change, remove)

"""The Checkov gate: scan the rendered configuration and the plan JSON, then apply the environment's policy.

Checkov runs as a subprocess from its own virtualenv (its pinned `bc-python-hcl2` clashes with python-hcl2).
The policy is applied here rather than with `--skip-check`, so the report can say which skips were used
and inline `checkov:skip` comments in modules cannot bypass the reviewed policy file.

A `ScanSession` serves every scan of one run from one Checkov start-up (`checkov_runner`): the configuration
scan runs while Terraform initialises and plans, the plan scan as soon as the plan JSON exists. Plan-scan
failures on values the plan cannot know yet are judged by the configuration scan (`plan_unknowns`).
"""

from __future__ import annotations

import hashlib
import json
import os
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from provisioner.checkov_runner import CheckovRunner, checkov_version_id, find_checkov
from provisioner.primitives import write_atomic
from provisioner.spec import CheckovPolicy

Target = Literal["config", "plan"]
POLICY_INDEX = "https://www.checkov.io/5.Policy%20Index/all.html"


@dataclass(frozen=True)
class CheckResult:
    check_id: str
    name: str
    resource: str
    file: str
    line: int
    guideline: str

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class SkippedCheck:
    check: CheckResult
    reason: str


@dataclass
class ScanReport:
    target: Target
    passed: int = 0
    failed: list[CheckResult] = field(default_factory=list)
    skipped: list[SkippedCheck] = field(default_factory=list)
    unused_skips: list[str] = field(default_factory=list)
    parsing_errors: list[str] = field(default_factory=list)
    # Plan checks that failed only on values unknown until apply and that the configuration scan passed.
    deferred: list[CheckResult] = field(default_factory=list)
    reused: bool = False
    seconds: float = 0.0
    # Raw Checkov reports, kept for the plan scan's reconciliation with this (configuration) scan.
    raw: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.parsing_errors

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "ok": self.ok,
            "passed": self.passed,
            "failed": [asdict(c) for c in self.failed],
            "skipped": [{**asdict(s.check), "reason": s.reason} for s in self.skipped],
            "unused_skips": self.unused_skips,
            "parsing_errors": self.parsing_errors,
            **({"unknown_until_apply": [asdict(c) for c in self.deferred]} if self.target == "plan" else {}),
            **({"reused": True} if self.reused else {}),
        }

    def to_text(self, *, brief: bool = False) -> str:
        """Verdict, every failed check with its location and guideline, then the policy's part: with `brief`
        (what `up` and `plan` print without -v) one wrapped line each for the skips and deferred checks, whose
        reasons are in the full form and in checkov.json."""
        deferred = f", {len(self.deferred)} unknown until apply" if self.deferred else ""
        reused = " (reused: same configuration, policy and Checkov as the stored report)" if self.reused else ""
        lines = [
            f"checkov ({self.target}): {self.passed} passed, {len(self.failed)} failed, "
            f"{len(self.skipped)} skipped by policy{deferred}{reused}"
        ]
        for check in self.failed:
            lines.append(f"  FAILED {check.check_id} {check.resource} ({check.location()})")
            lines.append(f"         {check.name}")
            if check.guideline:
                lines.append(f"         guideline: {check.guideline}")
        for error in self.parsing_errors:
            lines.append(f"  PARSE ERROR {error}")
        used: dict[str, tuple[str, int]] = {}
        for skip in self.skipped:
            reason, count = used.get(skip.check.check_id, (skip.reason, 0))
            used[skip.check.check_id] = (reason, count + 1)
        counts = Counter(check.check_id for check in self.deferred)
        if brief:
            lines += _wrapped("skipped by policy (reasons: -v or checkov.json)", {k: n for k, (_, n) in used.items()})
            lines += _wrapped("unknown until apply (the configuration scan passed them)", counts)
        else:
            for check_id, (reason, count) in sorted(used.items()):
                lines.append(f"  skipped {check_id} on {count} resource(s): {reason}")
            for check_id, count in sorted(counts.items()):
                lines.append(
                    f"  unknown until apply: {check_id} on {count} resource(s), judged by the configuration scan "
                    "(passed)"
                )
        # A skip may match only in the plan scan (values the configuration scan cannot resolve).
        where = " here (the plan scan may still use it)" if self.target == "config" else ""
        for check_id in self.unused_skips:
            lines.append(f"  note: policy skip {check_id} matched nothing{where} (remove it?)")
        return "\n".join(lines)


def _wrapped(label: str, counts: Mapping[str, int]) -> list[str]:
    if not counts:
        return []
    text = f"{label}: " + ", ".join(f"{check_id} x{n}" for check_id, n in sorted(counts.items()))
    return textwrap.wrap(text, 116, initial_indent="  ", subsequent_indent="    ")


def _check_from(raw: dict[str, Any], base: Path) -> CheckResult:
    file = raw.get("file_abs_path") or raw.get("file_path") or ""
    shown = file
    if file:
        try:
            shown = os.path.relpath(Path(file).resolve(), base)
        except ValueError:
            shown = file
    lines = raw.get("file_line_range") or [0, 0]
    return CheckResult(
        check_id=str(raw.get("check_id", "")),
        name=str(raw.get("check_name", "")),
        resource=str(raw.get("resource", "")),
        file=shown,
        line=int(lines[0] or 0),
        # Guideline links come from a vendor API we never call; point at the public policy index instead.
        guideline=str(raw.get("guideline") or f"{POLICY_INDEX} ({raw.get('check_id', '')})"),
    )


def evaluate(
    reports: list[dict[str, Any]],
    policy: CheckovPolicy,
    target: Target,
    base: Path,
    *,
    defer: Callable[[dict[str, Any]], bool] | None = None,
) -> ScanReport:
    """Apply the policy to Checkov's raw reports: policy skips pass with their reason, nothing else does.

    `defer` (plan scans) moves a failure on values unknown until apply to `deferred` (see plan_unknowns)."""
    skips = {s.id: s for s in policy.skip}
    result = ScanReport(target=target)
    used: set[str] = set()
    seen: set[tuple[str, str, str, int]] = set()
    for report in reports:
        results = report.get("results") or {}
        result.passed += len(results.get("passed_checks") or [])
        for error in results.get("parsing_errors") or report.get("parsing_errors") or []:
            result.parsing_errors.append(str(error))
        # Inline `checkov:skip` comments are not a policy: they count as failures unless the policy skips too.
        failed = [(True, raw) for raw in results.get("failed_checks") or []]
        for really_failed, raw in [*failed, *((False, raw) for raw in results.get("skipped_checks") or [])]:
            check = _check_from(raw, base)
            key = (check.check_id, check.resource, check.file, check.line)
            if key in seen:
                continue
            seen.add(key)
            skip = skips.get(check.check_id)
            if skip is not None and skip.covers(check.resource):
                used.add(check.check_id)
                result.skipped.append(SkippedCheck(check, skip.reason))
            elif defer is not None and really_failed and defer(raw):
                result.deferred.append(check)
            else:
                result.failed.append(check)
    result.failed.sort(key=lambda c: (c.file, c.line, c.check_id, c.resource))
    result.skipped.sort(key=lambda s: (s.check.check_id, s.check.file, s.check.line))
    result.deferred.sort(key=lambda c: (c.file, c.line, c.check_id, c.resource))
    result.unused_skips = sorted(set(skips) - used)
    result.raw = reports
    return result


def config_args(root_dir: Path) -> list[str]:
    """Checkov on the rendered root; local modules are followed from the root's module blocks."""
    return ["-d", str(root_dir), "--framework", "terraform"]


def plan_args(plan_json: Path, root_dir: Path) -> list[str]:
    """Checkov on `terraform show -json` output, enriched from the root so resources map back to files."""
    return ["-f", str(plan_json), "--framework", "terraform_plan", "--repo-root-for-plan-enrichment", str(root_dir)]


class PendingScan:
    """A configuration scan running in the background; `result()` waits for it (once) and hands the report
    to `on_report` the first time."""

    def __init__(
        self, session: ScanSession, scan_id: str, on_report: Callable[[ScanReport], object] | None = None
    ) -> None:
        self._session = session
        self._id = scan_id
        self._on_report = on_report
        self._started = time.monotonic()
        self._report: ScanReport | None = None

    @property
    def collected(self) -> bool:
        return self._report is not None

    def done(self) -> bool:
        """Whether the scan has finished (never blocks)."""
        return self._report is not None or self._session.runner.finished(self._id)

    def result(self) -> ScanReport:
        if self._report is None:
            raw = self._session.runner.wait(self._id)
            self._report = evaluate(raw, self._session.policy, "config", self._session.base)
            self._report.seconds = time.monotonic() - self._started
            if self._on_report is not None:
                self._on_report(self._report)
        return self._report


class PendingPlanScan:
    """A plan scan running in the background; `result(config=...)` waits for it."""

    def __init__(self, session: ScanSession, scan_id: str, plan_json: Path) -> None:
        self._session = session
        self._id = scan_id
        self._plan_json = plan_json
        self._started = time.monotonic()

    def result(self, *, config: ScanReport | None = None) -> ScanReport:
        """The plan report; with the configuration scan's report, failures on values unknown until apply are
        judged by it (plan_unknowns)."""
        from provisioner import plan_unknowns

        raw = self._session.runner.wait(self._id)
        defer = None
        if config is not None and config.raw:
            plan = json.loads(self._plan_json.read_text(encoding="utf-8"))
            defer = plan_unknowns.deferral(plan, plan_unknowns.config_verdicts(config.raw))
        report = evaluate(raw, self._session.policy, "plan", self._session.base, defer=defer)
        if config is not None:  # unused means unused by both scans of the run
            report.unused_skips = sorted(set(report.unused_skips) & set(config.unused_skips))
        report.seconds = time.monotonic() - self._started
        return report


class ScanSession:
    """Every Checkov scan of one run, from one Checkov start-up; a context manager that stops it all.

    Creating it starts Checkov (the worker imports it in the background); `close()` ends every Checkov
    process of the session, also on errors and Ctrl-C."""

    def __init__(
        self, policy: CheckovPolicy, *, base: Path, use_worker: bool | None = None, runner: CheckovRunner | None = None
    ) -> None:
        self.policy = policy
        self.base = base
        self.runner = runner or CheckovRunner(use_worker=use_worker)
        self._count = 0

    def __enter__(self) -> ScanSession:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _next_id(self, what: str) -> str:
        self._count += 1
        return f"{what}-{self._count}"

    def start_config_scan(
        self, root_dir: Path, *, on_report: Callable[[ScanReport], object] | None = None
    ) -> PendingScan:
        """Starts the configuration scan and returns at once; the scan runs alongside whatever comes next."""
        scan_id = self._next_id("config")
        self.runner.submit(scan_id, config_args(root_dir), cwd=root_dir)
        return PendingScan(self, scan_id, on_report)

    def scan_config(self, root_dir: Path) -> ScanReport:
        return self.start_config_scan(root_dir).result()

    def start_plan_scan(self, plan_json: Path, root_dir: Path) -> PendingPlanScan:
        """Starts the plan scan and returns at once (the configuration scan may still be running)."""
        scan_id = self._next_id("plan")
        self.runner.submit(scan_id, plan_args(plan_json, root_dir), cwd=root_dir)
        return PendingPlanScan(self, scan_id, plan_json)

    def scan_plan(self, plan_json: Path, root_dir: Path, *, config: ScanReport | None = None) -> ScanReport:
        return self.start_plan_scan(plan_json, root_dir).result(config=config)

    def close(self) -> None:
        self.runner.close()


def scan_config(root_dir: Path, policy: CheckovPolicy, *, base: Path | None = None) -> ScanReport:
    """One configuration scan (its own Checkov start-up)."""
    with ScanSession(policy, base=base or root_dir) as session:
        return session.scan_config(root_dir)


def scan_plan(
    plan_json: Path,
    root_dir: Path,
    policy: CheckovPolicy,
    *,
    base: Path | None = None,
    config: ScanReport | None = None,
) -> ScanReport:
    """One plan scan (its own Checkov start-up); see ScanSession.scan_plan."""
    with ScanSession(policy, base=base or root_dir) as session:
        return session.scan_plan(plan_json, root_dir, config=config)


# -- reuse of a stored configuration report (`provision scan`) ---------------------------------------------

CACHE_DIR = ".checkov-cache"
_TF_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json", ".hcl")


def _config_files_digest(root_dir: Path) -> str:
    """Every Terraform file Checkov could read in the rendered root (outside .terraform and hidden dirs)."""
    digest = hashlib.sha256()
    for path in sorted(root_dir.rglob("*")):
        relative = path.relative_to(root_dir)
        if any(part.startswith(".") for part in relative.parts) or not path.name.endswith(_TF_SUFFIXES):
            continue
        if path.is_file():
            digest.update(str(relative).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def config_scan_key(root_dir: Path, config_hash: str, policy: CheckovPolicy, base: Path) -> str | None:
    """Content address of a configuration scan: rendered files + modules (config_hash), policy, Checkov
    version and arguments. None when Checkov's version cannot be told (then nothing is reused)."""
    version = checkov_version_id(find_checkov())
    if version is None:
        return None
    parts = {
        "config_hash": config_hash,
        "root_files": _config_files_digest(root_dir),
        "root": str(root_dir.resolve()),
        "base": str(base.resolve()),
        "policy": policy.model_dump(mode="json"),
        "checkov": version,
        "args": config_args(root_dir),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def scan_config_reusing(root_dir: Path, config_hash: str, policy: CheckovPolicy, *, base: Path) -> ScanReport:
    """`provision scan`: reuses the stored report when its content address matches, else scans and stores."""
    key = config_scan_key(root_dir, config_hash, policy, base)
    store = root_dir / CACHE_DIR / "config.json"
    if key is not None and store.is_file():
        try:
            stored = json.loads(store.read_text(encoding="utf-8"))
        except ValueError:
            stored = {}
        if stored.get("key") == key:
            report = evaluate(stored["raw"], policy, "config", base)
            report.reused = True
            return report
    report = scan_config(root_dir, policy, base=base)
    if key is not None:
        # Checkov copies configuration values into its report: private to the owner (write_atomic's 0600).
        write_atomic(store, json.dumps({"key": key, "raw": report.raw}))
    return report


def write_reports(reports: list[ScanReport], directory: Path) -> list[Path]:
    """Checkov results for CI: our normalised JSON (no plan values copied) and JUnit XML."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "checkov.json"
    json_path.write_text(json.dumps([r.to_json() for r in reports], indent=2) + "\n", encoding="utf-8")
    from provisioner.report import junit

    suites = []
    for report in reports:
        cases = [
            junit.Case(c.check_id, f"{c.resource} ({c.location()})", "failure", c.name, c.guideline, c.check_id)
            for c in report.failed
        ]
        cases += [
            junit.Case(s.check.check_id, f"{s.check.resource} ({s.check.location()})", "skipped", s.reason)
            for s in report.skipped
        ]
        suites.append(junit.Suite(f"checkov-{report.target}", cases, tests=report.passed + len(cases)))
    junit_path = directory / "checkov.junit.xml"
    junit_path.write_text(junit.to_xml("checkov", suites), encoding="utf-8")
    return [json_path, junit_path]

"""The Checkov gate: scan the rendered configuration and the plan JSON, then apply the environment's policy.

Checkov runs as a subprocess from its own virtualenv (its pinned `bc-python-hcl2` clashes with python-hcl2).
The policy is applied here rather than with `--skip-check`, so the report can say which skips were used
and inline `checkov:skip` comments in modules cannot bypass the reviewed policy file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from provisioner.errors import ProvisionError, ToolMissingError
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
    seconds: float = 0.0

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
        }

    def to_text(self) -> str:
        lines = [
            f"checkov ({self.target}): {self.passed} passed, {len(self.failed)} failed, "
            f"{len(self.skipped)} skipped by policy"
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
        for check_id, (reason, count) in sorted(used.items()):
            lines.append(f"  skipped {check_id} on {count} resource(s): {reason}")
        for check_id in self.unused_skips:
            lines.append(f"  note: policy skip {check_id} matched nothing (remove it?)")
        return "\n".join(lines)


def find_checkov() -> Path:
    """PROVISION_CHECKOV, else the isolated venv `make install` creates, else `checkov` on PATH."""
    explicit = os.environ.get("PROVISION_CHECKOV")
    if explicit:
        path = Path(explicit)
        if not path.exists():
            raise ToolMissingError(f"PROVISION_CHECKOV={explicit}: no such file")
        return path
    bundled = Path(sys.prefix) / "opt" / "checkov" / "bin" / "checkov"
    if bundled.exists():
        return bundled
    found = shutil.which("checkov")
    if found:
        return Path(found)
    raise ToolMissingError(
        "checkov not found",
        hint="run `make install` (installs it in .venv/opt/checkov) or set PROVISION_CHECKOV to a checkov binary",
    )


def _checkov_env() -> dict[str, str]:
    env = dict(os.environ)
    # No outbound calls: no guideline download, no update check, no vendor API.
    env.update(
        {
            "BC_SKIP_MAPPING": "TRUE",
            "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
            "CHECKOV_SKIP_PACKAGE_UPDATE_CHECK": "true",
            "LOG_LEVEL": "ERROR",
            "ANSI_COLORS_DISABLED": "1",
        }
    )
    for key in ("BC_API_KEY", "PRISMA_API_URL"):
        env.pop(key, None)
    return env


def _run_checkov(args: list[str], cwd: Path) -> list[dict[str, Any]]:
    command = [str(find_checkov()), *args, "-o", "json", "--skip-download", "--compact"]
    proc = subprocess.run(command, cwd=cwd, env=_checkov_env(), capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ProvisionError(f"checkov failed (exit {proc.returncode}): {tail[0]}")
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise ProvisionError(f"checkov printed no JSON report (exit {proc.returncode})") from None
    # One framework gives a dict, several a list; an empty scan gives a summary-only dict.
    return data if isinstance(data, list) else [data]


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


def evaluate(reports: list[dict[str, Any]], policy: CheckovPolicy, target: Target, base: Path) -> ScanReport:
    """Apply the policy to Checkov's raw reports: policy skips pass with their reason, nothing else does."""
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
        for raw in [*(results.get("failed_checks") or []), *(results.get("skipped_checks") or [])]:
            check = _check_from(raw, base)
            key = (check.check_id, check.resource, check.file, check.line)
            if key in seen:
                continue
            seen.add(key)
            skip = skips.get(check.check_id)
            if skip is not None and skip.covers(check.resource):
                used.add(check.check_id)
                result.skipped.append(SkippedCheck(check, skip.reason))
            else:
                result.failed.append(check)
    result.failed.sort(key=lambda c: (c.file, c.line, c.check_id, c.resource))
    result.skipped.sort(key=lambda s: (s.check.check_id, s.check.file, s.check.line))
    result.unused_skips = sorted(set(skips) - used)
    return result


def scan_config(root_dir: Path, policy: CheckovPolicy, *, base: Path | None = None) -> ScanReport:
    """Checkov on the rendered root; local modules are followed from the root's module blocks."""
    started = time.monotonic()
    reports = _run_checkov(["-d", str(root_dir), "--framework", "terraform"], cwd=root_dir)
    report = evaluate(reports, policy, "config", base or root_dir)
    report.seconds = time.monotonic() - started
    return report


def scan_plan(plan_json: Path, root_dir: Path, policy: CheckovPolicy, *, base: Path | None = None) -> ScanReport:
    """Checkov on `terraform show -json` output, enriched from the root so resources map back to files."""
    started = time.monotonic()
    reports = _run_checkov(
        [
            "-f",
            str(plan_json),
            "--framework",
            "terraform_plan",
            "--repo-root-for-plan-enrichment",
            str(root_dir),
        ],
        cwd=root_dir,
    )
    report = evaluate(reports, policy, "plan", base or root_dir)
    report.seconds = time.monotonic() - started
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

"""The Checkov gate as SARIF 2.1.0, for GitHub code scanning (or any SARIF viewer).

One run per scan (configuration, plan), each with its own `automationDetails.id`, so each uploads as its own
code-scanning category (GitHub stopped combining several runs of one category in one upload in July 2025).
Locations point at the modules, the files a reviewer would change: Checkov reports plan-scan results against
the plan JSON or the rendered root under .provision/, so those are traced back through the module blocks to the
`resource` block in modules/. Policy skips become suppressions (kind external) with the policy's reason.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provisioner.scan import CheckResult, ScanReport

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
CHECKOV_URI = "https://www.checkov.io"
_MODULE_CALL = re.compile(r'^module\s+"([^"]+)"\s*\{(.*?)^\}', re.MULTILINE | re.DOTALL)
_SOURCE = re.compile(r'^\s*source\s*=\s*"([^"]+)"', re.MULTILINE)
_INDEX = re.compile(r"\[[^\]]*\]")


@dataclass
class Locator:
    """Finds where a resource address is declared: module blocks followed from the rendered root."""

    root_dir: Path
    base: Path
    _blocks: dict[Path, dict[str, str]] = field(default_factory=dict)

    def _tf_files(self, directory: Path) -> list[Path]:
        return sorted(directory.glob("*.tf")) if directory.is_dir() else []

    def _module_sources(self, directory: Path) -> dict[str, str]:
        if directory not in self._blocks:
            found: dict[str, str] = {}
            for path in self._tf_files(directory):
                for name, body in _MODULE_CALL.findall(path.read_text(encoding="utf-8", errors="replace")):
                    source = _SOURCE.search(body)
                    if source and source.group(1).startswith("."):  # local modules only
                        found[name] = source.group(1)
            self._blocks[directory] = found
        return self._blocks[directory]

    def locate(self, address: str) -> tuple[str, int] | None:
        """(file relative to base, line) of `resource "TYPE" "NAME"` for an address such as
        module.a["x"].module.b.aws_s3_bucket.this[0]; None when it cannot be traced."""
        parts = _INDEX.sub("", address).split(".")
        if parts and parts[0] == "data":
            return None
        directory = self.root_dir.resolve()
        while len(parts) > 2 and parts[0] == "module":
            source = self._module_sources(directory).get(parts[1])
            if source is None:
                return None
            directory = (directory / source).resolve()
            parts = parts[2:]
        if len(parts) != 2:
            return None
        block = re.compile(rf'^resource\s+"{re.escape(parts[0])}"\s+"{re.escape(parts[1])}"', re.MULTILINE)
        for path in self._tf_files(directory):
            text = path.read_text(encoding="utf-8", errors="replace")
            found = block.search(text)
            if found:
                line = text.count("\n", 0, found.start()) + 1
                return _relative(path, self.base), line
        return None


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _in_modules(file: str) -> bool:
    """A file a reviewer changes: not the rendered root (.provision/...), not a plan JSON."""
    return bool(file) and not file.startswith(".") and file.endswith(".tf") and "/.provision/" not in f"/{file}"


def _help_uri(guideline: str) -> str:
    # Our fallback guideline is "<policy index URL> (<check id>)": the URL is its first word.
    return guideline.split()[0] if guideline.startswith("http") else "https://www.checkov.io/5.Policy%20Index/all.html"


def _location(check: CheckResult, locator: Locator) -> tuple[str, int]:
    if _in_modules(check.file):
        return check.file, check.line
    traced = locator.locate(check.resource)
    return traced if traced else (check.file, check.line)


def _result(check: CheckResult, rule_index: int, locator: Locator, reason: str | None) -> dict[str, Any]:
    file, line = _location(check, locator)
    physical: dict[str, Any] = {"artifactLocation": {"uri": file, "uriBaseId": "%SRCROOT%"}}
    if line > 0:
        physical["region"] = {"startLine": line}
    identity = hashlib.sha256(f"{check.check_id}\0{check.resource}".encode()).hexdigest()
    result: dict[str, Any] = {
        "ruleId": check.check_id,
        "ruleIndex": rule_index,
        "level": "error",
        "message": {"text": f"{check.name} ({check.resource})"},
        "locations": [
            {
                "physicalLocation": physical,
                "logicalLocations": [{"fullyQualifiedName": check.resource, "kind": "resource"}],
            }
        ],
        "partialFingerprints": {"provisionCheckResource/v1": identity},
    }
    if reason is not None:
        result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": reason}]
    return result


def sarif_run(report: ScanReport, locator: Locator, *, category: str, version: str | None = None) -> dict[str, Any]:
    """One scan as one SARIF run: failures as errors, policy skips as suppressed results."""
    checks = [(c, None) for c in report.failed] + [(s.check, s.reason) for s in report.skipped]
    rules: dict[str, dict[str, Any]] = {}
    for check, _ in checks:
        rules.setdefault(
            check.check_id,
            {
                "id": check.check_id,
                "name": check.check_id,
                "shortDescription": {"text": check.name or check.check_id},
                "helpUri": _help_uri(check.guideline),
                "defaultConfiguration": {"level": "error"},
            },
        )
    order = {rule_id: index for index, rule_id in enumerate(rules)}
    driver: dict[str, Any] = {"name": "Checkov", "informationUri": CHECKOV_URI, "rules": list(rules.values())}
    if version:
        driver["version"] = version
    return {
        "tool": {"driver": driver},
        "automationDetails": {"id": f"{category}/"},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": locator.base.resolve().as_uri() + "/"}},
        "results": [_result(check, order[check.check_id], locator, reason) for check, reason in checks],
        "invocations": [{"executionSuccessful": not report.parsing_errors}],
    }


def to_sarif(reports: list[ScanReport], locator: Locator, *, workspace: str, version: str | None = None) -> str:
    """The SARIF log of one run of the gate; categories `checkov-<target>/<workspace>`."""
    runs = [sarif_run(r, locator, category=f"checkov-{r.target}/{workspace}", version=version) for r in reports]
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": runs}
    return json.dumps(log, indent=2) + "\n"

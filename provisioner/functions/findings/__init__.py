"""Scanner reports (ZAP, Dependency-Check, SonarQube) to Security Hub findings (ASFF)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from provisioner.functions.common import load_json
from provisioner.functions.errors import FunctionInputError
from provisioner.functions.findings import dependency_check, sonarqube, zap
from provisioner.functions.findings.asff import FindingContext
from provisioner.functions.findings.importer import ImportResult
from provisioner.functions.findings.importer import import_findings as _import

__all__ = ["TOOLS", "Conversion", "FindingContext", "ImportResult", "convert_report", "import_findings"]

_CONVERTERS = {
    zap.TOOL: zap.convert,
    dependency_check.TOOL: dependency_check.convert,
    sonarqube.TOOL: sonarqube.convert,
}
TOOLS = tuple(_CONVERTERS)


@dataclass
class Conversion:
    tool: str
    findings: list[dict[str, Any]]
    skipped: int = 0
    duplicates: int = 0


def convert_report(tool: str, data: bytes, ctx: FindingContext, *, source: str = "report") -> Conversion:
    """ASFF findings for one report. Raises FunctionInputError (source + reason) for unusable input."""
    if tool not in _CONVERTERS:
        raise FunctionInputError(source, f"unknown tool {tool!r} (expected one of: {', '.join(TOOLS)})")
    findings, skipped = _CONVERTERS[tool](load_json(data, source), ctx, source)
    unique: dict[str, dict[str, Any]] = {}
    for finding in findings:
        unique.setdefault(finding["Id"], finding)  # one Id per batch: Security Hub rejects repeats
    return Conversion(tool, list(unique.values()), skipped, len(findings) - len(unique))


def import_findings(
    client: Any,
    tool: str,
    findings: list[dict[str, Any]],
    ctx: FindingContext,
    *,
    resolve_missing: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> ImportResult:
    """Send findings to Security Hub with a boto3 `securityhub` client; see `importer.import_findings`."""
    return _import(
        client,
        findings,
        product_arn=ctx.product_arn,
        scope=ctx.scope(tool),
        resolve_missing=resolve_missing,
        sleep=sleep,
    )

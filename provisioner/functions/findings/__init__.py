"""Scanner reports (ZAP, Dependency-Check, SonarQube) to Security Hub findings (ASFF)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provisioner.functions.common import Backoff, load_json
from provisioner.functions.errors import FunctionInputError
from provisioner.functions.findings import dependency_check, sonarqube, zap
from provisioner.functions.findings.asff import FindingContext
from provisioner.functions.findings.identity import Merge
from provisioner.functions.findings.importer import ImportResult, Owner
from provisioner.functions.findings.importer import import_findings as _import

__all__ = ["TOOLS", "Conversion", "FindingContext", "ImportResult", "Merge", "convert_report", "import_findings"]

_CONVERTERS = {
    zap.TOOL: zap.convert,
    dependency_check.TOOL: dependency_check.convert,
    sonarqube.TOOL: sonarqube.convert,
}
TOOLS = tuple(_CONVERTERS)
_MERGES_SHOWN = 5


@dataclass
class Conversion:
    tool: str
    findings: list[dict[str, Any]]
    skipped: int = 0
    merges: list[Merge] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        """Report entries folded into another entry's finding (entries - findings over all merges)."""
        return sum(m.entries - 1 for m in self.merges)

    def note(self) -> str | None:
        """One line for people: what was skipped and exactly what was merged and why (None if nothing)."""
        parts = []
        if self.skipped:
            parts.append(f"{self.skipped} malformed entries skipped")
        if self.merges:
            shown = "; ".join(f"{m.identity} x{m.entries}" for m in self.merges[:_MERGES_SHOWN])
            more = f"; and {len(self.merges) - _MERGES_SHOWN} more" if len(self.merges) > _MERGES_SHOWN else ""
            count = len(self.merges)
            parts.append(
                f"{self.duplicates + count} report entries merged into {count} finding{'s' if count > 1 else ''} "
                f"(same tool identity: {shown}{more})"
            )
        return f"note: {', '.join(parts)}" if parts else None

    def summary(self) -> dict[str, Any]:
        return {
            "findings": len(self.findings),
            "skipped": self.skipped,
            "merged": [{"id": m.finding_id, "identity": m.identity, "entries": m.entries} for m in self.merges],
        }


def convert_report(tool: str, data: bytes, ctx: FindingContext, *, source: str = "report") -> Conversion:
    """ASFF findings for one report. Raises FunctionInputError (source + reason) for unusable input."""
    if tool not in _CONVERTERS:
        raise FunctionInputError(source, f"unknown tool {tool!r} (expected one of: {', '.join(TOOLS)})")
    converted = _CONVERTERS[tool](load_json(data, source), ctx, source)
    ids = [f["Id"] for f in converted.findings]
    if len(set(ids)) != len(ids):
        # Ids hash the tool's identity, which each converter groups by: a repeat is a bug, never merged blindly.
        raise RuntimeError(f"{source}: {tool} converter produced {len(ids) - len(set(ids))} repeated finding Ids")
    return Conversion(tool, converted.findings, converted.skipped, converted.merges)


def import_findings(
    client: Any,
    tool: str,
    findings: list[dict[str, Any]],
    ctx: FindingContext,
    *,
    backoff: Backoff = Backoff(),
) -> ImportResult:
    """Send findings to Security Hub with a boto3 `securityhub` client, resolving this scope's vanished ones;
    see `importer.import_findings`."""
    return _import(client, findings, Owner(ctx.product_arn, ctx.scope(tool)), backoff=backoff)

"""OWASP ZAP JSON reports (the old 2.x `@version`/`site` report and the reports add-on's traditional-json)."""

from __future__ import annotations

from typing import Any

from provisioner.functions.errors import FunctionInputError
from provisioner.functions.findings.asff import (
    FindingContext,
    build_finding,
    first_url,
    html_to_text,
    severity_from_label,
)

TOOL = "zap"
_RISK_LABELS = {0: "INFORMATIONAL", 1: "LOW", 2: "MEDIUM", 3: "HIGH"}
_RISK_NAMES = {0: "Informational", 1: "Low", 2: "Medium", 3: "High"}
# ZAP confidence 1-4 (low, medium, high, user confirmed); 0 means the user marked it a false positive.
_CONFIDENCE = {1: 30, 2: 60, 3: 90, 4: 100}
_INSTANCES_SHOWN = 5


def convert(report: Any, ctx: FindingContext, source: str) -> tuple[list[dict[str, Any]], int]:
    """(findings, skipped alerts): one finding per alert per site."""
    if not isinstance(report, dict):
        raise FunctionInputError(source, "not a ZAP JSON report (expected an object with a 'site' list)")
    version = str(report.get("@version", "unknown"))
    sites = report.get("site")
    if isinstance(sites, dict):  # ZAP before 2.8 wrote a single site as an object
        sites = [sites]
    if not isinstance(sites, list):
        raise FunctionInputError(source, f"ZAP report (version {version}) has no 'site' list")
    findings: list[dict[str, Any]] = []
    skipped = 0
    for site in sites:
        if not isinstance(site, dict):
            skipped += 1
            continue
        site_name = str(site.get("@name") or "")
        alerts = site.get("alerts") or []
        if isinstance(alerts, dict):
            alerts = [alerts]
        if not isinstance(alerts, list):
            skipped += 1
            continue
        for alert in alerts:
            finding = _finding(alert, site_name, ctx)
            if finding is None:
                skipped += 1
            else:
                findings.append(finding)
    return findings, skipped


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _finding(alert: Any, site: str, ctx: FindingContext) -> dict[str, Any] | None:
    if not isinstance(alert, dict):
        return None
    rule = str(alert.get("alertRef") or alert.get("pluginid") or "").strip()
    risk = _int(alert.get("riskcode"))
    title = str(alert.get("name") or alert.get("alert") or "").strip()
    if not rule or risk not in _RISK_LABELS or not title:
        return None
    plugin_id = str(alert.get("pluginid") or rule)
    instances = [i for i in alert.get("instances") or [] if isinstance(i, dict)]
    count = _int(alert.get("count")) or len(instances)
    shown = []
    for inst in instances[:_INSTANCES_SHOWN]:
        line = f"{inst.get('method', '')} {inst.get('uri', '')}".strip()
        if inst.get("param"):
            line += f" [{inst['param']}]"
        shown.append(line)
    more = f"; and {count - len(shown)} more" if count > len(shown) else ""
    summary = f"{count} instance(s) on {site or 'the target'}: " + "; ".join(shown) + more
    description = html_to_text(str(alert.get("desc") or ""))
    reference = str(alert.get("reference") or "")
    docs_url = f"https://www.zaproxy.org/docs/alerts/{plugin_id}/" if plugin_id.isdigit() else None
    cwe = _int(alert.get("cweid"))
    confidence = _int(alert.get("confidence"))
    extra: dict[str, Any] = {}
    if confidence in _CONFIDENCE:
        extra["Confidence"] = _CONFIDENCE[confidence]
    elif confidence == 0:
        extra["Workflow"] = {"Status": "SUPPRESSED"}
    fields = {
        "zap/PluginId": plugin_id,
        "zap/Risk": _RISK_NAMES[risk],
        "zap/Confidence": str(alert.get("confidence", "")),
        "zap/Instances": str(count),
        "zap/Site": site,
        "zap/CWE": str(cwe) if cwe and cwe > 0 else "",
        "zap/WASC": str(alert.get("wascid") or ""),
    }
    category = f"Software and Configuration Checks/Vulnerabilities/CWE-{cwe}" if cwe and cwe > 0 else None
    return build_finding(
        ctx,
        tool=TOOL,
        rule=rule,
        location=site,
        title=title,
        description=f"{description}\n\n{summary}" if description else summary,
        severity=severity_from_label(_RISK_LABELS[risk], f"riskcode {risk} ({_RISK_NAMES[risk]})"),
        types=[category or "Software and Configuration Checks/Vulnerabilities"],
        resource_id=site,
        remediation_text=html_to_text(str(alert.get("solution") or "")),
        remediation_url=first_url(reference) or docs_url,
        source_url=docs_url or first_url(reference),
        product_fields=fields,
        extra=extra,
    )

"""OWASP ZAP JSON reports (the old 2.x `@version`/`site` report and the reports add-on's traditional-json)."""

from __future__ import annotations

from typing import Any

from provisioner.functions.errors import FunctionInputError
from provisioner.functions.findings.asff import (
    FindingContext,
    FindingDraft,
    build_finding,
    html_to_text,
    severity_from_label,
    urls,
)
from provisioner.functions.findings.identity import Converted, grouped, unique

TOOL = "zap"
_RISK_LABELS = {0: "INFORMATIONAL", 1: "LOW", 2: "MEDIUM", 3: "HIGH"}
_RISK_NAMES = {0: "Informational", 1: "Low", 2: "Medium", 3: "High"}
# ZAP confidence 1-4 (low, medium, high, user confirmed); 0 means the user marked it a false positive.
_CONFIDENCE = {1: 30, 2: 60, 3: 90, 4: 100}
_INSTANCES_SHOWN = 5


def convert(report: Any, ctx: FindingContext, source: str) -> Converted:
    """One finding per (site, alert reference); entries of one alert on one site are merged."""
    if not isinstance(report, dict):
        raise FunctionInputError(source, "not a ZAP JSON report (expected an object with a 'site' list)")
    version = str(report.get("@version", "unknown"))
    sites = report.get("site")
    if isinstance(sites, dict):  # ZAP before 2.8 wrote a single site as an object
        sites = [sites]
    if not isinstance(sites, list):
        raise FunctionInputError(source, f"ZAP report (version {version}) has no 'site' list")
    out = Converted()
    entries: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    for site in sites:
        alerts = site.get("alerts") or [] if isinstance(site, dict) else None
        alerts = [alerts] if isinstance(alerts, dict) else alerts
        if not isinstance(alerts, list):
            out.skipped += 1
            continue
        site_name = str(site.get("@name") or "")
        for alert in alerts:
            key = identity(site_name, alert)
            if key is None:
                out.skipped += 1
            else:
                entries.append((key, alert))
    for key, alerts in grouped(entries).items():
        what = f"ZAP alert {' '.join(key[1:])} on {key[0] or 'the target'}"
        out.add(_finding(key, alerts, ctx), what, len(alerts))
    return out


def identity(site: str, alert: Any) -> tuple[str, ...] | None:
    """(site, alertRef); reports older than alertRef (ZAP < 2.10) name variants: (site, pluginid, name)."""
    if not isinstance(alert, dict) or _int(alert.get("riskcode")) not in _RISK_LABELS or not _name(alert):
        return None
    ref = str(alert.get("alertRef") or "").strip()
    plugin = str(alert.get("pluginid") or "").strip()
    if ref:
        return (site, ref)
    return (site, plugin, _name(alert)) if plugin else None


def _name(alert: dict[str, Any]) -> str:
    return str(alert.get("name") or alert.get("alert") or "").strip()


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _instances(alerts: list[dict[str, Any]]) -> tuple[list[str], int]:
    """Distinct instances of every entry, and the total count (ZAP lists fewer than it counts)."""
    seen: dict[str, None] = {}
    total = 0
    for alert in alerts:
        listed = [i for i in alert.get("instances") or [] if isinstance(i, dict)]
        lines = [_instance_line(i) for i in listed]
        repeats = sum(1 for line in dict.fromkeys(lines) if line in seen)
        total += max(_int(alert.get("count")) or 0, len(listed)) - repeats
        seen.update(dict.fromkeys(lines))
    return list(seen), total


def _instance_line(inst: dict[str, Any]) -> str:
    line = f"{inst.get('method', '')} {inst.get('uri', '')}".strip()
    return f"{line} [{inst['param']}]" if inst.get("param") else line


def _finding(key: tuple[str, ...], alerts: list[dict[str, Any]], ctx: FindingContext) -> dict[str, Any]:
    """Highest risk of the entries; the union of their instances and references."""
    site = key[0]
    alert = max(alerts, key=lambda a: (_int(a.get("riskcode")) or 0, _int(a.get("confidence")) or 0))
    risk = _int(alert.get("riskcode")) or 0
    plugin_id = str(alert.get("pluginid") or key[1])
    instances, count = _instances(alerts)
    shown = instances[:_INSTANCES_SHOWN]
    more = f"; and {count - len(shown)} more" if count > len(shown) else ""
    summary = f"{count} instance(s) on {site or 'the target'}: " + "; ".join(shown) + more
    description = html_to_text(str(alert.get("desc") or ""))
    references = unique(url for a in alerts for url in urls(str(a.get("reference") or "")))
    docs_url = f"https://www.zaproxy.org/docs/alerts/{plugin_id}/" if plugin_id.isdigit() else None
    cwe = _int(alert.get("cweid"))
    confidence = _int(alert.get("confidence"))
    extra: dict[str, Any] = {}
    if confidence in _CONFIDENCE:
        extra["Confidence"] = _CONFIDENCE[confidence]
    if all(_int(a.get("confidence")) == 0 for a in alerts):  # every entry marked a false positive
        extra["Workflow"] = {"Status": "SUPPRESSED"}
    fields = {
        "zap/PluginId": plugin_id,
        "zap/AlertRef": str(alert.get("alertRef") or ""),
        "zap/Risk": _RISK_NAMES[risk],
        "zap/Confidence": str(alert.get("confidence", "")),
        "zap/Instances": str(count),
        "zap/Site": site,
        "zap/CWE": str(cwe) if cwe and cwe > 0 else "",
        "zap/WASC": str(alert.get("wascid") or ""),
        "zap/References": " ".join(references),
    }
    category = f"Software and Configuration Checks/Vulnerabilities/CWE-{cwe}" if cwe and cwe > 0 else None
    return build_finding(
        ctx,
        FindingDraft(
            tool=TOOL,
            rule=str(alert.get("alertRef") or plugin_id),
            identity=key,
            title=_name(alert),
            description=f"{description}\n\n{summary}" if description else summary,
            severity=severity_from_label(_RISK_LABELS[risk], f"riskcode {risk} ({_RISK_NAMES[risk]})"),
            types=[category or "Software and Configuration Checks/Vulnerabilities"],
            resource_id=site,
            remediation_text=html_to_text(str(alert.get("solution") or "")),
            remediation_url=(references[0] if references else None) or docs_url,
            source_url=docs_url or (references[0] if references else None),
            product_fields=fields,
            extra=extra,
        ),
    )

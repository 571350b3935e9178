"""OWASP Dependency-Check JSON reports (reportSchema 1.x): one finding per (dependency, vulnerability)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from provisioner.functions.errors import FunctionInputError
from provisioner.functions.findings.asff import (
    FindingContext,
    Severity,
    build_finding,
    severity_from_cvss,
    severity_from_label,
)

TOOL = "dependency-check"
_LABELS = {
    "critical": "CRITICAL",
    "high": "HIGH",
    "medium": "MEDIUM",
    "moderate": "MEDIUM",
    "low": "LOW",
    "info": "INFORMATIONAL",
    "informational": "INFORMATIONAL",
    "none": "INFORMATIONAL",
}
_MAX_REFERENCES = 10


def convert(report: Any, ctx: FindingContext, source: str) -> tuple[list[dict[str, Any]], int]:
    """(findings, skipped vulnerabilities)."""
    if not isinstance(report, dict):
        raise FunctionInputError(source, "not a Dependency-Check JSON report (expected an object)")
    schema = str(report.get("reportSchema", ""))
    if schema and not schema.startswith("1."):
        raise FunctionInputError(source, f"unsupported Dependency-Check reportSchema {schema} (supported: 1.x)")
    dependencies = report.get("dependencies")
    if not isinstance(dependencies, list):
        raise FunctionInputError(source, "Dependency-Check report has no 'dependencies' list")
    findings: list[dict[str, Any]] = []
    skipped = 0
    for dep in dependencies:
        if not isinstance(dep, dict):
            skipped += 1
            continue
        vulns = dep.get("vulnerabilities") or []
        if not isinstance(vulns, list):
            skipped += 1
            continue
        for vuln in vulns:
            finding = _finding(dep, vuln, ctx)
            if finding is None:
                skipped += 1
            else:
                findings.append(finding)
    return findings, skipped


def _package_ids(dep: dict[str, Any]) -> list[str]:
    return [str(p["id"]) for p in dep.get("packages") or [] if isinstance(p, dict) and p.get("id")]


def _purl_parts(purl: str) -> tuple[str, str, str]:
    """(package manager, name, version) of a package URL such as pkg:maven/org.x/y@1.0."""
    body = purl.removeprefix("pkg:").split("?", 1)[0].split("#", 1)[0]
    manager, _, rest = body.partition("/")
    name, _, version = rest.rpartition("@") if "@" in rest else (rest, "", "")
    return manager, unquote(name), unquote(version)


def _score(block: Any, key: str) -> float | None:
    if not isinstance(block, dict):
        return None
    try:
        return float(block[key])
    except (KeyError, TypeError, ValueError):
        return None


def severity(vuln: dict[str, Any]) -> Severity:
    """CVSS v3 base score, else CVSS v2 score, else the report's own severity word."""
    v3 = _score(vuln.get("cvssv3"), "baseScore")
    if v3 is not None:
        return severity_from_cvss(v3, f"CVSS v3 {v3:g}")
    v2 = _score(vuln.get("cvssv2"), "score")
    if v2 is not None:
        return severity_from_cvss(v2, f"CVSS v2 {v2:g}")
    word = str(vuln.get("severity") or "").strip()
    # An unrated vulnerability is still a known vulnerability: MEDIUM rather than hiding it.
    return severity_from_label(_LABELS.get(word.lower(), "MEDIUM"), word or "unrated")


def _cvss(vuln: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key, score_key, default_version in (("cvssv3", "baseScore", "3.1"), ("cvssv2", "score", "2.0")):
        score = _score(vuln.get(key), score_key)
        if score is None:
            continue
        block = vuln[key]
        entry: dict[str, Any] = {"Version": str(block.get("version") or default_version), "BaseScore": score}
        if isinstance(block.get("vectorString"), str):
            entry["BaseVector"] = block["vectorString"]
        out.append(entry)
    return out


def _reference_urls(vuln: dict[str, Any]) -> list[str]:
    urls = [str(r["url"]) for r in vuln.get("references") or [] if isinstance(r, dict) and r.get("url")]
    return urls[:_MAX_REFERENCES]


def _advisory_url(name: str, references: list[str]) -> str | None:
    if name.startswith("CVE-"):
        return f"https://nvd.nist.gov/vuln/detail/{name}"
    if name.startswith("GHSA-"):
        return f"https://github.com/advisories/{name}"
    return references[0] if references else None


def _finding(dep: dict[str, Any], vuln: Any, ctx: FindingContext) -> dict[str, Any] | None:
    if not isinstance(vuln, dict) or not isinstance(vuln.get("name"), str) or not vuln["name"].strip():
        return None
    name = vuln["name"].strip()
    purls = _package_ids(dep)
    file_name = str(dep.get("fileName") or "")
    identity = purls[0] if purls else file_name
    if not identity:
        return None
    manager, pkg_name, pkg_version = _purl_parts(purls[0]) if purls else ("", file_name, "")
    display = f"{pkg_name}@{pkg_version}" if pkg_version else pkg_name
    references = _reference_urls(vuln)
    advisory = _advisory_url(name, references)
    package: dict[str, Any] = {"Name": pkg_name or identity}
    if pkg_version:
        package["Version"] = pkg_version
    if manager:
        package["PackageManager"] = manager
    vulnerability: dict[str, Any] = {"Id": name, "VulnerablePackages": [package]}
    cvss = _cvss(vuln)
    if cvss:
        vulnerability["Cvss"] = cvss
    if references:
        vulnerability["ReferenceUrls"] = references
    if vuln.get("source"):
        vulnerability["Vendor"] = {"Name": str(vuln["source"])}
        if advisory:
            vulnerability["Vendor"]["Url"] = advisory
    cwes = [str(c) for c in vuln.get("cwes") or [] if isinstance(c, str)]
    classifier = "/CVE" if name.startswith("CVE-") else ""
    return build_finding(
        ctx,
        tool=TOOL,
        rule=name,
        location=identity,
        title=f"{name} in {display}",
        description=str(vuln.get("description") or f"{name} affects {display}."),
        severity=severity(vuln),
        types=[f"Software and Configuration Checks/Vulnerabilities{classifier}"],
        resource_id=identity,
        remediation_text=f"Upgrade or replace {display}: it is affected by {name}.",
        remediation_url=advisory,
        source_url=advisory,
        product_fields={
            "dependency-check/Vulnerability": name,
            "dependency-check/Packages": ", ".join(purls),
            "dependency-check/FileName": file_name,
            "dependency-check/CWEs": ", ".join(cwes),
        },
        extra={"Vulnerabilities": [vulnerability]},
    )

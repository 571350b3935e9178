"""OWASP Dependency-Check JSON reports (reportSchema 1.x): one finding per (dependency, vulnerability)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from provisioner.functions.common import clip
from provisioner.functions.errors import FunctionInputError
from provisioner.functions.findings.asff import (
    LABELS,
    FindingContext,
    FindingDraft,
    Severity,
    build_finding,
    severity_from_cvss,
    severity_from_label,
)
from provisioner.functions.findings.identity import Converted, grouped, unique

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
# Every reference of every merged entry, up to a bound that keeps a finding far below the 240 KB limit.
MAX_REFERENCES = 100


def convert(report: Any, ctx: FindingContext, source: str) -> Converted:
    """One finding per (vulnerability, package); the same pair in several dependency entries is merged."""
    if not isinstance(report, dict):
        raise FunctionInputError(source, "not a Dependency-Check JSON report (expected an object)")
    schema = str(report.get("reportSchema", ""))
    if schema and not schema.startswith("1."):
        raise FunctionInputError(source, f"unsupported Dependency-Check reportSchema {schema} (supported: 1.x)")
    dependencies = report.get("dependencies")
    if not isinstance(dependencies, list):
        raise FunctionInputError(source, "Dependency-Check report has no 'dependencies' list")
    out = Converted()
    pairs: list[tuple[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]]] = []
    for dep in dependencies:
        vulns = dep.get("vulnerabilities") or [] if isinstance(dep, dict) else None
        if not isinstance(vulns, list):
            out.skipped += 1
            continue
        for vuln in vulns:
            key = identity(dep, vuln)
            if key is None:
                out.skipped += 1
            else:
                pairs.append((key, (dep, vuln)))
    for (name, package), members in grouped(pairs).items():
        out.add(_finding(name, package, members, ctx), f"Dependency-Check {name} in {package}", len(members))
    return out


def identity(dep: dict[str, Any], vuln: Any) -> tuple[str, str] | None:
    """(vulnerability name, package): the package is the dependency's first package URL, else its file name."""
    if not isinstance(vuln, dict) or not isinstance(vuln.get("name"), str) or not vuln["name"].strip():
        return None
    purls = _package_ids(dep)
    package = purls[0] if purls else str(dep.get("fileName") or "")
    return (vuln["name"].strip(), package) if package else None


def _package_ids(dep: dict[str, Any]) -> list[str]:
    return [str(p["id"]) for p in dep.get("packages") or [] if isinstance(p, dict) and p.get("id")]


def _purl_parts(purl: str) -> tuple[str, str, str]:
    """(package manager, name, version) of a package URL such as pkg:maven/org.x/y@1.0."""
    body = purl.removeprefix("pkg:").split("?", 1)[0].split("#", 1)[0]
    manager, _, rest = body.partition("/")
    name, _, version = rest.rpartition("@") if "@" in rest else (rest, "", "")
    return manager, unquote(name), unquote(version)


def _score(block: Any, key: str) -> float | None:
    """A CVSS score in 0..10; anything else (NaN, 1e999, -5, "high") is no score: the severity word decides."""
    if not isinstance(block, dict) or isinstance(block.get(key), bool):
        return None
    try:
        score = float(block[key])
    except (KeyError, TypeError, ValueError):
        return None
    return score if 0.0 <= score <= 10.0 else None


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


def _advisory_url(name: str, references: list[str]) -> str | None:
    if name.startswith("CVE-"):
        return f"https://nvd.nist.gov/vuln/detail/{name}"
    if name.startswith("GHSA-"):
        return f"https://github.com/advisories/{name}"
    return references[0] if references else None


def _finding(
    name: str, package: str, members: list[tuple[dict[str, Any], dict[str, Any]]], ctx: FindingContext
) -> dict[str, Any]:
    """Worst severity of the entries, the union of their references, packages and files."""
    graded = [(severity(vuln), vuln) for _, vuln in members]
    sev, vuln = max(graded, key=lambda g: (LABELS.index(g[0].label), g[0].normalized))
    purls = unique(p for d, _ in members for p in _package_ids(d))
    files = unique(str(d.get("fileName") or "") for d, _ in members)
    _, pkg_name, pkg_version = _purl_parts(package) if package.startswith("pkg:") else ("", package, "")
    display = f"{pkg_name}@{pkg_version}" if pkg_version else pkg_name
    references = unique(
        str(r["url"]) for _, v in members for r in v.get("references") or [] if isinstance(r, dict) and r.get("url")
    )[:MAX_REFERENCES]
    advisory = _advisory_url(name, references)
    packages = [_package(purl) for purl in purls] or [{"Name": clip(package, 1024)}]
    vulnerability: dict[str, Any] = {"Id": name, "VulnerablePackages": packages}
    cvss = _cvss(vuln)
    if cvss:
        vulnerability["Cvss"] = cvss
    if references:
        vulnerability["ReferenceUrls"] = references
    if vuln.get("source"):
        vulnerability["Vendor"] = {"Name": str(vuln["source"])}
        if advisory:
            vulnerability["Vendor"]["Url"] = advisory
    cwes = unique(str(c) for _, v in members for c in v.get("cwes") or [] if isinstance(c, str))
    classifier = "/CVE" if name.startswith("CVE-") else ""
    return build_finding(
        ctx,
        FindingDraft(
            tool=TOOL,
            rule=name,
            identity=(name, package),
            title=f"{name} in {display}",
            description=str(vuln.get("description") or f"{name} affects {display}."),
            severity=sev,
            types=[f"Software and Configuration Checks/Vulnerabilities{classifier}"],
            resource_id=package,
            remediation_text=f"Upgrade or replace {display}: it is affected by {name}.",
            remediation_url=advisory,
            source_url=advisory,
            product_fields={
                "dependency-check/Vulnerability": name,
                "dependency-check/Packages": ", ".join(purls),
                "dependency-check/FileName": ", ".join(files),
                "dependency-check/CWEs": ", ".join(cwes),
            },
            extra={"Vulnerabilities": [vulnerability]},
        ),
    )


def _package(purl: str) -> dict[str, Any]:
    manager, name, version = _purl_parts(purl)
    package: dict[str, Any] = {"Name": clip(name or purl, 1024)}
    if version:
        package["Version"] = clip(version, 1024)
    if manager:
        package["PackageManager"] = manager
    return package

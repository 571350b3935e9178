"""SonarQube `api/issues/search` responses: one page, or a JSON array of every page."""

from __future__ import annotations

from typing import Any

from provisioner.functions.common import as_dict
from provisioner.functions.errors import FunctionInputError
from provisioner.functions.findings.asff import FindingContext, build_finding, severity_from_label

TOOL = "sonarqube"
_IMPACT = {"BLOCKER": "CRITICAL", "HIGH": "HIGH", "MEDIUM": "MEDIUM", "LOW": "LOW", "INFO": "INFORMATIONAL"}
_LEGACY = {
    "BLOCKER": "CRITICAL",
    "CRITICAL": "HIGH",
    "MAJOR": "MEDIUM",
    "MINOR": "LOW",
    "INFO": "INFORMATIONAL",
}
_ORDER = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
_CLOSED_RESOLUTIONS = {"FIXED", "REMOVED"}
_ACCEPTED = {"WONTFIX", "FALSE-POSITIVE", "ACCEPTED", "FALSE_POSITIVE"}
# Rule repository prefix -> language segment of https://rules.sonarsource.com/<lang>/RSPEC-<n>.
_RULE_LANG = {
    "java": "java",
    "javasecurity": "java",
    "go": "go",
    "python": "python",
    "pythonsecurity": "python",
    "typescript": "typescript",
    "javascript": "javascript",
    "jssecurity": "javascript",
    "csharpsquid": "csharp",
    "php": "php",
    "kotlin": "kotlin",
    "ruby": "ruby",
    "scala": "scala",
    "swift": "swift",
    "c": "c",
    "cpp": "cpp",
    "objc": "objective-c",
    "vbnet": "vbnet",
    "terraform": "terraform",
    "docker": "docker",
    "cloudformation": "cloudformation",
}


def convert(report: Any, ctx: FindingContext, source: str) -> tuple[list[dict[str, Any]], int]:
    """(findings, skipped issues); closed issues are not findings (so a re-import resolves them)."""
    pages = report if isinstance(report, list) else [report]
    issues: dict[str, dict[str, Any]] = {}
    components: dict[str, str] = {}
    expected = 0
    skipped = 0
    for number, page in enumerate(pages, 1):
        if not isinstance(page, dict) or not isinstance(page.get("issues"), list):
            raise FunctionInputError(source, f"page {number} is not an api/issues/search response (no 'issues')")
        paging = as_dict(page.get("paging"))
        total = paging.get("total", page.get("total", 0))
        expected = max(expected, total if isinstance(total, int) else 0)
        for comp in page.get("components") or []:
            if isinstance(comp, dict) and isinstance(comp.get("key"), str):
                components[comp["key"]] = str(comp.get("path") or comp.get("longName") or "")
        for issue in page["issues"]:
            if isinstance(issue, dict) and isinstance(issue.get("key"), str):
                issues[issue["key"]] = issue
            else:
                skipped += 1
    if expected > len(issues) + skipped:
        # Resolving against a partial list would archive findings that are still open.
        raise FunctionInputError(
            source,
            f"holds {len(issues)} of {expected} issues: pass every page of api/issues/search as a JSON array",
        )
    findings = []
    for issue in issues.values():
        if _closed(issue):
            continue
        finding = _finding(issue, components, ctx)
        if finding is None:
            skipped += 1
        else:
            findings.append(finding)
    return findings, skipped


def _closed(issue: dict[str, Any]) -> bool:
    return (
        issue.get("status") == "CLOSED"
        or issue.get("resolution") in _CLOSED_RESOLUTIONS
        or issue.get("issueStatus") == "FIXED"
    )


def issue_severity(issue: dict[str, Any]) -> tuple[str, str] | None:
    """(ASFF label, original): the worst of the `impacts` (SonarQube 10.2+), else the legacy severity."""
    impacts = [i for i in issue.get("impacts") or [] if isinstance(i, dict) and i.get("severity") in _IMPACT]
    if impacts:
        worst = max(impacts, key=lambda i: _ORDER.index(_IMPACT[i["severity"]]))
        return _IMPACT[worst["severity"]], f"{worst.get('softwareQuality', 'IMPACT')}:{worst['severity']}"
    legacy = issue.get("severity")
    if legacy in _LEGACY:
        return _LEGACY[legacy], str(legacy)
    return None


def rule_url(rule: str) -> str | None:
    repo, _, key = rule.partition(":")
    lang = _RULE_LANG.get(repo)
    if lang and key.startswith("S") and key[1:].isdigit():
        return f"https://rules.sonarsource.com/{lang}/RSPEC-{key[1:]}"
    return None


def _line(issue: dict[str, Any]) -> str:
    line = issue.get("line")
    if not isinstance(line, int):
        text_range = issue.get("textRange")
        line = text_range.get("startLine") if isinstance(text_range, dict) else None
    return str(line) if isinstance(line, int) else ""


def _finding(issue: dict[str, Any], components: dict[str, str], ctx: FindingContext) -> dict[str, Any] | None:
    rule = issue.get("rule")
    component = issue.get("component")
    sev = issue_severity(issue)
    if not isinstance(rule, str) or not isinstance(component, str) or sev is None:
        return None
    line = _line(issue)
    path = components.get(component) or component.partition(":")[2] or component
    where = f"{path}:{line}" if line else path
    message = str(issue.get("message") or rule)
    qualities = {str(i.get("softwareQuality")) for i in issue.get("impacts") or [] if isinstance(i, dict)}
    issue_type = str(issue.get("type") or "")
    security = issue_type in {"VULNERABILITY", "SECURITY_HOTSPOT"} or "SECURITY" in qualities
    types = [
        "Software and Configuration Checks/Vulnerabilities/SAST"
        if security
        else f"Software and Configuration Checks/Code Quality/{issue_type or 'ISSUE'}"
    ]
    extra: dict[str, Any] = {}
    statuses = {issue.get("resolution"), issue.get("issueStatus"), issue.get("simpleStatus")}
    if statuses & _ACCEPTED:
        extra["Workflow"] = {"Status": "SUPPRESSED"}
    url = rule_url(rule)
    effort = str(issue.get("effort") or issue.get("debt") or "")
    return build_finding(
        ctx,
        tool=TOOL,
        rule=rule,
        location=f"{component}:{line}",
        title=f"{rule}: {message}",
        description=f"{message}\n\nLocation: {where}\nType: {issue_type or 'n/a'}",
        severity=severity_from_label(*sev),
        types=types,
        resource_id=component,
        remediation_text=f"Fix {rule} at {where}" + (f" (estimated effort {effort})." if effort else "."),
        remediation_url=url,
        source_url=url,
        product_fields={
            "sonarqube/IssueKey": issue["key"],
            "sonarqube/Rule": rule,
            "sonarqube/Project": str(issue.get("project") or ""),
            "sonarqube/Type": issue_type,
            "sonarqube/Tags": ", ".join(str(t) for t in issue.get("tags") or []),
        },
        extra=extra,
    )

"""SonarQube `api/issues/search` responses: one page, or a JSON array of every page."""

from __future__ import annotations

import re
from typing import Any

from provisioner.functions.common import as_dict, clip
from provisioner.functions.errors import FunctionInputError
from provisioner.functions.findings.asff import FindingContext, FindingDraft, build_finding, severity_from_label
from provisioner.functions.findings.identity import Converted, grouped, unique

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
# dependency-check-sonar-plugin: rule repository and the labelled fields that open its issue messages.
_PLUGIN_REPOSITORY = "OWASP:"
_PLUGIN_FIELDS = {
    "Filename",
    "Reference",
    "CVSS Score",
    "Category",
    "Highest CVSS Score",
    "Amount of CVSS",
    "References",
}
_SUMMARY_REF_RE = re.compile(r"(\S+) \(([\d.]+)\)")
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


def convert(report: Any, ctx: FindingContext, source: str) -> Converted:
    """One finding per open issue key; closed issues are not findings (so a re-import resolves them)."""
    out = Converted()
    entries, components, expected = _read_pages(report if isinstance(report, list) else [report], source, out)
    by_key = grouped((issue["key"], issue) for issue in entries)
    if expected > len(by_key) + out.skipped:
        # Resolving against a partial list would archive findings that are still open.
        raise FunctionInputError(
            source,
            f"holds {len(by_key)} of {expected} issues: pass every page of api/issues/search as a JSON array",
        )
    for key, issues in by_key.items():
        # The same key twice (pages fetched while the project changed) is one issue; open if either copy is.
        usable = [i for i in issues if not _closed(i) and _usable(i)]
        if any(not _closed(i) for i in issues) and not usable:
            out.skipped += 1
        elif usable:
            out.add(_finding(key, usable, components, ctx), f"SonarQube issue key {key}", len(usable))
    return out


def _read_pages(pages: list[Any], source: str, out: Converted) -> tuple[list[dict[str, Any]], dict[str, str], int]:
    """(issues with a key, component key -> path, the largest `total` any page announced); keyless issues
    count as skipped in `out`."""
    entries: list[dict[str, Any]] = []
    components: dict[str, str] = {}
    expected = 0
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
            if isinstance(issue, dict) and isinstance(issue.get("key"), str) and issue["key"]:
                entries.append(issue)
            else:
                out.skipped += 1
    return entries, components, expected


def _usable(issue: dict[str, Any]) -> bool:
    return (
        isinstance(issue.get("rule"), str)
        and isinstance(issue.get("component"), str)
        and issue_severity(issue) is not None
    )


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


def dependency_check_references(message: str) -> dict[str, float | None]:
    """CVE/GHSA ids (with CVSS score) of a dependency-check-sonar-plugin message, in message order.

    The plugin writes `Filename: F | Reference: CVE-... | CVSS Score: 7.5 | Category: CWE-... | text`, or with
    sonar.dependencyCheck.summarize `Filename: F | Highest CVSS Score: 7.5 | Amount of CVSS: 2 | References:
    CVE-a (7.5) CVE-b (5.3)`.
    """
    fields = _plugin_fields(message)
    refs: dict[str, float | None] = {}
    if fields.get("Reference"):
        refs[fields["Reference"]] = _float(fields.get("CVSS Score"))
    for name, score in _SUMMARY_REF_RE.findall(fields.get("References", "")):
        refs[name] = _float(score)
    return refs


def _plugin_fields(message: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in message.split(" | "):
        name, sep, value = part.partition(": ")
        if not sep or name not in _PLUGIN_FIELDS:
            break  # the free-text description follows the labelled fields
        fields[name] = value.strip()
    return fields


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _vulnerabilities(issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ASFF Vulnerabilities for the plugin's `OWASP:` issues: every reference of every copy of the issue."""
    out: dict[str, dict[str, Any]] = {}
    for issue in issues:
        message = str(issue.get("message") or "")
        if not str(issue.get("rule")).startswith(_PLUGIN_REPOSITORY):
            continue
        package = _plugin_fields(message).get("Filename", "")
        for name, score in dependency_check_references(message).items():
            vuln = out.setdefault(name, {"Id": name})
            if package:
                vuln["VulnerablePackages"] = [{"Name": clip(package, 1024)}]
            if score is not None:
                vuln["Cvss"] = [{"BaseScore": score}]
    return list(out.values())


def _finding(key: str, issues: list[dict[str, Any]], components: dict[str, str], ctx: FindingContext) -> dict[str, Any]:
    """One issue (every usable copy of it): worst severity, every message, reference and tag."""
    graded = [(severity_from_label(*grade), issue) for issue in issues if (grade := issue_severity(issue))]
    sev, issue = max(graded, key=lambda pair: _ORDER.index(pair[0].label))
    rule, component = str(issue["rule"]), str(issue["component"])
    line = _line(issue)
    path = components.get(component) or component.partition(":")[2] or component
    where = f"{path}:{line}" if line else path
    messages = unique(str(i.get("message") or "") for i in issues) or [rule]
    qualities = {str(i.get("softwareQuality")) for i in issue.get("impacts") or [] if isinstance(i, dict)}
    issue_type = str(issue.get("type") or "")
    vulnerabilities = _vulnerabilities(issues)
    security = issue_type in {"VULNERABILITY", "SECURITY_HOTSPOT"} or "SECURITY" in qualities
    if any(v["Id"].startswith("CVE-") for v in vulnerabilities):
        types = ["Software and Configuration Checks/Vulnerabilities/CVE"]
    elif security:
        types = ["Software and Configuration Checks/Vulnerabilities/SAST"]
    else:
        types = [f"Software and Configuration Checks/Code Quality/{issue_type or 'ISSUE'}"]
    extra: dict[str, Any] = {"Vulnerabilities": vulnerabilities} if vulnerabilities else {}
    if all({i.get("resolution"), i.get("issueStatus"), i.get("simpleStatus")} & _ACCEPTED for i in issues):
        extra["Workflow"] = {"Status": "SUPPRESSED"}
    url = rule_url(rule)
    effort = str(issue.get("effort") or issue.get("debt") or "")
    text = "\n".join(messages)
    return build_finding(
        ctx,
        FindingDraft(
            tool=TOOL,
            rule=rule,
            identity=(key,),
            title=f"{rule}: {issue.get('message') or rule}",
            description=f"{text}\n\nLocation: {where}\nType: {issue_type or 'n/a'}",
            severity=sev,
            types=types,
            resource_id=component,
            remediation_text=f"Fix {rule} at {where}" + (f" (estimated effort {effort})." if effort else "."),
            remediation_url=url,
            source_url=url,
            product_fields={
                "sonarqube/IssueKey": key,
                "sonarqube/Rule": rule,
                "sonarqube/Project": str(issue.get("project") or ""),
                "sonarqube/Type": issue_type,
                "sonarqube/Tags": ", ".join(unique(str(t) for i in issues for t in i.get("tags") or [])),
                "sonarqube/References": " ".join(v["Id"] for v in vulnerabilities),
            },
            extra=extra,
        ),
    )

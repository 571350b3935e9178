"""One finding per tool-native identity, for every report in tests/data: counted from the raw report here.

The identities and severity tables below are written out again from the tools' documentation on purpose:
the converters must agree with them, not with themselves.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from provisioner.cli import app
from provisioner.functions.findings import Conversion, FindingContext, convert_report
from provisioner.functions.findings.sonarqube import dependency_check_references
from tests.functions.helpers import ACCOUNT, DATA, REGION, asff_errors

CTX = FindingContext(ACCOUNT, REGION, repository="org/app", branch="main", commit="abc123", build_id="17")
ORDER = ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
TOOL_DIRS = ("zap", "dependency-check", "sonarqube")
REPORTS = sorted(str(p.relative_to(DATA)) for d in TOOL_DIRS for p in (DATA / d).glob("*.json"))
PLUGIN_RULE = "OWASP:UsingComponentWithKnownVulnerability"

Identities = dict[tuple[str, ...], list[str]]  # identity -> severity labels of its entries


def _zap(report: dict[str, Any]) -> Identities:
    """ZAP: (site, alertRef); before alertRef existed, a plugin's variants differ by name: (site, pluginid, name)."""
    out: Identities = defaultdict(list)
    sites = report["site"] if isinstance(report["site"], list) else [report["site"]]
    for site in sites:
        alerts = site.get("alerts") or []
        for alert in [alerts] if isinstance(alerts, dict) else alerts:
            name = alert.get("name") or alert.get("alert")
            key = (
                (site["@name"], alert["alertRef"])
                if alert.get("alertRef")
                else (site["@name"], alert["pluginid"], name)
            )
            out[key].append(["INFORMATIONAL", "LOW", "MEDIUM", "HIGH"][int(alert["riskcode"])])
    return out


def _cvss_label(score: float) -> str:
    return next(label for limit, label in ((9, "CRITICAL"), (7, "HIGH"), (4, "MEDIUM"), (0.1, "LOW")) if score >= limit)


def _dependency_check(report: dict[str, Any]) -> Identities:
    """Dependency-Check: (vulnerability, package URL of the dependency, else its file name)."""
    out: Identities = defaultdict(list)
    for dep in report["dependencies"]:
        package = dep["packages"][0]["id"] if dep.get("packages") else dep["fileName"]
        for vuln in dep.get("vulnerabilities") or []:
            score = (vuln.get("cvssv3") or {}).get("baseScore", (vuln.get("cvssv2") or {}).get("score"))
            out[(vuln["name"], package)].append(_cvss_label(float(score)))
    return out


def _sonarqube(report: Any) -> Identities:
    """SonarQube: the issue key; closed (FIXED/REMOVED) issues are not findings."""
    legacy = {"BLOCKER": "CRITICAL", "CRITICAL": "HIGH", "MAJOR": "MEDIUM", "MINOR": "LOW", "INFO": "INFORMATIONAL"}
    impact = {"HIGH": "HIGH", "MEDIUM": "MEDIUM", "LOW": "LOW", "BLOCKER": "CRITICAL", "INFO": "INFORMATIONAL"}
    out: Identities = defaultdict(list)
    for page in report if isinstance(report, list) else [report]:
        for issue in page["issues"]:
            if issue.get("status") == "CLOSED" or issue.get("resolution") in ("FIXED", "REMOVED"):
                continue
            impacts = [impact[i["severity"]] for i in issue.get("impacts") or []]
            out[(issue["key"],)].append(max(impacts, key=ORDER.index) if impacts else legacy[issue["severity"]])
    return out


def _identity_of(tool: str, finding: dict[str, Any]) -> tuple[str, ...]:
    """Read a finding's identity back from the fields a Security Hub user sees."""
    fields = finding["ProductFields"]
    if tool == "sonarqube":
        return (fields["sonarqube/IssueKey"],)
    if tool == "dependency-check":
        return (fields["dependency-check/Vulnerability"], finding["Resources"][0]["Id"])
    if fields.get("zap/AlertRef"):
        return (fields["zap/Site"], fields["zap/AlertRef"])
    return (fields["zap/Site"], fields["zap/PluginId"], finding["Title"])


def _expected(name: str) -> Identities:
    report = json.loads((DATA / name).read_bytes())
    return {"zap": _zap, "dependency-check": _dependency_check, "sonarqube": _sonarqube}[_tool(name)](report)


def _tool(name: str) -> str:
    return Path(name).parts[0]


def _convert(name: str, ctx: FindingContext = CTX, data: bytes | None = None) -> Conversion:
    return convert_report(_tool(name), data or (DATA / name).read_bytes(), ctx, source=name)


def test_every_tool_has_reports() -> None:
    assert {_tool(name) for name in REPORTS} == set(TOOL_DIRS)


@pytest.mark.parametrize("name", REPORTS)
def test_one_finding_per_native_identity_with_its_worst_severity(name: str) -> None:
    expected = _expected(name)
    conversion = _convert(name)
    got = {_identity_of(_tool(name), f): f["Severity"]["Label"] for f in conversion.findings}
    assert len(conversion.findings) == len(expected) == len(got)
    assert got == {key: max(labels, key=ORDER.index) for key, labels in expected.items()}
    # Every severity of the report survives, except one merged under a worse entry of the same identity.
    single = {labels[0] for labels in expected.values() if len(labels) == 1}
    assert single <= set(got.values())
    assert conversion.duplicates == sum(len(labels) - 1 for labels in expected.values())
    assert sorted(m.entries for m in conversion.merges) == sorted(len(v) for v in expected.values() if len(v) > 1)
    assert not conversion.findings or asff_errors(conversion.findings) == ""


@pytest.mark.parametrize("name", REPORTS)
def test_ids_are_deterministic_and_separate_branches(name: str) -> None:
    rebuilt = FindingContext(ACCOUNT, REGION, repository="org/app", branch="main", commit="def", build_id="18")
    other_branch = FindingContext(ACCOUNT, REGION, repository="org/app", branch="feature-x")
    first = [f["Id"] for f in _convert(name).findings]
    assert first == [f["Id"] for f in _convert(name, rebuilt).findings]
    assert len(set(first)) == len(first)
    assert not set(first) & {f["Id"] for f in _convert(name, other_branch).findings}


_IDS_SCRIPT = """
import json, sys
from pathlib import Path
from provisioner.functions.findings import FindingContext, convert_report
ctx = FindingContext("123456789012", "eu-west-1", repository="org/app", branch="main")
data = Path(sys.argv[1])
print(json.dumps({n: [f["Id"] for f in convert_report(Path(n).parts[0], (data / n).read_bytes(), ctx).findings]
                  for n in sys.argv[2:]}))
"""


def test_ids_are_the_same_in_separate_processes_whatever_the_hash_seed() -> None:
    runs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(DATA.parent.parent)}
        argv = [sys.executable, "-c", _IDS_SCRIPT, str(DATA), *REPORTS]
        runs.append(json.loads(subprocess.run(argv, env=env, capture_output=True, check=True, text=True).stdout))
    ctx = FindingContext(ACCOUNT, REGION, repository="org/app", branch="main")
    assert runs[0] == runs[1] == {n: [f["Id"] for f in _convert(n, ctx).findings] for n in REPORTS}


def test_three_dependency_vulnerabilities_on_one_component_are_three_findings() -> None:
    name = "sonarqube/dependency-check-plugin-issues.json"
    conversion = _convert(name)
    plugin = [f for f in conversion.findings if f["ProductFields"]["sonarqube/Rule"] == PLUGIN_RULE]
    assert sorted(f["Severity"]["Label"] for f in plugin) == ["HIGH", "MEDIUM", "MEDIUM"]  # CRITICAL, MAJOR x2
    assert {f["Resources"][0]["Id"] for f in plugin} == {"golang-fishy"}  # same component, no line
    assert len({f["Id"] for f in plugin}) == 3
    assert conversion.merges == [] and conversion.note() is None
    # The documented Id scheme (provisioner/functions/README.md): a change to it re-files every finding.
    for finding in plugin:
        identity = ["sonarqube", "org/app", "main", finding["ProductFields"]["sonarqube/IssueKey"]]
        assert finding["Id"] == f"provision/sonarqube/{hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:40]}"
    by_cve = {f["Vulnerabilities"][0]["Id"]: f for f in plugin}
    assert set(by_cve) == {"CVE-2022-41717", "CVE-2023-3978", "CVE-2022-28948"}  # CVE-2021-38561 is closed
    yaml = by_cve["CVE-2022-28948"]["Vulnerabilities"][0]
    assert yaml == {
        "Id": "CVE-2022-28948",
        "VulnerablePackages": [{"Name": "gopkg.in/yaml.v3:3.0.0-20200313102051-9f266ea9e77c"}],
        "Cvss": [{"BaseScore": 7.5}],
    }
    assert by_cve["CVE-2022-28948"]["Types"] == ["Software and Configuration Checks/Vulnerabilities/CVE"]


def test_the_same_issue_key_twice_is_one_finding_with_the_worst_severity_and_both_references() -> None:
    """DefectDojo's SonarQube API fixture lists key fjioefjwoefisdfjo twice (MAJOR GHSA, CRITICAL CVE)."""
    conversion = _convert("sonarqube/defectdojo-findings-over-api.json")
    assert len(conversion.findings) == 4
    (merge,) = conversion.merges
    (merged,) = [f for f in conversion.findings if f["Id"] == merge.finding_id]
    assert (merge.identity, merge.entries) == ("SonarQube issue key fjioefjwoefisdfjo", 2)
    assert merged["Severity"]["Label"] == "HIGH"
    assert [v["Id"] for v in merged["Vulnerabilities"]] == ["GHSA-frr2-c345-p7c2", "CVE-2023-52428"]
    assert "nimbus-jose-jwt-9.24.4.jar" in merged["Description"] and "package:1.1.2" in merged["Description"]
    assert conversion.note() == (
        "note: 2 report entries merged into 1 finding (same tool identity: SonarQube issue key fjioefjwoefisdfjo x2)"
    )


def test_cli_note_names_what_was_merged_and_import_says_how_vanished_findings_were_resolved(aws: str) -> None:
    common = ["--account", ACCOUNT, "--region", REGION, "--repository", "org/app", "--branch", "main"]
    report = str(DATA / "sonarqube/defectdojo-findings-over-api.json")
    converted = CliRunner().invoke(app, ["findings", "convert", "--tool", "sonarqube", report, *common])
    assert converted.exit_code == 0, converted.output
    assert len(json.loads(converted.stdout)) == 4
    assert converted.stderr == (
        "note: 2 report entries merged into 1 finding (same tool identity: SonarQube issue key fjioefjwoefisdfjo x2)\n"
    )
    imported = CliRunner().invoke(app, ["findings", "import", "--tool", "sonarqube", report, *common])
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["resolution"] == "none"
    empty = DATA / "dependency-check/go-vuln-project-12.1.0.json"
    plain = CliRunner().invoke(app, ["findings", "convert", "--tool", "dependency-check", str(empty), *common])
    assert (plain.exit_code, plain.stdout.strip(), plain.stderr) == (0, "[]", "")


def test_issue_key_is_finer_than_hash_rule_component() -> None:
    """In a real SonarQube capture two open issues share line hash, rule and component; their keys differ."""
    page = json.loads((DATA / "sonarqube/sonarqube-pr-issues-page.json").read_bytes())
    open_issues = [i for i in page["issues"] if i["status"] != "CLOSED"]
    assert len({(i["hash"], i["rule"], i["component"]) for i in open_issues}) == 1 < len(open_issues)
    assert len(_convert("sonarqube/sonarqube-pr-issues-page.json").findings) == len(open_issues)


def test_zap_entries_of_one_alert_on_one_site_merge_keeping_the_highest_risk_and_all_instances() -> None:
    """A second entry for alert 10036 on the same site (as ZAP writes when risk differs) is the same alert."""
    name = "zap/report_json-2.8.0.json"
    report = json.loads((DATA / name).read_bytes())
    alerts = report["site"][0]["alerts"]
    extra = copy.deepcopy(next(a for a in alerts if a["pluginid"] == "10036"))
    extra.update(riskcode="2", count="1", reference="https://example.org/hardening")
    extra["instances"] = [{"uri": "https://www.example.com/admin", "method": "GET", "evidence": "nginx"}]
    alerts.append(extra)
    conversion = _convert(name, data=json.dumps(report).encode())
    assert len(conversion.findings) == 3
    (merge,) = conversion.merges
    assert (merge.identity, merge.entries) == (
        "ZAP alert 10036 Server Leaks Version Information via "
        '"Server" HTTP Response Header Field on https://www.example.com',
        2,
    )
    (merged,) = [f for f in conversion.findings if f["Id"] == merge.finding_id]
    assert merged["Severity"]["Label"] == "MEDIUM"
    assert merged["ProductFields"]["zap/Instances"] == "6"
    assert "https://example.org/hardening" in merged["ProductFields"]["zap/References"].split()
    assert "6 instance(s) on https://www.example.com" in merged["Description"]


def test_zap_variants_of_one_plugin_without_alert_ref_stay_apart() -> None:
    name = "zap/report_json-2.8.0.json"
    report = json.loads((DATA / name).read_bytes())
    variant = copy.deepcopy(next(a for a in report["site"][0]["alerts"] if a["pluginid"] == "10020"))
    variant.update(name="X-Frame-Options Setting Malformed", alert="X-Frame-Options Setting Malformed")
    report["site"][0]["alerts"].append(variant)
    conversion = _convert(name, data=json.dumps(report).encode())
    assert len(conversion.findings) == 4 and conversion.merges == []


def test_dependency_check_same_package_and_vulnerability_in_two_entries_merge_with_both_files() -> None:
    name = "dependency-check/golang-fishy-7.1.1.json"
    report = json.loads((DATA / name).read_bytes())
    twin = copy.deepcopy(report["dependencies"][2])
    twin["fileName"] = "vendor/gopkg.in/yaml.v3"
    twin["vulnerabilities"][0]["cvssv3"]["baseScore"] = 5.9
    twin["vulnerabilities"][0]["references"] = [{"url": "https://example.org/yaml-advisory", "name": "x"}]
    report["dependencies"].append(twin)
    conversion = _convert(name, data=json.dumps(report).encode())
    (finding,) = conversion.findings
    assert finding["Severity"]["Label"] == "HIGH"  # 7.5 kept over 5.9
    assert finding["ProductFields"]["dependency-check/FileName"].endswith(", vendor/gopkg.in/yaml.v3")
    assert "https://example.org/yaml-advisory" in finding["Vulnerabilities"][0]["ReferenceUrls"]
    assert [(m.identity, m.entries) for m in conversion.merges] == [
        ("Dependency-Check CVE-2022-28948 in pkg:golang/gopkg.in/yaml.v3@3.0.0-20200313102051-9f266ea9e77c", 2)
    ]


@pytest.mark.parametrize(
    ("message", "refs"),
    [
        (
            "Filename: package:1.1.2 | Reference: CVE-2024-2529 | CVSS Score: 6.4 | Category: CWE-120 | Text | x",
            {"CVE-2024-2529": 6.4},
        ),
        (
            "Filename: a.jar | Highest CVSS Score: 7.5 | Amount of CVSS: 2 | References: CVE-1 (7.5) GHSA-x-y (5.3)",
            {"CVE-1": 7.5, "GHSA-x-y": 5.3},
        ),
        ("Remove this unused private method.", {}),
    ],
)
def test_dependency_check_plugin_messages(message: str, refs: dict[str, float]) -> None:
    assert dependency_check_references(message) == refs

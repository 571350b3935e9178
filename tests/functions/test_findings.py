"""Scanner reports -> ASFF: real ZAP, Dependency-Check and SonarQube output, validated by botocore."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from provisioner.functions.errors import FunctionInputError
from provisioner.functions.findings import FindingContext, convert_report
from provisioner.functions.findings.dependency_check import severity as dc_severity
from provisioner.functions.findings.sonarqube import convert as sonar_convert
from provisioner.functions.findings.sonarqube import issue_severity
from tests.functions.helpers import ACCOUNT, DATA, REGION, asff_errors

CTX = FindingContext(ACCOUNT, REGION, repository="org/app", branch="main", commit="abc123", build_id="17")
NORMALIZED_RANGE = {
    "INFORMATIONAL": (0, 0),
    "LOW": (1, 39),
    "MEDIUM": (40, 69),
    "HIGH": (70, 89),
    "CRITICAL": (90, 100),
}

REPORTS = [
    ("zap", "zap/report_json-2.8.0.json", 3),
    ("zap", "zap/basic-traditional-json.json", 1),
    ("zap", "zap/basic-traditional-json-plus.json", 1),
    ("dependency-check", "dependency-check/golang-fishy-7.1.1.json", 1),
    ("dependency-check", "dependency-check/go-vuln-project-12.1.0.json", 0),
    ("sonarqube", "sonarqube/search-example-sonarqube.json", 1),
    ("sonarqube", "sonarqube/sonarqube-pr-issues-page.json", 2),
    ("sonarqube", "sonarqube/dependency-check-plugin-issues.json", 4),
    ("sonarqube", "sonarqube/defectdojo-findings-over-api.json", 4),
]


def convert(tool: str, name: str, ctx: FindingContext = CTX) -> list[dict[str, Any]]:
    return convert_report(tool, (DATA / name).read_bytes(), ctx, source=name).findings


@pytest.mark.parametrize(("tool", "name", "count"), REPORTS)
def test_real_reports_give_valid_consistent_asff(tool: str, name: str, count: int) -> None:
    findings = convert(tool, name)
    assert len(findings) == count
    assert not findings or asff_errors(findings) == ""
    for f in findings:
        low, high = NORMALIZED_RANGE[f["Severity"]["Label"]]
        assert low <= f["Severity"]["Normalized"] <= high
        assert f["ProductArn"] == f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
        assert f["Types"] and f["Resources"] and f["GeneratorId"].startswith(f"provision/{tool}/")
        assert f["Remediation"]["Recommendation"]["Text"]
        assert f["ProductFields"]["provision/Scope"] == f"{tool}|org/app|main"
        assert f["ProductFields"]["provision/Commit"] == "abc123"


def test_zap_old_report_maps_riskcode_to_label_per_alert() -> None:
    by_rule = {f["ProductFields"]["zap/PluginId"]: f for f in convert("zap", "zap/report_json-2.8.0.json")}
    assert {k: v["Severity"]["Label"] for k, v in by_rule.items()} == {
        "10050": "INFORMATIONAL",
        "10036": "LOW",
        "10020": "MEDIUM",
    }
    server = by_rule["10036"]
    assert server["ProductFields"]["zap/Instances"] == "5"
    assert "5 instance(s) on https://www.example.com: GET https://www.example.com/" in server["Description"]
    assert server["Types"] == ["Software and Configuration Checks/Vulnerabilities/CWE-200"]
    assert server["Confidence"] == 90
    assert server["SourceUrl"] == "https://www.zaproxy.org/docs/alerts/10036/"
    assert server["Resources"][0]["Id"] == "https://www.example.com"


def test_zap_new_report_is_high_and_summarises_instances() -> None:
    (finding,) = convert("zap", "zap/basic-traditional-json-plus.json")
    assert finding["Severity"]["Label"] == "HIGH"
    assert "GET http://example.com/example_3 [Test Param]" in finding["Description"]
    assert finding["Title"] == "XSS"
    assert finding["Remediation"]["Recommendation"]["Text"] == "Test Solution"


def test_ids_are_deterministic_across_builds_and_differ_per_repository() -> None:
    first = convert("zap", "zap/report_json-2.8.0.json")
    rebuilt = FindingContext(ACCOUNT, REGION, repository="org/app", branch="main", commit="def", build_id="18")
    again = convert("zap", "zap/report_json-2.8.0.json", rebuilt)
    other = FindingContext(ACCOUNT, REGION, repository="org/other", branch="main")
    assert [f["Id"] for f in first] == [f["Id"] for f in again]
    assert not {f["Id"] for f in first} & {f["Id"] for f in convert("zap", "zap/report_json-2.8.0.json", other)}


def test_dependency_check_uses_cvss_v3_and_names_the_package() -> None:
    (finding,) = convert("dependency-check", "dependency-check/golang-fishy-7.1.1.json")
    assert finding["Severity"] == {"Label": "HIGH", "Normalized": 75, "Original": "CVSS v3 7.5"}
    assert finding["Types"] == ["Software and Configuration Checks/Vulnerabilities/CVE"]
    assert finding["SourceUrl"] == "https://nvd.nist.gov/vuln/detail/CVE-2022-28948"
    vuln = finding["Vulnerabilities"][0]
    assert vuln["Id"] == "CVE-2022-28948"
    assert vuln["VulnerablePackages"] == [
        {"Name": "gopkg.in/yaml.v3", "Version": "3.0.0-20200313102051-9f266ea9e77c", "PackageManager": "golang"}
    ]
    assert {c["Version"]: c["BaseScore"] for c in vuln["Cvss"]} == {"3.1": 7.5, "2.0": 5.0}
    assert finding["Resources"][0]["Id"] == "pkg:golang/gopkg.in/yaml.v3@3.0.0-20200313102051-9f266ea9e77c"


def test_dependency_check_severity_falls_back_to_v2_then_report_severity() -> None:
    report = json.loads((DATA / "dependency-check/golang-fishy-7.1.1.json").read_bytes())
    vuln = report["dependencies"][2]["vulnerabilities"][0]
    without_v3 = {k: v for k, v in vuln.items() if k != "cvssv3"}
    assert (dc_severity(without_v3).label, dc_severity(without_v3).normalized) == ("MEDIUM", 50)
    bare = {k: v for k, v in without_v3.items() if k != "cvssv2"}
    assert dc_severity(bare).label == "HIGH"
    assert dc_severity({**bare, "severity": "moderate"}).label == "MEDIUM"


def test_sonarqube_impacts_win_over_legacy_severity_and_accepted_is_suppressed() -> None:
    (finding,) = convert("sonarqube", "sonarqube/search-example-sonarqube.json")
    assert finding["Severity"]["Label"] == "HIGH"  # impact SECURITY:HIGH, legacy MAJOR would be MEDIUM
    assert finding["Severity"]["Original"] == "SECURITY:HIGH"
    assert finding["Workflow"] == {"Status": "SUPPRESSED"}
    assert finding["Types"] == ["Software and Configuration Checks/Vulnerabilities/SAST"]
    assert finding["SourceUrl"] == "https://rules.sonarsource.com/java/RSPEC-1144"


def test_sonarqube_legacy_page_skips_closed_issues() -> None:
    findings = convert("sonarqube", "sonarqube/sonarqube-pr-issues-page.json")
    assert {f["ProductFields"]["sonarqube/IssueKey"] for f in findings} == {
        "AX2GHjk1-Wk2ioy15Nrv",
        "AX2GHjk1-Wk2ioy15Nrw",
    }
    assert {f["Severity"]["Label"] for f in findings} == {"MEDIUM"}  # MAJOR
    assert "Location: pkg/newwrong.go:5" in findings[0]["Description"]


@pytest.mark.parametrize(
    ("legacy", "label"),
    [("BLOCKER", "CRITICAL"), ("CRITICAL", "HIGH"), ("MAJOR", "MEDIUM"), ("MINOR", "LOW"), ("INFO", "INFORMATIONAL")],
)
def test_sonarqube_legacy_severity_table(legacy: str, label: str) -> None:
    assert issue_severity({"severity": legacy}) == (label, legacy)


def test_sonarqube_all_pages_are_merged_and_a_missing_page_is_refused() -> None:
    page = json.loads((DATA / "sonarqube/sonarqube-pr-issues-page.json").read_bytes())
    first = copy.deepcopy(page)
    second = copy.deepcopy(page)
    first["issues"], second["issues"] = page["issues"][:2], page["issues"][2:]
    converted = sonar_convert([first, second], CTX, "pages.json")
    assert (len(converted.findings), converted.skipped, converted.merges) == (2, 0, [])
    with pytest.raises(FunctionInputError, match="holds 2 of 4 issues"):
        sonar_convert(first, CTX, "page1.json")


@pytest.mark.parametrize(
    ("tool", "payload", "reason"),
    [
        ("zap", b'{"@version": "2.8.0", "site": [{"@name": "x", "alerts": [', "invalid JSON at line 1"),
        ("zap", b'{"@version": "2.8.0", "site": 3}', "no 'site' list"),
        ("zap", b"[1, 2]", "not a ZAP JSON report"),
        ("zap", b"\xff\xfe\x00garbage", "not UTF-8"),
        ("zap", b"   ", "empty file"),
        (
            "dependency-check",
            b'{"reportSchema": "2.0", "dependencies": []}',
            "unsupported Dependency-Check reportSchema 2.0",
        ),
        ("dependency-check", b'{"reportSchema": "1.1", "dependencies": {}}', "no 'dependencies' list"),
        ("sonarqube", b'{"paging": {"total": 1}}', "not an api/issues/search response"),
        ("trivy", b"{}", "unknown tool"),
    ],
)
def test_malformed_reports_raise_a_clear_error(tool: str, payload: bytes, reason: str) -> None:
    with pytest.raises(FunctionInputError, match=reason) as info:
        convert_report(tool, payload, CTX, source="upload.json")
    assert str(info.value).startswith("upload.json: ")


def test_wrong_typed_entries_are_skipped_and_huge_fields_are_clipped() -> None:
    report = json.loads((DATA / "zap/report_json-2.8.0.json").read_bytes())
    alerts = report["site"][0]["alerts"]
    alerts[2]["name"] = "X" * 100_000
    alerts[2]["desc"] = "<p>" + "y" * 500_000 + "</p>"
    alerts.extend([None, "alert", {"pluginid": "1", "riskcode": "7", "name": "bad risk"}, {"riskcode": "2"}])
    report["site"].append(42)
    conversion = convert_report("zap", json.dumps(report).encode(), CTX)
    assert len(conversion.findings) == 3
    assert conversion.skipped == 5
    assert asff_errors(conversion.findings) == ""
    huge = conversion.findings[2]
    assert len(huge["Title"]) == 256 and len(huge["Description"]) == 1024

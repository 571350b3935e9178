"""The Sigma catalogue: every rule loads, fires on its positive cases and not on its negatives; bad rule files are
refused as `file: key: reason`, exit 2; the CLI prints matches and coverage."""

from __future__ import annotations

import base64
import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from provisioner.cli import app
from provisioner.rules.catalogue import Catalogue
from provisioner.rules.compile import build_monitors
from provisioner.rules.coverage import STRATUS_AWS, coverage, tactics_of
from provisioner.rules.evaluate import getter, text
from provisioner.rules.events import normalise_records
from provisioner.rules.loader import load_catalogue
from provisioner.rules.selftest import run_cases

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "rules"
CASES = REPO / "tests" / "data" / "rules" / "cases"
runner = CliRunner()


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(RULES, REPO)


def test_every_rule_fires_on_its_positives_and_not_on_its_negatives(catalogue: Catalogue) -> None:
    report = run_cases(catalogue, CASES)
    assert report.failures == []
    assert report.checked >= 2 * len(catalogue.alerting)
    assert {p.stem for p in CASES.glob("*.json")} == {r.name for r in catalogue.alerting}


def test_every_rule_documents_triage_fields_and_attack(catalogue: Catalogue) -> None:
    for rule in catalogue.alerting:
        assert set(rule.triage) == {"goal", "strategy", "triage", "response"}, rule.name
        assert rule.fields and rule.tactics and rule.techniques, rule.name


def test_the_five_replaced_monitors_are_rules(catalogue: Catalogue) -> None:
    names = {r.name for r in catalogue.alerting}
    replaced = {
        "cloudtrail-console-login-failures",
        "cloudtrail-iam-changes",
        "cloudtrail-root-activity",
        "guardduty-high-severity",
        "waf-block-spike",
    }
    assert replaced <= names
    assert not (REPO / "modules" / "opensearch" / "dashboards" / "monitors").exists()


def test_thresholds_fire_at_the_threshold_and_not_one_below(catalogue: Catalogue) -> None:
    """Each correlation's first positive case is a burst of exactly the threshold, its first negative one less."""
    for rule in catalogue.alerting:
        if rule.correlation is None:
            continue
        data = json.loads((CASES / f"{rule.name}.json").read_text())
        needed = rule.correlation.threshold + (rule.correlation.op == "gt")
        assert _size(rule.correlation.field, data["positive"][0]) == needed, rule.name
        assert _size(rule.correlation.field, data["negative"][0]) == needed - 1, rule.name


def _size(field: str | None, records: list[dict[str, Any]]) -> int:
    """Events in a scenario, or (value_count) distinct values of the counted field."""
    events, _ = normalise_records(records)
    if field is None:
        return len(events)
    return len({text(v) for _, doc in events for v in getter(field)(doc)})


def test_stratus_aws_techniques_are_all_covered(catalogue: Catalogue) -> None:
    report = coverage(catalogue)
    missing = [tid for tid, names in report["stratus"]["techniques"].items() if not names]
    assert missing == []
    assert report["stratus"]["total"] == len(STRATUS_AWS)
    claimed = {tid for r in catalogue.rules for tid in r.stratus}
    assert claimed <= set(STRATUS_AWS), claimed - set(STRATUS_AWS)


# A real rule with a plain `condition: selection` (the catalogue's rules also exclude AWS service calls).
_GOOD = re.sub(
    r"(?m)^  condition: .*$",
    "  condition: selection",
    (RULES / "cloudtrail" / "cloudtrail-password-policy-change.yml").read_text(),
)


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        (_GOOD.replace("  condition: selection", "  condition: [selection\n bad: ]"), "line", "YAML syntax error"),
        (
            _GOOD.replace("event.action:", "event.action|startswit:"),
            "detection.selection.event.action|startswit",
            "unknown modifier 'startswit'",
        ),
        (_GOOD.replace("level: medium\n", ""), "level", "required"),
        (_GOOD.replace("level: medium", "level: severe"), "level", "'severe' is not one of"),
        (
            _GOOD.replace("event.provider:", "event.providr:"),
            "detection.selection.event.providr",
            "not indexed by the cloudtrail normaliser",
        ),
        (
            _GOOD.replace("condition: selection", "condition: selection and filter"),
            "detection.condition",
            "unknown selection 'filter'",
        ),
        (
            _GOOD.replace("event.action:", "event.action|gt:"),
            "detection.selection.event.action|gt",
            "needs a numeric field",
        ),
        (
            _GOOD.replace("event.action:", "aws.cloudtrail.request_parameters.name|re:"),
            "detection.selection.aws.cloudtrail.request_parameters.name|re",
            "not supported on flat_object",
        ),
        (
            _GOOD.replace("event.action:", "source.ip|cidr:"),
            "detection.selection.source.ip|cidr",
            "is not a network",
        ),
        (
            _GOOD.replace("condition: selection", "condition: selection and"),
            "detection.condition",
            "condition ends too early",
        ),
        (
            _GOOD.replace("event.action:", "event.action|cased:"),
            "detection.selection.event.action|cased",
            "the index template lowercases this field",
        ),
    ],
)
def test_bad_rule_files_are_refused_with_file_key_reason(tmp_path: Path, text: str, key: str, reason: str) -> None:
    (tmp_path / "bad.yml").write_text(text)
    result = runner.invoke(app, ["rules", "list", "--rules", str(tmp_path)])
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {tmp_path / 'bad.yml'}: {key}"), line
    assert reason in line, line


def test_rules_test_prints_matches_as_json(tmp_path: Path) -> None:
    data = json.loads((CASES / "cloudtrail-console-login-failures.json").read_text())
    events = [*data["positive"][0], *json.loads((CASES / "cloudtrail-root-activity.json").read_text())["positive"][0]]
    path = tmp_path / "trail.json"
    path.write_text(json.dumps({"Records": events}))
    result = runner.invoke(app, ["rules", "test", "--rules", str(RULES), "--events", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["events"] == 4
    by_name = {m["name"]: m for m in out["matches"]}
    assert set(by_name) == {"cloudtrail-console-login-failures", "cloudtrail-root-activity"}
    failures = by_name["cloudtrail-console-login-failures"]
    assert failures["count"] == 1 and failures["groups"] == [{"source.ip": "198.51.100.7"}]
    assert failures["techniques"] == ["T1110"] and failures["level"] == "medium"


def test_rules_test_reads_waf_and_guardduty_files(tmp_path: Path) -> None:
    waf = json.loads((CASES / "waf-block-spike.json").read_text())["positive"][0]
    (tmp_path / "waf.log").write_text("\n".join(json.dumps(r) for r in waf))
    finding = json.loads((CASES / "guardduty-critical-severity.json").read_text())["positive"][0][0]
    (tmp_path / "gd.json").write_text(json.dumps(finding))
    args = ["rules", "test", "--rules", str(RULES), "--format", "json"]
    result = runner.invoke(app, [*args, "--events", str(tmp_path / "waf.log"), "--events", str(tmp_path / "gd.json")])
    assert result.exit_code == 0, result.output
    names = {m["name"] for m in json.loads(result.stdout)["matches"]}
    assert names == {"waf-block-spike", "guardduty-critical-severity"}


@pytest.mark.slow  # the whole catalogue self-test, twice, through the CLI
def test_rules_test_without_events_self_tests_and_fails_on_a_broken_case(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["rules", "test", "--rules", str(RULES), "--cases", str(CASES)])
    assert ok.exit_code == 0, ok.output
    broken = tmp_path / "cases"
    broken.mkdir()
    for path in CASES.glob("*.json"):
        (broken / path.name).write_text(path.read_text())
    data = json.loads((broken / "cloudtrail-root-activity.json").read_text())
    data["positive"], data["negative"] = data["negative"], data["positive"]
    (broken / "cloudtrail-root-activity.json").write_text(json.dumps(data))
    failed = runner.invoke(app, ["rules", "test", "--rules", str(RULES), "--cases", str(broken)])
    assert failed.exit_code == 1
    assert "cloudtrail-root-activity: positive scenario #1 matched 0 time(s)" in failed.stdout


@pytest.mark.slow  # the whole catalogue through the CLI
def test_list_and_coverage(catalogue: Catalogue) -> None:
    listed = runner.invoke(app, ["rules", "list", "--rules", str(RULES), "--format", "json"])
    assert listed.exit_code == 0, listed.output
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert len(rows) == len(catalogue.alerting)
    assert rows["waf-block-spike"]["window"] == "event_count >= 2 by source.ip in 10m"
    assert rows["cloudtrail-root-activity"]["source"] == "cloudtrail"
    cov = runner.invoke(app, ["rules", "coverage", "--rules", str(RULES), "--format", "json"])
    assert cov.exit_code == 0, cov.output
    report = json.loads(cov.stdout)
    assert "T1562.008" in report["tactics"]["defense-evasion"]
    # A technique is listed under its own ATT&CK tactics, not under every tactic its rule tags.
    assert "T1485" in report["tactics"]["impact"] and "T1485" not in report["tactics"]["defense-evasion"]
    assert tactics_of("T9999", ["persistence"]) == ["persistence"]
    assert set(report["sources"]) == {"cloudtrail", "waf", "guardduty"}
    text = runner.invoke(app, ["rules", "coverage", "--rules", str(RULES)])
    assert f"{len(STRATUS_AWS)}/{len(STRATUS_AWS)} covered" in text.stdout


@pytest.mark.slow  # loads the catalogue through the CLI
def test_threat_list_placeholder_comes_from_a_file(tmp_path: Path) -> None:
    login = json.loads((CASES / "cloudtrail-console-login-without-mfa.json").read_text())["negative"][0]
    login[0]["sourceIPAddress"] = "203.0.113.77"
    events = tmp_path / "login.json"
    events.write_text(json.dumps(login))
    listed = tmp_path / "threats.txt"
    listed.write_text("# hostile\n203.0.113.0/28  # a CIDR\n203.0.113.77\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n")
    args = ["rules", "test", "--rules", str(RULES), "--events", str(events), "--format", "json"]

    def fired(file: Path) -> set[str]:
        result = runner.invoke(app, [*args, "--placeholder", f"threat_list={file}"])
        assert result.exit_code == 0, result.output
        return {m["name"] for m in json.loads(result.stdout)["matches"]}

    assert "cloudtrail-threat-list-access" in fired(listed)
    assert "cloudtrail-threat-list-access" not in fired(empty)
    bad = runner.invoke(app, [*args, "--placeholder", "threat_list"])
    assert bad.exit_code == 2 and "expected NAME=FILE" in bad.stderr
    catalogue = load_catalogue(RULES, REPO, {"threat_list": []})
    (monitor,) = [m for m in build_monitors(catalogue, "c") if m["name"] == "cloudtrail-threat-list-access"]
    assert {"bool": {"must_not": [{"match_all": {}}]}} in _clauses(monitor["inputs"][0]["search"]["query"])


def _clauses(node: Any) -> list[Any]:
    """Every dict nested in a query, for membership checks."""
    if isinstance(node, dict):
        return [node, *(c for v in node.values() for c in _clauses(v))]
    if isinstance(node, list):
        return [c for v in node for c in _clauses(v)]
    return []


DATA = REPO / "tests" / "data"
# Real records (Elastic's integration test logs): the exact set of rules each file must raise, nothing more.
REAL_EVENTS = {
    "rules/elastic/test-add-permission-json.log": set(),  # Lambda permission for sns.amazonaws.com, not "*"
    "rules/elastic/test-attach-user-policy-json.log": {
        "cloudtrail-iam-admin-policy-attached",
        "cloudtrail-iam-changes",
    },
    "rules/elastic/test-authorize-security-group-ingress-json.log": {"cloudtrail-security-group-change"},  # /24 only
    "rules/elastic/test-batch-get-secret-value-json.log": {"cloudtrail-secretsmanager-batch-retrieval"},
    "rules/elastic/test-create-trust-anchor-json.log": {"cloudtrail-rolesanywhere-trust-anchor"},
    "rules/elastic/test-delete-detector-json.log": {"cloudtrail-guardduty-tampering"},
    "rules/elastic/test-delete-flow-log-json.log": {"cloudtrail-vpc-flow-logs-deleted"},
    "rules/elastic/test-delete-resolver-query-log-config-json.log": {"cloudtrail-dns-query-logs-deleted"},
    "rules/elastic/test-get-parameters-json.log": set(),  # one read without decryption
    "rules/elastic/test-get-password-data-json.log": {"cloudtrail-ec2-get-password-data"},
    "rules/elastic/test-modify-db-snapshot-attributte-json.log": set(),  # valuesToRemove: un-sharing
    "rules/elastic/test-modify-image-attribute-json.log": set(),  # launchPermission.remove
    "rules/elastic/test-modify-snapshot-attribute-json.log": set(),  # createVolumePermission.remove
    "rules/elastic/test-send-ssh-public-key-json.log": {"cloudtrail-ec2-instance-connect"},
    "rules/elastic/test-start-session-json.log": {"cloudtrail-ssm-command-or-session"},
    "rules/elastic/test-update-assume-role-policy-json.log": {
        "cloudtrail-iam-changes",
        "cloudtrail-iam-trust-policy-changed",
    },
    "rules/elastic/test-update-trail-json.log": {"cloudtrail-trail-tampering"},
    "cloudtrail/test-assume-role-aws-service-json.log": set(),
    "cloudtrail/test-console-login-json.log": {"cloudtrail-console-login-without-mfa"},
    "waf/test-waf.log": {"waf-block-spike"},
    "guardduty/test-guard_duty.log": {"guardduty-high-severity"},
}


@pytest.mark.slow  # whole catalogue over each real log (1-2 s each)
@pytest.mark.parametrize("name", sorted(REAL_EVENTS))
def test_real_events_raise_exactly_the_expected_rules(name: str) -> None:
    result = runner.invoke(
        app, ["rules", "test", "--rules", str(RULES), "--events", str(DATA / name), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["skipped"] == 0 and out["events"] >= 1
    assert {m["name"] for m in out["matches"]} == REAL_EVENTS[name]


def test_rules_test_reads_every_container(tmp_path: Path) -> None:
    """S3 gzip object, Firehose transformation event, GetFindings output; unknown records are counted, not fatal."""
    trail = json.loads((CASES / "cloudtrail-root-activity.json").read_text())["positive"][0]
    waf = json.loads((CASES / "waf-block-spike.json").read_text())["positive"][0]
    finding = json.loads((CASES / "guardduty-high-severity.json").read_text())["positive"][0][0]["detail"]
    (tmp_path / "trail.json.gz").write_bytes(gzip.compress(json.dumps({"Records": trail}).encode()))
    records = [
        {"recordId": str(i), "data": base64.b64encode(json.dumps(r).encode()).decode()} for i, r in enumerate(waf)
    ]
    (tmp_path / "firehose.json").write_text(json.dumps({"invocationId": "x", "records": records}))
    (tmp_path / "findings.json").write_text(json.dumps({"Findings": [finding]}))
    (tmp_path / "junk.log").write_text('{"hello": 1}\nnot json\n')
    args = ["rules", "test", "--rules", str(RULES), "--format", "json"]
    for name in ("trail.json.gz", "firehose.json", "findings.json", "junk.log"):
        args += ["--events", str(tmp_path / name)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["events"], out["skipped"]) == (len(trail) + len(waf) + 1, 2)
    names = {m["name"] for m in out["matches"]}
    assert names == {"cloudtrail-root-activity", "waf-block-spike", "guardduty-high-severity"}
    missing = runner.invoke(app, ["rules", "test", "--rules", str(RULES), "--events", str(tmp_path / "nope.log")])
    assert missing.exit_code == 2 and "cannot read" in missing.stderr


def test_correlation_generate_keeps_the_base_rule_alerting(tmp_path: Path) -> None:
    source = (RULES / "cloudtrail" / "cloudtrail-console-login-failures.yml").read_text()
    (tmp_path / "cloudtrail-console-login-failures.yml").write_text(source)
    assert "cloudtrail-console-login-failure" not in {r.name for r in load_catalogue(tmp_path).alerting}
    (tmp_path / "cloudtrail-console-login-failures.yml").write_text(
        source.replace("  timespan: 15m", "  timespan: 15m\n  generate: true")
    )
    alerting = {r.name for r in load_catalogue(tmp_path).alerting}
    assert {"cloudtrail-console-login-failure", "cloudtrail-console-login-failures"} <= alerting


def test_sigmahq_rules_with_raw_cloudtrail_names_run_unchanged(tmp_path: Path) -> None:
    """Two rules copied from SigmaHQ (raw eventSource/eventName/userIdentity.type fields) through the pipeline."""
    sigmahq = DATA / "rules" / "sigmahq"
    catalogue = load_catalogue(sigmahq)
    (trail, root) = sorted(catalogue.alerting, key=lambda r: r.title)
    assert trail.tactics == ["defense-evasion"] and trail.techniques == ["T1562.001"]
    fields = {c.field for checks in trail.selections["selection_source"] for c in checks}
    assert fields == {"event.provider", "event.action"}
    (usertype,) = root.selections["selection_usertype"][0]
    assert usertype.field == "aws.cloudtrail.user_identity.type"
    root_case = tmp_path / "root.json"
    root_case.write_text(json.dumps(json.loads((CASES / "cloudtrail-root-activity.json").read_text())["positive"][0]))
    args = ["rules", "test", "--rules", str(sigmahq), "--format", "json"]
    for events, expected in (
        (DATA / "rules/elastic/test-update-trail-json.log", {("AWS CloudTrail Important Change", 2)}),
        (root_case, {("AWS Root Credentials", 1)}),
        (DATA / "rules/elastic/test-start-session-json.log", set()),
    ):
        result = runner.invoke(app, [*args, "--events", str(events)])
        assert result.exit_code == 0, result.output
        assert {(m["title"], m["count"]) for m in json.loads(result.stdout)["matches"]} == expected

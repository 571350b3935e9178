"""The drift report layer on results built in process: verdicts, every format, the committed schema."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from provisioner.drift.model import DriftReport, EnvironmentDrift
from provisioner.opensearch.drift import ContentDrift
from provisioner.report import drift as report
from tests.test_docs import validate


def _changed_monitor() -> EnvironmentDrift:
    monitor = ContentDrift("monitor", "waf-block-spike", "differs", ("triggers[0].severity: expected 1, found 3",))
    return EnvironmentDrift(environment="dev", workspace="dev", region="eu-west-1", opensearch=[monitor])


def test_opensearch_content_that_differs_is_drift_in_every_format() -> None:
    drift = DriftReport([_changed_monitor(), EnvironmentDrift(environment="prod", workspace="prod")], aws_checks=True)
    assert drift.exit_code == 2
    data = json.loads(report.render(drift, "json"))
    validate(data, "drift-report")
    assert data["environments"][0]["opensearch"] == [
        {
            "kind": "monitor",
            "name": "waf-block-spike",
            "status": "differs",
            "differences": ["triggers[0].severity: expected 1, found 3"],
        }
    ]
    assert data["summary"] == {"environments": 2, "clean": 1, "drift": 1, "error": 0}
    text = report.to_text(drift)
    assert "opensearch monitor waf-block-spike differs: triggers[0].severity: expected 1, found 3" in text
    assert "#### OpenSearch content (1)" in report.to_markdown(drift)
    suites = ET.fromstring(report.to_junit(drift))
    failures = [c for c in suites.iter("testcase") if c.find("failure") is not None]
    assert [c.get("classname") for c in failures] == ["drift.dev.opensearch"]


def test_a_part_that_did_not_run_is_null_and_not_drift() -> None:
    clean = DriftReport([EnvironmentDrift(environment="dev", workspace="dev")], aws_checks=False)
    data = json.loads(report.render(clean, "json"))
    validate(data, "drift-report")
    assert data["environments"][0]["opensearch"] is None
    assert clean.exit_code == 0

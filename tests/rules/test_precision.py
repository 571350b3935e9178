"""Precision on everyday activity: calls AWS services make on the customer's behalf raise no behaviour alert, and a
corpus of ordinary activity (people and Terraform reading, service role assumption, log delivery, key use by services,
State Manager, AWS Config's service-linked role) fires nothing at medium or above."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provisioner.cli import app
from provisioner.rules.catalogue import LEVELS, Catalogue
from provisioner.rules.detection import Node
from provisioner.rules.engine import Engine
from provisioner.rules.events import load_events, normalise_records
from provisioner.rules.loader import load_catalogue

REPO = Path(__file__).resolve().parents[2]
BENIGN = REPO / "tests" / "data" / "rules" / "benign" / "ordinary-activity.json"
CASES = REPO / "tests" / "data" / "rules" / "cases"
# Rules about a call AWS itself makes (AWS attaches the quarantine policy to a leaked key's user).
ABOUT_AWS_SERVICES = {"cloudtrail-iam-compromised-key-quarantine"}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(REPO / "rules", REPO)


def test_ordinary_activity_fires_nothing_at_medium_or_above() -> None:
    result = CliRunner().invoke(app, ["rules", "test", "--events", str(BENIGN), "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["events"] >= 80 and out["skipped"] == 0
    loud = [(m["name"], m["level"]) for m in out["matches"] if LEVELS.index(m["level"]) >= LEVELS.index("medium")]
    assert loud == []


def test_state_manager_send_command_is_not_remote_execution(catalogue: Catalogue) -> None:
    records = json.loads(BENIGN.read_text())["Records"]
    state_manager = [r for r in records if r["eventName"] == "SendCommand"]
    assert state_manager and state_manager[0]["userIdentity"]["invokedBy"] == "ssm.amazonaws.com"
    events, _ = normalise_records(state_manager)
    assert Engine(catalogue).run(events)["cloudtrail-ssm-command-or-session"].count == 0
    human = [
        dict(
            state_manager[0],
            userIdentity={k: v for k, v in state_manager[0]["userIdentity"].items() if k != "invokedBy"},
        )
    ]
    assert Engine(catalogue).run(normalise_records(human)[0])["cloudtrail-ssm-command-or-session"].count == 1


def _negated(node: Node | None) -> set[str]:
    """Selections the condition negates (walks and/or/not nodes)."""
    if node is None:
        return set()
    if node.kind == "not" and node.children[0].kind == "sel":
        return {node.children[0].name}
    found: set[str] = set()
    for child in node.children:
        found |= _negated(child)
    return found


def test_every_cloudtrail_behaviour_rule_excludes_aws_service_calls(catalogue: Catalogue) -> None:
    for rule in catalogue.rules:
        if rule.source != "cloudtrail" or rule.correlation or rule.name in ABOUT_AWS_SERVICES:
            continue
        assert "aws_service" in rule.selections and "aws_service" in _negated(rule.condition), rule.name
    for rule in catalogue.alerting:
        if rule.source == "cloudtrail" and rule.name not in ABOUT_AWS_SERVICES:
            data = json.loads((CASES / f"{rule.name}.json").read_text())
            by_service = [s for s in data["negative"] if any("invokedBy" in r["userIdentity"] for r in s)]
            assert by_service, f"{rule.name}: no negative case made by an AWS service"


def test_the_corpus_is_real_records_every_normaliser_reads() -> None:
    events, skipped = load_events(BENIGN)
    assert skipped == 0 and {source for source, _ in events} == {"cloudtrail"}

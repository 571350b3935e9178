"""`provision rules coverage --format navigator`: an ATT&CK Navigator layer (format 4.5, enterprise-attack) whose
scores are the number of rules covering each technique under each tactic."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from provisioner.cli import app
from provisioner.rules.coverage import ATTACK_TACTICS, tactics_of
from provisioner.rules.loader import load_catalogue

REPO = Path(__file__).resolve().parents[2]
TACTICS = {t for tactics in ATTACK_TACTICS.values() for t in tactics}
runner = CliRunner()


def test_navigator_layer_shape_ids_and_scores() -> None:
    result = runner.invoke(app, ["rules", "coverage", "--rules", str(REPO / "rules"), "--format", "navigator"])
    assert result.exit_code == 0, result.output
    layer = json.loads(result.stdout)
    assert layer["domain"] == "enterprise-attack"
    assert layer["versions"]["layer"] == "4.5"
    assert isinstance(layer["name"], str) and layer["name"]
    catalogue = load_catalogue(REPO / "rules", REPO)
    expected: dict[tuple[str, str], set[str]] = {}
    for rule in catalogue.alerting:
        for technique in rule.techniques:
            for tactic in tactics_of(technique, rule.tactics):
                expected.setdefault((technique, tactic), set()).add(rule.name)
    seen = {}
    for entry in layer["techniques"]:
        assert re.fullmatch(r"T\d{4}(\.\d{3})?", entry["techniqueID"]), entry
        assert entry["tactic"] in TACTICS, entry
        assert isinstance(entry["score"], int) and entry["score"] >= 1
        seen[(entry["techniqueID"], entry["tactic"])] = (entry["score"], set(entry["comment"].split(", ")))
    assert seen == {key: (len(names), names) for key, names in expected.items()}
    # Data-protection and logging-tampering families are covered by several rules each.
    assert seen[("T1562.001", "defense-evasion")][0] >= 5
    assert layer["gradient"]["maxValue"] == max(score for score, _ in seen.values())

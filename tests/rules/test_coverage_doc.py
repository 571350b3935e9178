"""rules/COVERAGE.md stays in step with rules/: every rule it names exists, every alerting rule appears, and every
anchor rule has either a rule of ours or a written reason."""

from __future__ import annotations

import re
from pathlib import Path

from provisioner.rules.loader import load_catalogue

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "rules" / "COVERAGE.md"
_ID = re.compile(r"`((?:cloudtrail|guardduty|waf)-[a-z0-9-]+)`")


def _anchor_rows() -> list[list[str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and cells[0].endswith((".yml`", ".toml`")):
            rows.append(cells)
    return rows


def test_every_rule_named_exists_and_every_alerting_rule_appears() -> None:
    names = {r.name for r in load_catalogue(REPO / "rules", REPO).alerting}
    named = set(_ID.findall(DOC.read_text(encoding="utf-8")))
    assert named - names == set(), "COVERAGE.md names rules that do not exist"
    assert names - named == set(), "alerting rules missing from COVERAGE.md"


def test_every_anchor_rule_maps_to_ours_or_to_a_reason() -> None:
    rows = _anchor_rows()
    assert len(rows) >= 380  # SigmaHQ 57 + Panther 137 + Elastic 194 at the pinned commits
    for anchor, _title, cell in rows:
        mapped = _ID.findall(cell)
        reason = cell.removeprefix("— ").strip() if cell.startswith("—") else ""
        assert mapped or len(reason) > 20, f"{anchor}: neither a rule of ours nor a reason"

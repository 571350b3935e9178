"""The catalogue is standard Sigma: the reference implementation (pySigma) parses every rule and correlation."""

from __future__ import annotations

from pathlib import Path

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaRule

from provisioner.rules.loader import load_catalogue

REPO = Path(__file__).resolve().parents[2]


def test_pysigma_parses_every_rule_and_resolves_correlations() -> None:
    files = sorted((REPO / "rules").rglob("*.yml"))
    collection = SigmaCollection.from_yaml("\n---\n".join(p.read_text() for p in files), collect_errors=True)
    errors = [(r.title, r.errors) for r in collection.rules if r.errors]
    assert errors == []
    collection.resolve_rule_references()
    correlations = [r for r in collection.rules if isinstance(r, SigmaCorrelationRule)]
    ours = load_catalogue(REPO / "rules")
    assert len(correlations) == sum(1 for r in ours.rules if r.correlation) >= 7
    for correlation in correlations:
        assert all(isinstance(ref.rule, SigmaRule) for ref in correlation.rules)
    assert sum(isinstance(r, SigmaRule) for r in collection.rules) == len(files)

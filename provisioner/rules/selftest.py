"""Run a catalogue on events: plain matching, and the self-test of every rule on its positive/negative cases.

A case file `<rule name>.json` holds `{"positive": [[record, ...], ...], "negative": [[...], ...]}`: each inner
list is one scenario of raw log records (a threshold rule's scenario holds all the events of the burst).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provisioner.errors import SpecError
from provisioner.rules.catalogue import Catalogue
from provisioner.rules.engine import Engine, RuleResult
from provisioner.rules.events import Event, normalise_records


def matches(results: dict[str, RuleResult], catalogue: Catalogue) -> list[dict[str, Any]]:
    """The JSON shape of `rules test --events`: alerting rules with at least one match."""
    out = []
    for rule in catalogue.alerting:
        result = results[rule.name]
        if result.count:
            item: dict[str, Any] = {
                "rule": rule.id,
                "name": rule.name,
                "title": rule.title,
                "level": rule.level,
                "techniques": rule.techniques,
                "count": result.count,
            }
            if result.groups:
                item["groups"] = result.groups
            out.append(item)
    return out


@dataclass
class CaseReport:
    checked: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def _scenarios(path: Path, data: Any, kind: str) -> list[list[Any]]:
    sets = data.get(kind) if isinstance(data, dict) else None
    if not isinstance(sets, list) or not sets or not all(isinstance(s, list) and s for s in sets):
        raise SpecError(str(path), kind, "required: a non-empty list of scenarios (lists of records)")
    return sets


def run_cases(catalogue: Catalogue, cases_dir: Path) -> CaseReport:
    engine = Engine(catalogue)
    report = CaseReport()
    for rule in catalogue.alerting:
        path = cases_dir / f"{rule.name}.json"
        if not path.is_file():
            report.failures.append(f"{rule.name}: no case file {path}")
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SpecError(str(path), "", f"not readable JSON: {exc}") from None
        for kind in ("positive", "negative"):
            for number, records in enumerate(_scenarios(path, data, kind), start=1):
                events, skipped = normalise_records(records)
                if skipped:
                    report.failures.append(f"{rule.name}: {kind} #{number}: {skipped} record(s) not normalised")
                count = engine.run(events)[rule.name].count
                report.checked += 1
                if (count > 0) != (kind == "positive"):
                    report.failures.append(f"{rule.name}: {kind} scenario #{number} matched {count} time(s)")
    return report


def evaluate(catalogue: Catalogue, events: list[Event]) -> dict[str, RuleResult]:
    return Engine(catalogue).run(events)

"""Run a catalogue over normalised documents: per-event detection, then correlations over event time."""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from provisioner.rules.catalogue import Catalogue, Correlation, Rule
from provisioner.rules.detection import Selection
from provisioner.rules.evaluate import Doc, Pred, compile_node, compile_selection, getter, required_values, text


@dataclass
class RuleResult:
    rule: Rule
    events: list[int] = field(default_factory=list)  # indices of the matching documents
    groups: list[dict[str, str]] = field(default_factory=list)  # correlations: the groups that fired

    @property
    def count(self) -> int:
        return len(self.groups) if self.rule.correlation else len(self.events)


# Fields whose value narrows the rules worth trying on an event, most selective first.
INDEX_FIELDS = ("event.action", "event.provider", "aws.cloudtrail.user_identity.type", "aws.cloudtrail.error_code")


class Engine:
    """Compiled once per catalogue. Each rule is filed under the first index field whose values it requires, so an
    event is only tried against the rules filed under its own values, plus the few that require none."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._compiled: dict[str, Pred] = {}
        self._index: dict[str, dict[str, dict[str, list[str]]]] = {}  # source -> field -> value -> rule names
        self._always: dict[str, list[str]] = defaultdict(list)
        self._getters = {f: getter(f) for f in INDEX_FIELDS}
        self._shared: dict[Selection, Pred] = {}
        for rule in catalogue.rules:
            if rule.correlation is None:
                self._add(rule)

    def _add(self, rule: Rule) -> None:
        assert rule.condition is not None
        selections = {n: self._selection(s) for n, s in rule.selections.items()}
        self._compiled[rule.name] = compile_node(rule.condition, selections)
        for field_name in INDEX_FIELDS:
            values = required_values(rule.condition, rule, field_name)
            if values is not None:
                by_value = self._index.setdefault(rule.source, {}).setdefault(field_name, {})
                for value in values:
                    by_value.setdefault(value, []).append(rule.name)
                return
        self._always[rule.source].append(rule.name)

    def _selection(self, selection: Selection) -> Pred:
        """One predicate per distinct selection, remembering its answer for the document it last saw: most rules
        share the selection that excludes AWS service calls, and it is then evaluated once per event."""
        try:
            known = self._shared.get(selection)
        except TypeError:  # an unhashable operand: compile it on its own
            return compile_selection(selection)
        if known is None:
            known = self._shared[selection] = _last_answer(compile_selection(selection))
        return known

    def match(self, source: str, doc: Doc) -> list[str]:
        """Names of the detection rules one document matches."""
        candidates = list(self._always.get(source, ()))
        for field_name, by_value in self._index.get(source, {}).items():
            for value in self._getters[field_name](doc):
                if isinstance(value, str):
                    candidates.extend(by_value.get(value.lower(), ()))
        compiled = self._compiled
        return [name for name in dict.fromkeys(candidates) if compiled[name](doc)]

    def run(self, events: list[tuple[str, Doc]]) -> dict[str, RuleResult]:
        """Results for every rule of the catalogue (also the ones that matched nothing)."""
        results = {r.name: RuleResult(r) for r in self.catalogue.rules}
        for index, (source, doc) in enumerate(events):
            for name in self.match(source, doc):
                results[name].events.append(index)
        for rule in self.catalogue.rules:
            if rule.correlation is not None:
                indices = sorted({i for n in rule.correlation.rules for i in results[n].events})
                results[rule.name].events = indices
                results[rule.name].groups = correlate(rule.correlation, [events[i][1] for i in indices])
        return results


def _last_answer(pred: Pred) -> Pred:
    """`pred`, answering again without work for the document it was last called with (held, so never reused)."""
    last: list[Any] = [None, False]

    def run(doc: Doc) -> bool:
        if last[0] is not doc:
            last[0], last[1] = doc, pred(doc)
        return bool(last[1])

    return run


def epoch(doc: Doc) -> float | None:
    stamp = doc.get("@timestamp")
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _group_keys(getters: list[Callable[[Doc], list[Any]]], doc: Doc) -> tuple[str, ...] | None:
    """The group of a document: the first value of each group-by field (as a terms aggregation keys it)."""
    key = []
    for get in getters:
        values = [t for v in get(doc) if (t := text(v)) is not None]
        if not values:
            return None  # a composite aggregation leaves documents without the field out
        key.append(values[0])
    return tuple(key)


def correlate(correlation: Correlation, docs: list[Doc]) -> list[dict[str, str]]:
    """Groups whose events (or distinct values) within any window of `timespan` reach the threshold."""
    grouped: dict[tuple[str, ...], list[tuple[float, Any]]] = defaultdict(list)
    value_of = getter(correlation.field) if correlation.field else None
    getters = [getter(name) for name in correlation.group_by]
    for doc in docs:
        stamp = epoch(doc)
        key = _group_keys(getters, doc)
        if stamp is None or key is None:
            continue
        values = [t for v in value_of(doc) if (t := text(v)) is not None] if value_of else [None]
        for value in values:
            grouped[key].append((stamp, value))
    fired = []
    for key, items in sorted(grouped.items()):
        if _peak(sorted(items, key=lambda item: item[0]), correlation) >= _needed(correlation):
            fired.append(dict(zip(correlation.group_by, key, strict=True)))
    return fired


def _needed(correlation: Correlation) -> int:
    return correlation.threshold + (1 if correlation.op == "gt" else 0)


def _peak(items: list[tuple[float, Any]], correlation: Correlation) -> int:
    """The most events (or distinct values) inside any window [t, t + timespan]: two pointers over time."""
    window: deque[tuple[float, Any]] = deque()
    seen: Counter[Any] = Counter()
    best = 0
    for stamp, value in items:
        window.append((stamp, value))
        seen[value] += 1
        while window[0][0] < stamp - correlation.timespan:
            _, old = window.popleft()
            seen[old] -= 1
            if not seen[old]:
                del seen[old]
        best = max(best, len(seen) if correlation.type == "value_count" else len(window))
    return best

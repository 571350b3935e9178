"""Load and validate a Sigma rule catalogue: one rule per file; a threshold rule is its base rule plus a Sigma
correlation (two YAML documents in one file). Bad input is refused as `file: key: reason` (SpecError, exit 2)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from provisioner.rules.detection import Node, Placeholders, RuleError, Selection, parse_condition, parse_selection
from provisioner.rules.fields import TEXT, field_type, map_field

LEVELS = ("informational", "low", "medium", "high", "critical")
STATUSES = ("stable", "test", "experimental", "deprecated", "unsupported")
SOURCES = ("cloudtrail", "waf", "guardduty")
TRIAGE_KEYS = ("goal", "strategy", "triage", "response")
_TIMESPAN = re.compile(r"^(\d+)([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_TECHNIQUE = re.compile(r"^attack\.(t\d{4}(?:\.\d{3})?)$", re.IGNORECASE)


@dataclass(frozen=True)
class Correlation:
    type: str  # event_count | value_count
    rules: tuple[str, ...]  # names of the base rules
    group_by: tuple[str, ...]
    timespan: int  # seconds
    op: str  # gt | gte
    threshold: int
    field: str | None = None  # value_count: the field whose distinct values are counted
    generate: bool = False  # Sigma `generate`: the base rules also alert on their own


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    title: str
    level: str
    file: str
    source: str
    description: str = ""
    status: str = "experimental"
    tags: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    falsepositives: tuple[str, ...] = ()
    triage: dict[str, str] = field(default_factory=dict)
    stratus: tuple[str, ...] = ()
    selections: dict[str, Selection] = field(default_factory=dict)
    condition: Node | None = None
    correlation: Correlation | None = None

    @property
    def techniques(self) -> list[str]:
        return sorted({m.group(1).upper() for t in self.tags if (m := _TECHNIQUE.match(t))})

    @property
    def tactics(self) -> list[str]:
        return sorted(
            {t[7:].replace("_", "-") for t in self.tags if t.startswith("attack.") and not _TECHNIQUE.match(t)}
        )


@dataclass
class Catalogue:
    rules: list[Rule]

    def by_name(self, name: str) -> Rule:
        return next(r for r in self.rules if r.name == name)

    @property
    def alerting(self) -> list[Rule]:
        """Rules that raise alerts: correlations, and detection rules no correlation consumes (Sigma's default)."""
        consumed = {n for r in self.rules if r.correlation and not r.correlation.generate for n in r.correlation.rules}
        return [r for r in self.rules if r.name not in consumed]


def _str_list(doc: dict[str, Any], key: str) -> tuple[str, ...]:
    value = doc.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise RuleError(key, "must be a list of strings")
    return tuple(str(v) for v in value)


def _required_str(doc: dict[str, Any], key: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RuleError(key, "required (a non-empty string)")
    return value.strip()


def _common(doc: dict[str, Any], file: str, name: str, source: str) -> dict[str, Any]:
    rule_id = _required_str(doc, "id")
    try:
        uuid.UUID(rule_id)
    except ValueError:
        raise RuleError("id", f"{rule_id!r} is not a UUID") from None
    level = doc.get("level")
    if level is None:
        raise RuleError("level", f"required (one of: {', '.join(LEVELS)})")
    if level not in LEVELS:
        raise RuleError("level", f"{level!r} is not one of: {', '.join(LEVELS)}")
    status = doc.get("status", "experimental")
    if status not in STATUSES:
        raise RuleError("status", f"{status!r} is not one of: {', '.join(STATUSES)}")
    triage = doc.get("triage", {})
    if not isinstance(triage, dict) or not all(isinstance(v, str) for v in triage.values()):
        raise RuleError("triage", "must map goal/strategy/triage/response to text")
    unknown = sorted(set(triage) - set(TRIAGE_KEYS))
    if unknown:
        raise RuleError(f"triage.{unknown[0]}", f"unknown key (known: {', '.join(TRIAGE_KEYS)})")
    shown = _str_list(doc, "fields")
    for i, name_ in enumerate(shown):
        if field_type(map_field(name_, source)) is None:
            raise RuleError(f"fields[{i}]", f"field {name_!r} is not indexed by the {source} normaliser")
    return {
        "id": rule_id,
        "name": name,
        "title": _required_str(doc, "title"),
        "level": level,
        "file": file,
        "source": source,
        "description": str(doc.get("description", "")).strip(),
        "status": status,
        "tags": tuple(t.lower() for t in _str_list(doc, "tags")),
        "references": _str_list(doc, "references"),
        "fields": tuple(map_field(f, source) for f in shown),
        "falsepositives": _str_list(doc, "falsepositives"),
        "triage": {k: v.strip() for k, v in triage.items()},
        "stratus": _str_list(doc, "stratus"),
    }


def _source(doc: dict[str, Any]) -> str:
    logsource = doc.get("logsource")
    if not isinstance(logsource, dict):
        raise RuleError("logsource", "required (product: aws, service: cloudtrail|waf|guardduty)")
    if str(logsource.get("product", "")).lower() != "aws":
        raise RuleError("logsource.product", "only product 'aws' has a normaliser here")
    service = str(logsource.get("service", "")).lower()
    if service not in SOURCES:
        raise RuleError("logsource.service", f"{service or 'missing'!r} is not one of: {', '.join(SOURCES)}")
    return service


def parse_detection_rule(doc: dict[str, Any], file: str, name: str, placeholders: Placeholders) -> Rule:
    source = _source(doc)
    detection = doc.get("detection")
    if not isinstance(detection, dict):
        raise RuleError("detection", "required (selections and a condition)")
    names = [k for k in detection if k not in ("condition", "timeframe")]
    if "timeframe" in detection:
        raise RuleError("detection.timeframe", "deprecated Sigma aggregation: write a correlation rule instead")
    selections = {n: parse_selection(detection[n], source, f"detection.{n}", placeholders) for n in names}
    condition = parse_condition(detection.get("condition"), names, "detection.condition")
    return Rule(**_common(doc, file, name, source), selections=selections, condition=condition)


def _timespan(value: Any) -> int:
    found = _TIMESPAN.match(str(value))
    if not found or int(found.group(1)) == 0:
        raise RuleError("correlation.timespan", f"{value!r} is not a duration such as 30s, 10m, 1h, 1d")
    return int(found.group(1)) * _UNIT[found.group(2)]


def _base_rules(refs: Any, base: list[Rule]) -> tuple[list[str], str]:
    """The names of the referenced base rules and the one log source they share."""
    if not isinstance(refs, list) or not refs:
        raise RuleError("correlation.rules", "required (names or ids of the base rules)")
    names = []
    for ref in refs:
        found = [r for r in base if ref in (r.name, r.id)]
        if not found:
            raise RuleError("correlation.rules", f"{ref!r} is not a rule of the catalogue")
        names.append(found[0].name)
    sources = {r.source for r in base if r.name in names}
    if len(sources) != 1:
        raise RuleError("correlation.rules", "base rules must share one log source")
    return names, sources.pop()


def _group_by(value: Any, source: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(g, str) for g in value):
        raise RuleError("correlation.group-by", "required: a list of fields (the monitor groups by them)")
    group_by = [map_field(g, source) for g in value]
    for g in group_by:
        if field_type(g) in (None, TEXT):
            raise RuleError("correlation.group-by", f"field {g!r} is not indexed by the {source} normaliser")
    return group_by


def _condition(condition: Any, kind: str, source: str) -> tuple[str, int, Any]:
    """(op, threshold, counted field): the field is mapped and checked for value_count, passed through otherwise."""
    if not isinstance(condition, dict):
        raise RuleError("correlation.condition", "required, e.g. {gte: 3}")
    ops = [op for op in condition if op != "field"]
    if len(ops) != 1 or ops[0] not in ("gt", "gte"):
        raise RuleError("correlation.condition", "one of gt/gte (a monitor cannot see groups without events)")
    threshold = condition[ops[0]]
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise RuleError(f"correlation.condition.{ops[0]}", "must be a non-negative integer")
    value_field = condition.get("field")
    if kind == "value_count":
        if not isinstance(value_field, str) or field_type(map_field(value_field, source)) is None:
            raise RuleError("correlation.condition.field", "value_count needs an indexed field to count")
        value_field = map_field(value_field, source)
    return ops[0], threshold, value_field


def _correlation(body: Any, base: list[Rule]) -> tuple[Correlation, str]:
    if not isinstance(body, dict):
        raise RuleError("correlation", "must be a map")
    kind = body.get("type")
    if kind not in ("event_count", "value_count"):
        raise RuleError("correlation.type", f"{kind!r} is not supported (event_count, value_count)")
    names, source = _base_rules(body.get("rules"), base)
    group_by = _group_by(body.get("group-by", []), source)
    op, threshold, value_field = _condition(body.get("condition"), kind, source)
    span = _timespan(body.get("timespan"))
    generate = body.get("generate", False)
    if not isinstance(generate, bool):
        raise RuleError("correlation.generate", "must be true or false")
    return Correlation(kind, tuple(names), tuple(group_by), span, op, threshold, value_field, generate), source


def parse_correlation_rule(doc: dict[str, Any], file: str, name: str, base: list[Rule]) -> Rule:
    correlation, source = _correlation(doc.get("correlation"), base)
    return Rule(**_common(doc, file, name, source), correlation=correlation)

"""Evaluate a catalogue on normalised documents with Sigma semantics and OpenSearch's field semantics.

Each rule is compiled once into closures. Most CloudTrail rules require `event.action` to be one of a few names,
so rules are indexed by that value: an event is only tried against the rules that could match it (the hot path
of `provision rules test`, >= 50k events/s/core).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from typing import Any

from provisioner.rules.catalogue import Rule
from provisioner.rules.detection import Check, Match, Node, Selection
from provisioner.rules.fields import BOOLEAN, KEYWORD, NUMBER

Doc = dict[str, Any]
Pred = Callable[[Doc], bool]


def _fan_out(current: list[Any], keys: list[str]) -> list[Any]:
    for key in keys:
        found: list[Any] = []
        for item in current:
            if isinstance(item, dict):
                value = item.get(key)
                if isinstance(value, list):
                    found.extend(v for v in value if v is not None)
                elif value is not None:
                    found.append(value)
        if not found:
            return found
        current = found
    return current


def getter(path: str) -> Callable[[Doc], list[Any]]:
    """All leaf values at a dotted path; lists at any level fan out (as OpenSearch indexes them)."""
    keys = path.split(".")

    def get(doc: Doc) -> list[Any]:
        # Hot path: nested dicts down to one scalar; the general walk only when a list appears on the way.
        current: Any = doc
        for depth, key in enumerate(keys):
            if type(current) is dict:
                current = current.get(key)
                if current is None:
                    return []
            elif type(current) is list:
                return _fan_out(current, keys[depth:])
            else:
                return []
        if type(current) is list:
            return [v for v in current if v is not None]
        return [current]

    return get


@functools.cache
def _shared_getter(path: str) -> Callable[[Doc], list[Any]]:
    """One getter per path for all compiled rules, remembering the values of the document it last read: the
    catalogue's rules read the same few fields (event.action, event.provider, the identity) of every event."""
    get = getter(path)
    last: list[Any] = [None, []]

    def cached(doc: Doc) -> list[Any]:
        if last[0] is not doc:
            last[0], last[1] = doc, get(doc)
        return last[1]  # type: ignore[no-any-return]

    return cached


def text(value: Any) -> str | None:
    """A leaf as OpenSearch stores it in a keyword/flat_object field; objects have no text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def _typed(match: Match, ftype: str) -> Callable[[Any], bool]:
    operand = match.operand
    if ftype == NUMBER:
        compare = {
            "eq": float.__eq__,
            "gt": float.__gt__,
            "gte": float.__ge__,
            "lt": float.__lt__,
            "lte": float.__le__,
        }[match.op]
        return lambda v: isinstance(v, int | float) and not isinstance(v, bool) and compare(float(v), operand)
    if ftype == BOOLEAN:
        return lambda v: v is operand or (isinstance(v, str) and v.lower() == str(operand).lower())
    if match.op == "cidr":
        return lambda v: _in_network(v, operand)
    return lambda v: isinstance(v, str) and _canonical_ip(v) == operand


def _canonical_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _in_network(value: Any, network: Any) -> bool:
    try:
        return isinstance(value, str) and ipaddress.ip_address(value) in network
    except ValueError:
        return False


def _string(match: Match) -> Callable[[str], bool]:
    operand = match.operand
    if match.op == "eq":
        return operand.__eq__  # type: ignore[no-any-return]
    if match.op == "prefix":
        return lambda s: s.startswith(operand)
    if match.op == "suffix":
        return lambda s: s.endswith(operand)
    if match.op == "contains":
        return lambda s: operand in s
    if match.op == "glob":
        return lambda s: operand[0].fullmatch(s) is not None
    return lambda s: operand.fullmatch(s) is not None  # re: Lucene regexps match the whole value


def _leaf_test(match: Match, ftype: str) -> Callable[[Any], bool]:
    if ftype != KEYWORD:
        return _typed(match, ftype)
    test = _string(match)
    if match.cased or match.op == "re":
        return lambda v: (t := text(v)) is not None and test(t)
    return lambda v: (t := text(v)) is not None and test(t.lower())


def _value_test(match: Match, ftype: str, get: Callable[[Doc], list[Any]]) -> Pred:
    if match.op == "never":
        return lambda doc: False
    if match.op in ("exists", "null"):
        present = bool(match.operand) if match.op == "exists" else False
        return lambda doc: bool(get(doc)) is present
    leaf = _leaf_test(match, ftype)
    return lambda doc: any(leaf(v) for v in get(doc))


_LOWERED_OPS = ("eq", "prefix", "suffix", "contains")


def _any_string(tests: list[Callable[[str], bool]], get: Callable[[Doc], list[Any]]) -> Pred:
    """Several case-insensitive string tests on one field: each value is lowered once, not once per test."""

    def run(doc: Doc) -> bool:
        for value in get(doc):
            found = text(value)
            if found is not None:
                lowered = found.lower()
                if any(test(lowered) for test in tests):
                    return True
        return False

    return run


def compile_check(check: Check) -> Pred:
    get = _shared_getter(check.field)
    plain = [m for m in check.matches if m.op == "eq" and not m.cased and check.ftype == KEYWORD]
    if not check.match_all and len(plain) == len(check.matches) and len(plain) > 1:
        wanted = frozenset(m.operand for m in plain)
        return lambda doc: any((t := text(v)) is not None and t.lower() in wanted for v in get(doc))
    strings = [m for m in check.matches if m.op in _LOWERED_OPS and not m.cased and check.ftype == KEYWORD]
    if not check.match_all and len(strings) == len(check.matches) > 1:
        return _any_string([_string(m) for m in strings], get)
    tests = [_value_test(match, check.ftype, get) for match in check.matches]
    if len(tests) == 1:
        return tests[0]
    combine = all if check.match_all else any
    return lambda doc: combine(t(doc) for t in tests)


def _all(preds: list[Pred]) -> Pred:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        first, second = preds
        return lambda doc: first(doc) and second(doc)
    if len(preds) == 3:
        one, two, three = preds
        return lambda doc: one(doc) and two(doc) and three(doc)
    return lambda doc: all(p(doc) for p in preds)


def _any(preds: list[Pred]) -> Pred:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        first, second = preds
        return lambda doc: first(doc) or second(doc)
    return lambda doc: any(p(doc) for p in preds)


def compile_selection(selection: Selection) -> Pred:
    return _any([_all([compile_check(c) for c in checks]) for checks in selection])


def compile_node(node: Node, selections: dict[str, Pred]) -> Pred:
    if node.kind == "sel":
        return selections[node.name]
    parts = [compile_node(c, selections) for c in node.children]
    if node.kind == "not":
        inner = parts[0]
        return lambda doc: not inner(doc)
    return _all(parts) if node.kind == "and" else _any(parts)


def required_values(node: Node, rule: Rule, field: str) -> frozenset[str] | None:
    """Lower-cased values of `field` one of which the rule needs (None: it may match without any of them)."""
    if node.kind == "sel":
        found: set[str] = set()
        for checks in rule.selections[node.name]:
            plain = [c for c in checks if c.field == field and c.ftype == KEYWORD and not c.match_all]
            usable = [c for c in plain if all(m.op == "eq" and not m.cased for m in c.matches)]
            if not usable:
                return None
            found |= {m.operand for m in usable[0].matches}
        return frozenset(found)
    if node.kind == "not":
        return None
    parts = [required_values(c, rule, field) for c in node.children]
    if node.kind == "and":
        known = [p for p in parts if p is not None]
        return min(known, key=len) if known else None
    if any(p is None for p in parts):
        return None
    return frozenset().union(*[p for p in parts if p is not None])

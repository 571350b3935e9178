"""Sigma detections parsed into one small tree that both the evaluator and the monitor compiler walk.

A value becomes a `Match` (op + operand); a `field|mods: values` entry becomes a `Check`; a selection is a list of
alternatives (a list of maps is an OR), each an AND of checks; the condition is a tree of and/or/not over them.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from provisioner.rules.fields import BOOLEAN, IP, KEYWORD, NUMBER, TEXT, field_type, is_flat, map_field

MODIFIERS = frozenset(
    {
        "contains",
        "startswith",
        "endswith",
        "all",
        "re",
        "i",
        "cidr",
        "exists",
        "gt",
        "gte",
        "lt",
        "lte",
        "cased",
        "expand",
    }
)
_NUMERIC_OPS = ("gt", "gte", "lt", "lte")
_STRING_MODS = ("contains", "startswith", "endswith")
# Lucene's regexp dialect lacks these; a rule using them would match locally and never in OpenSearch.
_NON_PORTABLE_RE = re.compile(r"\\[dDwWsSbB]|\(\?|(?<!\\)[\^$]")


class RuleError(Exception):
    """A rule is invalid at `key` (a dotted path inside the rule) for `reason`."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class Match:
    """op: eq, prefix, suffix, contains, glob, re, cidr, exists, null, gt, gte, lt, lte; never (empty placeholder)."""

    op: str
    operand: Any
    cased: bool = False


@dataclass(frozen=True)
class Check:
    field: str
    ftype: str
    matches: tuple[Match, ...]
    match_all: bool = False


Selection = tuple[tuple[Check, ...], ...]  # OR of ANDs


@dataclass(frozen=True)
class Node:
    """kind: sel (name), and, or, not."""

    kind: str
    name: str = ""
    children: tuple[Node, ...] = ()


# ---------------------------------------------------------------- values


_STAR = "\0*"  # wildcard tokens; a literal '*' or '?' stays a plain string
_ONE = "\0?"
_WILD = (_STAR, _ONE)


def _glob_tokens(value: str) -> list[str]:
    """Split a Sigma string into literal chunks and wildcard tokens (a backslash escapes '*', '?' and itself)."""
    out: list[str] = []
    literal: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value) and value[i + 1] in "*?\\":
            literal.append(value[i + 1])
            i += 2
            continue
        if ch in "*?":
            if literal:
                out.append("".join(literal))
                literal = []
            out.append(_STAR if ch == "*" else _ONE)
        else:
            literal.append(ch)
        i += 1
    if literal:
        out.append("".join(literal))
    return out


def _string_match(value: str, mods: set[str], cased: bool) -> Match:
    tokens = _glob_tokens(value)
    if "contains" in mods or "endswith" in mods:
        tokens.insert(0, _STAR)
    if "contains" in mods or "startswith" in mods:
        tokens.append(_STAR)
    literal = [t for t in tokens if t not in _WILD]
    text = "".join(literal) if cased else "".join(literal).lower()
    if len(literal) == len(tokens):
        return Match("eq", text, cased)
    if _ONE not in tokens and len(literal) == 1:
        shape = (tokens[0] == _STAR, tokens[-1] == _STAR, len(tokens))
        kind = {(True, True, 3): "contains", (False, True, 2): "prefix", (True, False, 2): "suffix"}.get(shape)
        if kind:
            return Match(kind, text, cased)
    flags = 0 if cased else re.IGNORECASE
    compiled = re.compile(_glob_regex(tokens), flags | re.DOTALL)
    wildcard = "".join("*" if t == _STAR else "?" if t == _ONE else _escape_wildcard(t) for t in tokens)
    return Match("glob", (compiled, wildcard), cased)


def _glob_regex(tokens: list[str]) -> str:
    return "".join(".*" if t == _STAR else "." if t == _ONE else re.escape(t) for t in tokens)


def _escape_wildcard(text: str) -> str:
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


def _typed_operand(value: Any, ftype: str, key: str) -> Any:
    if ftype == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise RuleError(key, f"{value!r} is not a number")
        try:
            return float(value)
        except ValueError:
            raise RuleError(key, f"{value!r} is not a number") from None
    if ftype == BOOLEAN:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise RuleError(key, f"{value!r} is not a boolean")
    if ftype == IP:
        try:
            return str(ipaddress.ip_address(str(value)))
        except ValueError:
            raise RuleError(key, f"{value!r} is not an IP address (use |cidr for networks)") from None
    return value


def _exists_match(value: Any, key: str) -> Match:
    if not isinstance(value, bool):
        raise RuleError(key, "|exists takes true or false")
    return Match("exists", value)


def _numeric_match(value: Any, op: str, ftype: str, key: str) -> Match:
    if ftype != NUMBER:
        raise RuleError(key, f"|{op} needs a numeric field; this one is indexed as {ftype}")
    return Match(op, _typed_operand(value, NUMBER, key))


def _cidr_match(value: Any, ftype: str, key: str) -> Match:
    if ftype != IP:
        raise RuleError(key, "|cidr needs an IP field (source.ip, destination.ip)")
    try:
        return Match("cidr", ipaddress.ip_network(str(value), strict=False))
    except ValueError:
        raise RuleError(key, f"{value!r} is not a network") from None


def _re_match(value: Any, mods: set[str], ftype: str, key: str, flat: bool) -> Match:
    if ftype != KEYWORD:
        raise RuleError(key, "|re needs a string field")
    if flat:
        raise RuleError(key, "|re is not supported on flat_object sub-paths by OpenSearch; use wildcards")
    if _NON_PORTABLE_RE.search(str(value)):
        raise RuleError(key, "regular expression uses anchors, (?...) or \\d/\\w/\\s: not portable to OpenSearch")
    try:
        compiled = re.compile(str(value), re.IGNORECASE if "i" in mods else 0)
    except re.error as exc:
        raise RuleError(key, f"invalid regular expression: {exc}") from None
    return Match("re", compiled, "i" not in mods)


def _value_match(value: Any, mods: set[str], ftype: str, key: str) -> Match:
    """No operator modifier: equality on typed fields, string/wildcard matching on keyword fields."""
    if ftype != KEYWORD:
        if mods & set(_STRING_MODS):
            raise RuleError(key, f"string modifiers need a string field; this one is indexed as {ftype}")
        return Match("eq", _typed_operand(value, ftype, key), True)
    if isinstance(value, dict | list):
        raise RuleError(key, "a value must be a string, number, boolean or null")
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return _string_match(text, mods, "cased" in mods)


def _match(value: Any, mods: set[str], ftype: str, key: str, flat: bool = False) -> Match:
    """One value under its modifiers; the operator families are exclusive, tried in this order."""
    if value is None:
        return Match("null", None)
    if "exists" in mods:
        return _exists_match(value, key)
    numeric = [m for m in _NUMERIC_OPS if m in mods]
    if numeric:
        return _numeric_match(value, numeric[0], ftype, key)
    if "cidr" in mods:
        return _cidr_match(value, ftype, key)
    if "re" in mods:
        return _re_match(value, mods, ftype, key, flat)
    return _value_match(value, mods, ftype, key)


Placeholders = Mapping[str, Sequence[str]]


def _expand(items: list[Any], mods: set[str], ftype: str, placeholders: Placeholders, key: str) -> list[Match]:
    """`|expand`: `%name%` becomes the placeholder's values; networks in an IP field match as CIDRs."""
    out: list[Match] = []
    for item in items:
        found = re.fullmatch(r"%([A-Za-z0-9_.-]+)%", str(item))
        if not found:
            raise RuleError(key, f"|expand takes a placeholder such as %threat_list%, not {item!r}")
        for value in placeholders.get(found.group(1), ()):
            cidr = ftype == IP and "/" in value
            out.append(_match(value, mods | {"cidr"} if cidr else mods, ftype, key))
    return out or [Match("never", None)]


def lowercased_fields() -> frozenset[str]:
    """Fields the index templates map with the lowercase normalizer: OpenSearch cannot match them by case."""
    from provisioner.opensearch.templates import lowercased_fields as from_templates

    return from_templates()


def parse_check(raw_key: str, values: Any, source: str, key: str, placeholders: Placeholders) -> Check:
    name, *mods = str(raw_key).split("|")
    unknown = [m for m in mods if m not in MODIFIERS]
    if unknown:
        raise RuleError(key, f"unknown modifier {unknown[0]!r} (known: {', '.join(sorted(MODIFIERS))})")
    field = map_field(name, source)
    ftype = field_type(field)
    if ftype is None:
        raise RuleError(key, f"field {name!r} is not indexed by the {source} normaliser")
    if ftype == TEXT:
        raise RuleError(key, f"field {name!r} is analysed text in the index: a rule cannot match it exactly")
    mod_set = set(mods)
    if "cased" in mod_set and field in lowercased_fields():
        raise RuleError(key, "|cased cannot be evaluated: the index template lowercases this field (normalizer)")
    items = values if isinstance(values, list) else [values]
    if not items:
        raise RuleError(key, "empty value list")
    if "expand" in mod_set:
        matches = tuple(_expand(items, mod_set - {"expand"}, ftype, placeholders, key))
    else:
        matches = tuple(_match(v, mod_set, ftype, key, is_flat(field)) for v in items)
    return Check(field, ftype, matches, "all" in mod_set)


def parse_selection(value: Any, source: str, key: str, placeholders: Placeholders) -> Selection:
    if isinstance(value, dict):
        if not value:
            raise RuleError(key, "empty selection")
        return (tuple(parse_check(k, v, source, f"{key}.{k}", placeholders) for k, v in value.items()),)
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return tuple(parse_selection(v, source, f"{key}[{i}]", placeholders)[0] for i, v in enumerate(value))
    raise RuleError(key, "a selection must be a map of fields or a list of maps (keyword searches are not supported)")


# ---------------------------------------------------------------- condition

_TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z0-9_*.\-]+)")


def _tokens(text: str, key: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        found = _TOKEN.match(text, pos)
        if not found:
            raise RuleError(key, f"unexpected character {text[pos:].strip()[:1]!r} in condition")
        out.append(found.group(1))
        pos = found.end()
    return out


class _ConditionParser:
    def __init__(self, text: str, names: list[str], key: str) -> None:
        self.tokens = _tokens(text, key)
        self.pos = 0
        self.names = names
        self.key = key

    def parse(self) -> Node:
        node = self._or()
        if self.pos != len(self.tokens):
            raise RuleError(self.key, f"unexpected {self.tokens[self.pos]!r} in condition")
        return node

    def _peek(self) -> str | None:
        return self.tokens[self.pos].lower() if self.pos < len(self.tokens) else None

    def _next(self) -> str:
        if self.pos >= len(self.tokens):
            raise RuleError(self.key, "condition ends too early")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def _or(self) -> Node:
        parts = [self._and()]
        while self._peek() == "or":
            self._next()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else Node("or", children=tuple(parts))

    def _and(self) -> Node:
        parts = [self._not()]
        while self._peek() == "and":
            self._next()
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else Node("and", children=tuple(parts))

    def _not(self) -> Node:
        if self._peek() == "not":
            self._next()
            return Node("not", children=(self._not(),))
        return self._atom()

    def _atom(self) -> Node:
        token = self._next()
        if token == "(":
            node = self._or()
            if self._next() != ")":
                raise RuleError(self.key, "missing ')' in condition")
            return node
        if token.lower() in ("1", "all") and self._peek() == "of":
            self._next()
            return self._quantifier(token.lower(), self._next())
        if token not in self.names:
            raise RuleError(self.key, f"unknown selection {token!r} in condition")
        return Node("sel", token)

    def _quantifier(self, how: str, pattern: str) -> Node:
        if pattern == "them":
            chosen = [n for n in self.names if not n.startswith("_")]
        else:
            chosen = [n for n in self.names if fnmatch.fnmatchcase(n, pattern)]
        if not chosen:
            raise RuleError(self.key, f"{how} of {pattern}: no selection matches")
        nodes = tuple(Node("sel", n) for n in chosen)
        if len(nodes) == 1:
            return nodes[0]
        return Node("or" if how == "1" else "and", children=nodes)


def parse_condition(text: Any, names: list[str], key: str) -> Node:
    if isinstance(text, list):
        if len(text) != 1:
            raise RuleError(key, "one condition per rule (a list of conditions is not supported)")
        text = text[0]
    if not isinstance(text, str) or not text.strip():
        raise RuleError(key, "missing condition")
    return _ConditionParser(text, names, key).parse()

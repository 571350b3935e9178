"""Read-and-compare: does what OpenSearch returns still hold what the content asks for?

OpenSearch echoes objects back with more than was sent (ids, timestamps, `boost`, `adjust_pure_negative`,
`reserved`, an action's `throttle_enabled`...), with settings as strings and with some query shorthands
expanded (`{"term": {"f": "x"}}` -> `{"term": {"f": {"value": "x", "boost": 1.0}}}`, a range's
`gte`/`lte` -> `from`/`to`/`include_lower`/`include_upper`). So the comparison is "the desired body is
contained in the actual one" with those expansions understood; a list must have the same length and match
item by item (a trigger or role added by hand is a difference, a key added by OpenSearch is not). JSON kept
inside strings (Dashboards' visState, panelsJSON) is compared as JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

_BINDING = re.compile(r"^\$\{([a-z_]+)\}$")
_RANGE_KEYS = {"gte": ("from", True), "gt": ("from", False), "lte": ("to", True), "lt": ("to", False)}
_INCLUDE = {"from": "include_lower", "to": "include_upper"}


def resolve(value: Any, bindings: dict[str, Any]) -> Any:
    """Replace `"${name}"` strings with the binding's value; a list binding inside a list is spliced in."""
    if isinstance(value, dict):
        return {k: resolve(v, bindings) for k, v in value.items()}
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            resolved = resolve(item, bindings)
            if isinstance(item, str) and _BINDING.match(item) and isinstance(resolved, list):
                out.extend(resolved)
            else:
                out.append(resolved)
        return out
    if isinstance(value, str):
        match = _BINDING.match(value)
        if match:
            if match.group(1) not in bindings:
                raise KeyError(f"content refers to ${{{match.group(1)}}}, which no binding provides")
            return bindings[match.group(1)]
    return value


def _scalar_equal(want: Any, have: Any) -> bool:
    if isinstance(want, bool) or isinstance(have, bool):
        return str(want).lower() == str(have).lower()
    if isinstance(want, int | float) and isinstance(have, int | float):
        return float(want) == float(have)
    if isinstance(want, int | float | str) and isinstance(have, int | float | str):
        return str(want) == str(have)  # settings come back as strings: "1" for 1
    return bool(want == have)


def _expand_range(want: dict[str, Any], have: dict[str, Any]) -> dict[str, Any]:
    """A desired range body in the form OpenSearch echoes (`from`/`to`), when the actual one uses it."""
    if not ({"from", "to"} & have.keys()) or not (_RANGE_KEYS.keys() & want.keys()):
        return want
    out = {k: v for k, v in want.items() if k not in _RANGE_KEYS}
    for key, (bound, inclusive) in _RANGE_KEYS.items():
        if key in want:
            out[bound] = want[key]
            out[_INCLUDE[bound]] = inclusive
    return out


def differences(want: Any, have: Any, path: str = "") -> list[str]:
    """Paths (`a.b[2].c: reason`) where `have` does not hold `want`; empty when it does."""
    if isinstance(want, dict):
        return _dict_differences(want, have, path)
    if isinstance(want, list):
        return _list_differences(want, have, path)
    return _value_differences(want, have, path)


def _dict_differences(want: dict[str, Any], have: Any, path: str) -> list[str]:
    if not isinstance(have, dict):
        return [f"{path or '(root)'}: expected an object, found {_short(have)}"]
    want = _expand_range(want, have)
    found: list[str] = []
    for key, value in want.items():
        sub = f"{path}.{key}" if path else key
        if key not in have:
            if value not in (None, "", [], {}):
                found.append(f"{sub}: missing")
            continue
        found.extend(differences(value, have[key], sub))
    return found


def _list_differences(want: list[Any], have: Any, path: str) -> list[str]:
    if not isinstance(have, list) or len(have) != len(want):
        return [f"{path or '(root)'}: expected {_short(want)}, found {_short(have)}"]
    return [d for i, (w, h) in enumerate(zip(want, have, strict=True)) for d in differences(w, h, f"{path}[{i}]")]


def _value_differences(want: Any, have: Any, path: str) -> list[str]:
    """A scalar `want`: compared as JSON when both are JSON text, through a query shorthand, else as a value."""
    if isinstance(want, str) and isinstance(have, str) and want != have:
        # Dashboards keeps JSON inside strings (visState, panelsJSON) and may migrate them on save.
        parsed = _json_text(want), _json_text(have)
        if parsed[0] is not None and parsed[1] is not None:
            return differences(parsed[0], parsed[1], path)
    if isinstance(have, dict):
        # Query shorthand expanded by OpenSearch: {"term": {"f": "x"}} comes back as {"f": {"value": "x"}}.
        for key in ("value", "query"):
            if key in have:
                return differences(want, have[key], path)
    if _scalar_equal(want, have):
        return []
    return [f"{path or '(root)'}: expected {_short(want)}, found {_short(have)}"]


def _json_text(text: str) -> Any:
    if not text.startswith(("{", "[")):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 300 else text[:297] + "..."

"""Composable index templates, one per index family the normalisers write (`logs-<source>-YYYY.MM.DD`).

The field mappings come from the one field schema, `provisioner/rules/schema.py` (the rule validator's field types
are built from it too; why each mapping looks as it does is said there). Here:
- `date_detection` is off: a string that looks like a date in one event and not in the next must not turn a
  field into a date and get the second event rejected.
"""

from __future__ import annotations

import functools
from typing import Any

from provisioner.rules.schema import COMMON, FAMILIES, KEYWORD, NORMALIZER

PRIORITY = 200  # above the hand-applied `logs-security` template (priority 100) of earlier releases


def _nest(flat: dict[str, dict[str, Any]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(flat):
        node = root
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {"properties": {}})["properties"]
        node[leaf] = dict(flat[path])
    return root


@functools.cache
def lowercased_fields() -> frozenset[str]:
    """Every field path mapped with the lowercase normalizer, in any family."""
    mappings = [COMMON, *FAMILIES.values()]
    return frozenset(path for m in mappings for path, spec in m.items() if spec.get("normalizer") == NORMALIZER)


def template_name(prefix: str, family: str) -> str:
    return f"{prefix}-{family}"


def index_template(prefix: str, family: str) -> dict[str, Any]:
    """The `PUT _index_template/<prefix>-<family>` body."""
    return {
        "index_patterns": [f"{prefix}-{family}-*"],
        "priority": PRIORITY,
        "_meta": {"managed_by": "provision", "family": family},
        "template": {
            "settings": {
                "index": {
                    "number_of_shards": 1,
                    "mapping": {"total_fields": {"limit": 2000}},
                    "analysis": {"normalizer": {NORMALIZER: {"type": "custom", "filter": ["lowercase"]}}},
                }
            },
            "mappings": {
                "date_detection": False,
                "dynamic_templates": [
                    {"strings_as_keywords": {"match_mapping_type": "string", "mapping": dict(KEYWORD)}},
                ],
                "properties": _nest({**COMMON, **FAMILIES[family]}),
            },
        },
    }

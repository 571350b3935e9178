"""Validate request bodies against the OpenSearch API specification's request-body schemas (bundled offline).

Two things beyond a plain JSON Schema run:
- OpenAPI `discriminator` on a `oneOf` (mapping property types, keyed by `type`) selects the one branch to check;
  trying all ~40 branches of every nested mapping property is exponential.
- Strict mode: a key the specification does not define is an error (`unevaluatedProperties: false` on every named
  object type that is not only a building block of another), so a misspelt setting cannot pass.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

BUNDLE = Path(__file__).resolve().parents[1] / "data" / "opensearch-api-spec" / "bodies.json"


def _type_enum(defs: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    if "$ref" in schema:
        return _type_enum(defs, defs[schema["$ref"].rsplit("/", 1)[-1]])
    enum = ((schema.get("properties") or {}).get("type") or {}).get("enum")
    if enum:
        return list(enum)
    return [v for part in schema.get("allOf", []) for v in _type_enum(defs, part)]


def _building_blocks(node: Any, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for part in node.get("allOf", []):
            if isinstance(part, dict) and "$ref" in part:
                found.add(part["$ref"].rsplit("/", 1)[-1])
        for value in node.values():
            _building_blocks(value, found)
    elif isinstance(node, list):
        for value in node:
            _building_blocks(value, found)
    return found


@cache
def bundle() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(BUNDLE.read_text(encoding="utf-8"))
    defs = data["$defs"]
    blocks = _building_blocks(data, set())
    for name, schema in defs.items():
        objectish = schema.get("type") == "object" or "allOf" in schema or "properties" in schema
        open_ = {"additionalProperties", "patternProperties", "oneOf", "anyOf"} & schema.keys()
        if name not in blocks and objectish and not open_:
            schema["unevaluatedProperties"] = False
    return data


def _discriminated_one_of(validator: Any, one_of: list[Any], instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    discriminator = schema.get("discriminator")
    if not discriminator or not isinstance(instance, dict):
        yield from _ONE_OF(validator, one_of, instance, schema)
        return
    value = instance.get(discriminator["propertyName"], discriminator.get("x-default"))
    defs = bundle()["$defs"]
    branches = [b for b in one_of if value in _type_enum(defs, b)]
    if len(branches) != 1:
        yield ValidationError(f"{discriminator['propertyName']} {value!r} is not one of the specification's types")
        return
    yield from validator.descend(instance, branches[0])


_ONE_OF = Draft202012Validator.VALIDATORS["oneOf"]
_Validator = validators.extend(Draft202012Validator, {"oneOf": _discriminated_one_of})


def errors(operation: str, body: Any) -> list[str]:
    """Messages (with the JSON path) for every way `body` breaks the operation's request-body schema."""
    data = bundle()
    schema = {"$defs": data["$defs"], **copy.deepcopy(data["operations"][operation])}
    found = _Validator(schema).iter_errors(body)
    return sorted(f"{e.json_path}: {e.message[:300]}" for e in found)

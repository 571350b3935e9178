"""README sections generated from the code: the JSON shapes from the committed JSON Schemas.

`python scripts/docs.py` rewrites the blocks between `<!-- generated: NAME -->` and `<!-- end: NAME -->`;
`tests/test_docs.py` fails when the README and the schemas (or the CLI) disagree.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "provisioner" / "schema"
README = ROOT / "README.md"
SHAPES = {"drift-json": "drift-report", "plan-json": "plan-summary"}


def _shape(node: dict[str, Any]) -> str:
    if "$ref" in node:
        return str(node["$ref"]).rsplit("/", 1)[1]
    if "oneOf" in node:
        return " | ".join(_shape(option) for option in node["oneOf"])
    if "enum" in node and all(isinstance(v, str) for v in node["enum"]):
        return "|".join(node["enum"])
    kind = node.get("type")
    if kind == "null":
        return "null"
    if kind == "array":
        return f"[{_shape(node.get('items', {}))}]"
    if kind == "object" and "properties" in node:
        return "{" + ", ".join(_field(name, sub) for name, sub in node["properties"].items()) + "}"
    return "str" if kind == "string" else ""


def _field(name: str, node: dict[str, Any]) -> str:
    shown = _shape(node)
    plain = not shown or (shown == "str" and node.get("type") != "array")
    return name if plain else f"{name}: {shown}"


def outline(schema: dict[str, Any]) -> str:
    """A compact, human-readable outline of a JSON Schema: the top object, then each definition."""
    lines = [_shape(schema)] + [f"{name} = {_shape(sub)}" for name, sub in schema.get("$defs", {}).items()]
    wrapped = [textwrap.fill(line, 116, subsequent_indent="  ", break_long_words=False) for line in lines]
    return "\n".join(wrapped)


def schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    return data


def block(name: str) -> str:
    return f"<!-- generated: {name} -->\n```\n{outline(schema(SHAPES[name]))}\n```\n<!-- end: {name} -->"


def regenerate(text: str) -> str:
    for name in SHAPES:
        pattern = re.compile(rf"<!-- generated: {name} -->.*?<!-- end: {name} -->", re.S)
        text = pattern.sub(block(name).replace("\\", "\\\\"), text)
    return text


if __name__ == "__main__":
    current = README.read_text(encoding="utf-8")
    updated = regenerate(current)
    if updated != current:
        README.write_text(updated, encoding="utf-8")
        print("README.md updated")
    sys.exit(0)

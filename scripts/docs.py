"""README sections generated from the code: the JSON shapes from the committed JSON Schemas, and each module's
Inputs/Outputs tables from its `variables.tf`/`outputs.tf` (as terraform-docs does for registry modules).

`python scripts/docs.py` (`make docs`) rewrites the blocks between `<!-- generated: NAME -->` and
`<!-- end: NAME -->`; `tests/test_docs.py` fails when a README and the code disagree.
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


def _hcl_blocks(module_dir: Path, filename: str, kind: str) -> dict[str, dict[str, Any]]:
    import hcl2
    from hcl2 import SerializationOptions

    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    path = module_dir / filename
    if not path.exists():
        return {}
    doc = hcl2.loads(path.read_text(encoding="utf-8"), serialization_options=options)
    return {name: body for block in doc.get(kind, []) for name, body in block.items()}


def _expr(value: Any, *, literal: bool = True) -> str:
    """A default (`literal`: strings quoted) or a type expression as inline code."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        text = value[2:-1]
    elif isinstance(value, str) and literal and value != "null":
        text = json.dumps(value)
    return "`" + text.replace("|", "\\|").replace("\n", " ") + "`"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def module_tables(module_dir: Path) -> str:
    """Markdown Inputs and Outputs tables of one module, in declaration order."""
    lines = ["### Inputs", "", "| name | description | type | default |", "|---|---|---|---|"]
    for name, body in _hcl_blocks(module_dir, "variables.tf", "variable").items():
        default = _expr(body["default"]) if "default" in body else "required"
        kind = _expr(body.get("type", "any"), literal=False)
        lines.append(f"| `{name}` | {_cell(body.get('description', ''))} | {kind} | {default} |")
    lines += ["", "### Outputs", "", "| name | description |", "|---|---|"]
    for name, body in _hcl_blocks(module_dir, "outputs.tf", "output").items():
        lines.append(f"| `{name}` | {_cell(body.get('description', ''))} |")
    return "\n".join(lines)


def module_block(module_dir: Path) -> str:
    return f"<!-- generated: interface -->\n{module_tables(module_dir)}\n<!-- end: interface -->"


def regenerate_module_readme(module_dir: Path) -> bool:
    readme = module_dir / "README.md"
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(r"<!-- generated: interface -->.*?<!-- end: interface -->", re.S)
    updated = pattern.sub(module_block(module_dir).replace("\\", "\\\\"), text)
    if "<!-- generated: interface -->" not in text:
        updated = text.rstrip("\n") + "\n\n## Interface\n\n" + module_block(module_dir) + "\n"
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
    return updated != text


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
    for module in sorted(p for p in (ROOT / "modules").iterdir() if (p / "variables.tf").exists()):
        if regenerate_module_readme(module):
            print(f"{module.relative_to(ROOT)}/README.md updated")
    sys.exit(0)

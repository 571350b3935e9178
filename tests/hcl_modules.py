"""The one HCL loader for the module property tests: every module's top-level blocks, parsed by python-hcl2."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

REPO = Path(__file__).resolve().parent.parent
MODULES = REPO / "modules"
OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
Block = dict[str, Any]


def module_names() -> list[str]:
    return sorted(p.name for p in MODULES.iterdir() if p.is_dir() and any(p.glob("*.tf")))


class Module:
    """One module directory (not its children): blocks merged by kind, type and name.

    `module["resource"]["aws_s3_bucket"]["this"]` and `module.resources[("aws_s3_bucket", "this")]` are the
    same body."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.path = MODULES / name
        self.blocks: dict[str, Any] = {"resource": {}, "data": {}, "variable": {}, "output": {}, "module": {}}
        self.blocks.update({"locals": {}, "terraform": []})
        for tf in sorted(self.path.glob("*.tf")):
            self._merge(hcl2.loads(tf.read_text(encoding="utf-8"), serialization_options=OPTIONS))

    def _merge(self, doc: dict[str, Any]) -> None:
        for kind in ("resource", "data"):
            for entry in doc.get(kind, []):
                for type_name, named in entry.items():
                    self.blocks[kind].setdefault(type_name, {}).update(named)
        for kind in ("variable", "output", "module", "locals"):
            for entry in doc.get(kind, []):
                self.blocks[kind].update(entry)
        self.blocks["terraform"].extend(doc.get("terraform", []))

    def __getitem__(self, kind: str) -> Any:
        return self.blocks[kind]

    def _flat(self, kind: str) -> dict[tuple[str, str], Block]:
        return {(t, n): body for t, named in self.blocks[kind].items() for n, body in named.items()}

    @property
    def resources(self) -> dict[tuple[str, str], Block]:
        return self._flat("resource")

    @property
    def data(self) -> dict[tuple[str, str], Block]:
        return self._flat("data")

    @property
    def variables(self) -> dict[str, Block]:
        found: dict[str, Block] = self.blocks["variable"]
        return found

    @property
    def outputs(self) -> dict[str, Block]:
        found: dict[str, Block] = self.blocks["output"]
        return found

    @property
    def modules(self) -> dict[str, Block]:
        found: dict[str, Block] = self.blocks["module"]
        return found

    @property
    def locals(self) -> dict[str, Any]:
        found: dict[str, Any] = self.blocks["locals"]
        return found

    @property
    def terraform(self) -> list[Block]:
        found: list[Block] = self.blocks["terraform"]
        return found

    def of_type(self, rtype: str) -> list[Block]:
        return list(self.blocks["resource"].get(rtype, {}).values())

    def text(self) -> str:
        return "\n".join(tf.read_text(encoding="utf-8") for tf in sorted(self.path.glob("*.tf")))


@cache
def module(name: str) -> Module:
    return Module(name)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def policy_statements(doc: Block) -> Iterator[Block]:
    """Static and dynamic `statement` blocks of one aws_iam_policy_document."""
    yield from as_list(doc.get("statement"))
    for dyn in as_list(doc.get("dynamic")):
        yield from as_list(dyn.get("statement", {}).get("content"))

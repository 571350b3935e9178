"""The committed hashicorp/aws provider schemas (6.25.0 from the cdktf assembly, 5.100.0 from the real provider)
in their compact form, and Terraform version-constraint matching."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provisioner.errors import ProvisionError

SCHEMA_FILE = Path(__file__).resolve().parent / "schema" / "aws.json"
# The other provider version the modules are proven against (the emulator's, scripts/build_aws_schema_tf.py).
SECOND_SCHEMA_FILE = Path(__file__).resolve().parent / "schema" / "aws-5.100.0.json"


@dataclass(frozen=True)
class BlockSchema:
    """Arguments and nested blocks of one resource, data source or nested block."""

    attributes: frozenset[str]
    required: frozenset[str]  # required arguments and blocks with min items >= 1
    computed: frozenset[str]  # set by the provider only; writing them is an error
    blocks: Mapping[str, int]  # nested block -> schema index; -1 when the assembly left it untyped


@dataclass
class ProviderSchema:
    """The compact schema of one provider version (see scripts/build_aws_schema.py for the format)."""

    source: str
    version: str
    assembly: Mapping[str, str]
    resources: Mapping[str, int]
    data_sources: Mapping[str, int]
    _blocks: list[dict[str, Any]]
    _cache: dict[int, BlockSchema] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ProviderSchema:
        return cls(
            source=doc["provider"]["source"],
            version=doc["provider"]["version"],
            assembly=doc["assembly"],
            resources=doc["resources"],
            data_sources=doc["data"],
            _blocks=doc["blocks"],
        )

    def block(self, index: int) -> BlockSchema:
        cached = self._cache.get(index)
        if cached is None:
            raw = self._blocks[index]
            cached = BlockSchema(
                attributes=frozenset(raw.get("a", ())),
                required=frozenset(raw.get("q", ())),
                computed=frozenset(raw.get("c", ())),
                blocks=raw.get("b", {}),
            )
            self._cache[index] = cached
        return cached

    def resource(self, type_name: str) -> BlockSchema | None:
        index = self.resources.get(type_name)
        return None if index is None else self.block(index)

    def data_source(self, type_name: str) -> BlockSchema | None:
        index = self.data_sources.get(type_name)
        return None if index is None else self.block(index)


@functools.cache
def load_provider_schema(path: Path = SCHEMA_FILE) -> ProviderSchema:
    """A committed hashicorp/aws schema, 6.25.0 by default (read once per process)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return ProviderSchema.from_json(doc)
    except (OSError, ValueError, KeyError) as exc:
        script = "build_aws_schema_tf.py" if path == SECOND_SCHEMA_FILE else "build_aws_schema.py"
        raise ProvisionError(
            f"cannot read the provider schema {path}: {exc}", hint=f"rebuild it with `python scripts/{script}`"
        ) from exc


_CONSTRAINT = re.compile(r"^\s*(=|!=|>=|<=|>|<|~>)?\s*v?(\d+(?:\.\d+){0,2})(?:-[\w.]+)?\s*$")


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = tuple(int(p) for p in text.split("."))
    return parts + (0,) * (3 - len(parts))


def constraint_allows(constraint: str, version: str) -> bool:
    """Terraform's version-constraint syntax (`>= 6.0, < 7.0`, `~> 6.2`); ValueError when unreadable."""
    have = _version_tuple(version)
    for clause in constraint.split(","):
        m = _CONSTRAINT.match(clause)
        if not m:
            raise ValueError(f"unreadable version constraint {clause.strip()!r}")
        op, raw = m.group(1) or "=", m.group(2)
        want = _version_tuple(raw)
        if op == "~>":
            segments = [int(p) for p in raw.split(".")]
            upper = (segments[0] + 1,) if len(segments) == 1 else (*segments[:-2], segments[-2] + 1)
            ok = want <= have < _version_tuple(".".join(str(s) for s in upper))
        else:
            ok = {
                "=": have == want,
                "!=": have != want,
                ">": have > want,
                ">=": have >= want,
                "<": have < want,
                "<=": have <= want,
            }[op]
        if not ok:
            return False
    return True


# --- checking ------------------------------------------------------------------------------------------

"""The spec files on disk: reading a YAML layer with precise errors, merging layers, and telling which file a
key path came from (so every error names the file that holds the mistake)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from provisioner.errors import SpecError

__all__ = ["deep_merge", "key_path", "origin", "read_yaml"]


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else (lists included) in `override` replaces `base`."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_yaml(path: Path, shown: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(shown, "", f"cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "?"
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SpecError(shown, where, f"malformed YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SpecError(shown, "", f"expected a mapping at the top level, found {type(data).__name__}")
    for key in data:
        if not isinstance(key, str):
            raise SpecError(shown, str(key), "keys must be strings")
    return data


def key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def has_path(data: Any, key: str) -> bool:
    node = data
    for part in (p.rstrip("]") for p in re.split(r"\.|\[", key) if p):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def origin(key: str, sources: tuple[tuple[str, dict[str, Any]], ...]) -> str:
    """The file a key path came from: the environment file wins where it sets the key; first file otherwise."""
    for shown, data in sources:
        if has_path(data, key):
            return shown
    # A missing key belongs to the deepest file that has its parent; default to the environment file.
    parent = key.rsplit(".", 1)[0] if "." in key else ""
    for shown, data in sources:
        if parent and has_path(data, parent):
            return shown
    return sources[0][0]

"""The spec files on disk: reading a YAML layer safely with precise errors, merging layers, and telling which
file a key path came from (so every error names the file that holds the mistake).

A spec is untrusted input. The reader refuses what YAML allows but a spec never needs: anything that is not a
regular file (a FIFO would block, /dev/zero never ends), more than `MAX_SPEC_BYTES`, nesting deeper than
`MAX_DEPTH`, aliases that expand past `MAX_EXPANDED` (a 600-byte "billion laughs" document), duplicate keys
(the last one silently won), non-string keys, dates and `!!binary` (never a spec value; `branch: 2024-01-01`
is a date), non-finite or out-of-range numbers, and tags beyond YAML's core types. Every refusal is a
`SpecError` naming the file, the key path and the line.
"""

from __future__ import annotations

import math
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.composer import ComposerError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from provisioner.errors import SpecError

if TYPE_CHECKING:
    from provisioner.project import Project

__all__ = ["Sources", "deep_merge", "key_path", "origin", "read_layers", "read_yaml", "shown_key"]

# The largest spec in the repository is ~9 KB and 6 levels deep: generous caps that still bound the work.
MAX_SPEC_BYTES = 256 * 1024
MAX_DEPTH = 32
# Nodes plus scalar characters after alias expansion: what the merged spec and its tfvars can grow to.
MAX_EXPANDED = 1_000_000
MAX_INT = 2**63  # Terraform numbers are arbitrary precision; a spec never needs more than 64 bits

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null")}
_REFUSED_SCALARS = {
    f"{_TAG}timestamp": "YAML reads {value} as a date: quote it ({quoted}) where a string is meant",
    f"{_TAG}binary": "!!binary values are not accepted in a spec: write the text itself",
}
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")

Sources = tuple[tuple[str, dict[str, Any]], ...]  # (shown file, its data): the environment's file first


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else (lists included) in `override` replaces `base`."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_text(path: Path, shown: str) -> str:
    """The file's text; O_NONBLOCK so a FIFO cannot block the open, fstat so only a regular file is read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise SpecError(shown, "", f"cannot read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SpecError(shown, "", "not a regular file (a spec must be a plain YAML file)")
        if info.st_size > MAX_SPEC_BYTES:
            raise SpecError(shown, "", f"{info.st_size} bytes: a spec is at most {MAX_SPEC_BYTES} bytes")
        data = os.read(fd, MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise SpecError(shown, "", f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_SPEC_BYTES:  # grew after fstat
        raise SpecError(shown, "", f"a spec is at most {MAX_SPEC_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(shown, "", f"not UTF-8 text (byte {exc.start}): a binary file?") from None


class _SpecLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a depth limit (its composer recurses once per level)."""

    depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:  # type: ignore[override]
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth -= 1


class _NodeCheck:
    """One walk over the composed node graph before anything is constructed. Aliases are shared nodes, so each
    node's expanded size and height are memoised: a billion-laughs document costs one pass over its few nodes."""

    def __init__(self, loader: _SpecLoader, shown: str) -> None:
        self.loader = loader
        self.shown = shown
        self.memo: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, expanded height)
        self.active: set[int] = set()

    def fail(self, path: str, node: Node, reason: str) -> SpecError:
        return SpecError(self.shown, path or f"line {_line(node)}", reason)

    def measure(self, node: Node, path: str) -> tuple[int, int]:
        key = id(node)
        if key in self.memo:
            return self.memo[key]
        if key in self.active:
            raise self.fail(path, node, "an alias refers to a node that contains it (a recursive document)")
        self.active.add(key)
        if isinstance(node, ScalarNode):
            self.scalar(node, path)
            parts = [(len(node.value), 0)]
        elif isinstance(node, SequenceNode):
            self.tag(node, f"{_TAG}seq", path)
            parts = [self.measure(item, f"{path}[{i}]") for i, item in enumerate(node.value)]
        else:
            assert isinstance(node, MappingNode)  # the composer makes only these three kinds
            parts = self.mapping(node, path)
        self.active.discard(key)
        size, height = 1 + sum(s for s, _ in parts), 1 + max((h for _, h in parts), default=0)
        if size > MAX_EXPANDED:
            raise self.fail(path, node, f"expands to more than {MAX_EXPANDED} nodes and characters (YAML aliases?)")
        if height > MAX_DEPTH:
            raise self.fail(path, node, f"nested deeper than {MAX_DEPTH} levels once aliases are expanded")
        self.memo[key] = (size, height)
        return size, height

    def tag(self, node: Node, expected: str, path: str) -> None:
        if node.tag != expected:
            raise self.fail(path, node, f"YAML tag {node.tag!r} is not accepted in a spec (line {_line(node)})")

    def mapping(self, node: MappingNode, path: str) -> list[tuple[int, int]]:
        self.tag(node, f"{_TAG}map", path)
        seen: dict[str, int] = {}
        parts = []
        for key_node, value_node in node.value:
            if key_node.tag == f"{_TAG}merge":  # `<<: *anchor`: keys written explicitly override merged ones
                parts.append(self.measure(value_node, path))
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != f"{_TAG}str":
                what = "a collection" if not isinstance(key_node, ScalarNode) else key_node.tag.removeprefix(_TAG)
                raise self.fail(path, key_node, f"key {_quoted(key_node)} is read by YAML as {what}: quote it")
            name = key_node.value
            child = f"{path}.{shown_key(name)}" if path else shown_key(name)
            if name in seen:
                raise self.fail(child, key_node, f"duplicate key (lines {seen[name]} and {_line(key_node)})")
            seen[name] = _line(key_node)
            parts += [(len(name), 0), self.measure(value_node, child)]
        return parts

    def scalar(self, node: ScalarNode, path: str) -> None:
        template = _REFUSED_SCALARS.get(node.tag)
        if template:
            reason = template.format(value=node.value, quoted=f'"{node.value}"')
            raise self.fail(path, node, f"{reason} (line {_line(node)})")
        if node.tag not in _SCALAR_TAGS:
            self.tag(node, f"{_TAG}str", path)
        try:
            value = self.loader.construct_object(node)
        except (ValueError, KeyError, IndexError):  # `!!int abc`, `!!bool maybe`, `!!int ""`, 5000-digit ints
            raise self.fail(path, node, f"{_quoted(node)} is not a valid {node.tag.removeprefix(_TAG)}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(path, node, f"{node.value} is not a finite number (line {_line(node)})")
        if isinstance(value, int) and not -MAX_INT < value < MAX_INT:
            raise self.fail(path, node, f"number out of range (at most 64 bits; line {_line(node)})")


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _quoted(node: Node) -> str:
    value = node.value if isinstance(node, ScalarNode) else "..."
    return repr(value if len(value) <= 40 else value[:40] + "...")


def read_yaml(path: Path, shown: str) -> dict[str, Any]:
    text = _read_text(path, shown)
    loader = None
    try:
        loader = _SpecLoader(text)  # the reader checks the whole text for unacceptable characters here
        node = loader.get_single_node()
        if node is None:
            return {}
        _NodeCheck(loader, shown).measure(node, "")
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}" if mark else ""
        raise SpecError(shown, where, f"malformed YAML: {exc.problem or 'invalid YAML'}") from None
    except yaml.YAMLError as exc:  # the reader's errors: control characters, invalid code points
        raise SpecError(shown, "", f"not a YAML text file: {str(exc).splitlines()[0]}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SpecError(shown, "", f"expected a mapping at the top level, found {type(data).__name__}")
    return data


def shown_key(part: str) -> str:
    """A key as it may appear in a key path: plain keys as they are, anything else quoted and cut to 60
    characters (one short line, no terminal control characters, no dots that would read as nesting)."""
    if _PLAIN_KEY.fullmatch(part) and len(part) <= 64:
        return part
    return repr(part[:60]) + ("..." if len(part) > 60 else "")


def read_layers(project: Project, name: str) -> Sources:
    """Both layers of an environment, read safely: (shown file, data) for its own file, then _defaults.yaml."""
    env_path = project.environment_file(name)
    defaults_path = project.defaults_file
    # Shown names are built, not resolved: resolving a symlink loop raises instead of reporting it.
    shown_dir = project.relative(project.environments_dir)
    shown_env, shown_defaults = f"{shown_dir}/{env_path.name}", f"{shown_dir}/{defaults_path.name}"
    # lexists: a dangling or looping _defaults.yaml symlink is reported, not silently skipped.
    defaults = read_yaml(defaults_path, shown_defaults) if os.path.lexists(defaults_path) else {}
    env_data = read_yaml(env_path, shown_env)
    for reserved in ("name", "instance", "created_at", "expires_at"):
        if reserved in env_data or reserved in defaults:
            where = shown_env if reserved in env_data else shown_defaults
            raise SpecError(where, reserved, "is set by provision and cannot be written in a spec")
    return (shown_env, env_data), (shown_defaults, defaults)


def key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{shown_key(part)}" if out else shown_key(part)
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


def origin(key: str, sources: Sources) -> str:
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

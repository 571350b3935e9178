"""Offline validation of Terraform files against the pinned hashicorp/aws provider schema.

No `terraform init` and no provider download: every .tf file is parsed with python-hcl2 (its raw Lark tree,
which keeps line numbers for every block and argument), and every `resource`/`data` block of an `aws_*`
type is checked against `schema/aws.json` (built by `scripts/build_aws_schema.py` from the cdktf provider
assembly). Problems are collected, not raised: callers get every `Diagnostic` at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import hcl2
from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from provisioner.errors import InputError
from provisioner.primitives import did_you_mean
from provisioner.provider_schema import (
    SECOND_SCHEMA_FILE,
    BlockSchema,
    ProviderSchema,
    constraint_allows,
    load_provider_schema,
)

CHECKED_PREFIX = "aws_"
AWS_SOURCES = frozenset({"hashicorp/aws", "registry.terraform.io/hashicorp/aws"})

# Terraform's own arguments and blocks, allowed beside the provider schema in a resource/data block's body.
_META_ARGS = frozenset({"count", "for_each", "provider", "depends_on"})
_RESOURCE_META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection"})
_DATA_META_BLOCKS = frozenset({"lifecycle"})
_DYNAMIC_ARGS = frozenset({"for_each", "iterator", "labels"})

_TERMINALS = {
    "RBRACE": '"}"',
    "LBRACE": '"{"',
    "RSQB": '"]"',
    "RPAR": '")"',
    "EQ": '"="',
    "COMMA": '","',
    "DBLQUOTE": "a closing quote",
    "NAME": "a name",
}


# Provider attributes in "attributes as blocks" mode: the schema says attribute, Terraform also takes blocks.
_ATTRIBUTES_AS_BLOCKS = frozenset(
    {
        ("aws_security_group", "ingress"),
        ("aws_security_group", "egress"),
        ("aws_default_security_group", "ingress"),
        ("aws_default_security_group", "egress"),
        ("aws_network_acl", "ingress"),
        ("aws_network_acl", "egress"),
        ("aws_default_network_acl", "ingress"),
        ("aws_default_network_acl", "egress"),
        ("aws_route_table", "route"),
        ("aws_default_route_table", "route"),
    }
)


@dataclass(frozen=True)
class Diagnostic:
    file: str  # path as given (relative paths preferred by the caller)
    line: int  # 1-based; 0 when unknown
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def validate_files(
    files: Iterable[Path], *, schema: ProviderSchema | None = None, relative_to: Path | None = None
) -> list[Diagnostic]:
    """Parse every file and check its aws_* resource/data blocks; all problems, by file then line.

    Without an explicit `schema`, every block is checked against 6.25.0 and then 5.100.0: a problem only the
    second version has is reported on its own line, tagged with that version."""
    schemas = [schema] if schema else [load_provider_schema(), load_provider_schema(SECOND_SCHEMA_FILE)]
    diagnostics: list[Diagnostic] = []
    for path in files:
        display = _display(path, relative_to)
        found = _FileChecker(path, display, schemas[0]).run()
        flagged = {d.line for d in found}
        for other in schemas[1:]:
            for extra in _FileChecker(path, display, other).run():
                if extra.line not in flagged:
                    tag = f"hashicorp/aws {other.version}"
                    message = extra.message if tag in extra.message else f"{extra.message} ({tag})"
                    found.append(Diagnostic(extra.file, extra.line, message))
                    flagged.add(extra.line)
        diagnostics.extend(sorted(found, key=lambda d: d.line))
    return diagnostics


def validate_tree(root_dir: Path, modules_dir: Path, *, relative_to: Path | None = None) -> list[Diagnostic]:
    """Every *.tf in `root_dir` and under each `modules_dir/*/` (recursively), sorted."""
    if not root_dir.is_dir():
        raise InputError(f"{root_dir}: not a directory (render the environment first)")
    files = sorted(root_dir.glob("*.tf"))
    if modules_dir.is_dir():
        for module in sorted(p for p in modules_dir.iterdir() if p.is_dir()):
            files.extend(sorted(p for p in module.rglob("*.tf") if not _hidden(p.relative_to(module))))
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return validate_files(unique, relative_to=relative_to.resolve() if relative_to else None)


def _hidden(relative: Path) -> bool:
    """Inside a dot-directory such as a module's own .terraform/."""
    return any(part.startswith(".") for part in relative.parts)


def _display(path: Path, relative_to: Path | None) -> str:
    if relative_to is not None:
        try:
            return str(path.resolve().relative_to(relative_to.resolve()))
        except ValueError:
            pass
    return str(path)


# --- the Lark tree ------------------------------------------------------------------------------------


def _line(node: Tree[Token] | Token) -> int:
    if isinstance(node, Token):
        return node.line or 0
    meta = node.meta
    return int(getattr(meta, "line", 0) or 0)


def _text(node: Tree[Token] | Token) -> str:
    """An identifier's or a plain string's text (labels, argument names)."""
    if isinstance(node, Token):
        return str(node)
    if node.data == "string":
        return "".join(str(t) for t in node.scan_values(lambda v: isinstance(v, Token) and v.type != "DBLQUOTE"))
    return "".join(str(t) for t in node.scan_values(lambda v: isinstance(v, Token)))


def _body_items(body: Tree[Token]) -> Iterator[Tree[Token]]:
    for child in body.children:
        if isinstance(child, Tree) and child.data in ("attribute", "block"):
            yield child


def _attr_name(attr: Tree[Token]) -> str:
    return _text(attr.children[0])


def _block_parts(block: Tree[Token]) -> tuple[str, list[str], Tree[Token]]:
    """(type, labels, body) of a block."""
    name = _text(block.children[0])
    labels: list[str] = []
    body: Tree[Token] | None = None
    for child in block.children[1:]:
        if isinstance(child, Tree):
            if child.data == "body":
                body = child
            else:
                labels.append(_text(child))
    assert body is not None, "the HCL grammar gives every block a body"
    return name, labels, body


def _unwrap(expr: Tree[Token] | Token) -> Tree[Token] | Token:
    """Skip the `expr_term` wrappers around a single expression."""
    while isinstance(expr, Tree) and expr.data == "expr_term" and len(expr.children) == 1:
        expr = expr.children[0]
    return expr


def _plain_string(expr: Tree[Token] | Token) -> str | None:
    """The value of a literal string expression without interpolation; None otherwise."""
    node = _unwrap(expr)
    if isinstance(node, Token) or node.data != "string":
        return None
    parts = [c for c in node.children if isinstance(c, Tree)]
    if any(p.data != "string_part" for p in parts):
        return None
    return "".join(_text(p) for p in parts)


def _object_fields(expr: Tree[Token] | Token) -> dict[str, Tree[Token] | Token]:
    """The key -> value expressions of an object constructor `{ k = v }` (identifier or string keys)."""
    obj = _unwrap(expr)
    if isinstance(obj, Token) or obj.data != "object":
        return {}
    fields: dict[str, Tree[Token] | Token] = {}
    for elem in obj.children:
        if not (isinstance(elem, Tree) and elem.data == "object_elem"):
            continue
        key_node = elem.children[0]
        key = _unwrap(key_node.children[0]) if isinstance(key_node, Tree) else key_node
        if isinstance(key, Tree) and key.data == "identifier":
            fields[_text(key)] = elem.children[-1]
        elif (text := _plain_string(key)) is not None:
            fields[text] = elem.children[-1]
    return fields


def _syntax_message(exc: LarkError, source: str) -> tuple[int, str]:
    last_line = source.count("\n") + 1
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        return last_line, "syntax error: unexpected end of file (an unclosed block, bracket or string?)"
    if isinstance(exc, UnexpectedToken):
        found = str(exc.token.value).strip() or repr(str(exc.token.value))
        found = found.splitlines()[0][:30]
        expected = sorted(_TERMINALS[e] for e in exc.expected if e in _TERMINALS)
        hint = f", expected {' or '.join(expected)}" if expected and len(exc.expected) <= 3 else ""
        return exc.line, f'syntax error at column {exc.column}: unexpected "{found}"{hint}'
    if isinstance(exc, UnexpectedCharacters):
        return exc.line, f'syntax error at column {exc.column}: unexpected character "{exc.char}"'
    if isinstance(exc, UnexpectedInput):
        return max(exc.line, 0), f"syntax error: {str(exc).splitlines()[0]}"
    return 0, f"syntax error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


def _suggest(name: str, candidates: Iterable[str]) -> str:
    return did_you_mean(name, candidates, quote='"', cutoff=0.7)  # HCL's quotes; only close names


# --- version constraints --------------------------------------------------------------------------------


class _FileChecker:
    def __init__(self, path: Path, display: str, schema: ProviderSchema) -> None:
        self.path = path
        self.display = display
        self.schema = schema
        self.out: list[Diagnostic] = []

    def report(self, line: int, message: str) -> None:
        self.out.append(Diagnostic(self.display, line, message))

    def run(self) -> list[Diagnostic]:
        try:
            source = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.report(0, f"cannot read file: {exc}")
            return self.out
        try:
            tree = hcl2.parses_to_tree(source)
        except LarkError as exc:
            self.report(*_syntax_message(exc, source))
            return self.out
        except RecursionError:
            self.report(0, "syntax error: expression nested too deeply to parse")
            return self.out
        body = tree.children[0] if tree.children else None
        if not isinstance(body, Tree):
            return self.out
        for item in _body_items(body):
            if item.data != "block":
                continue
            kind, labels, block_body = _block_parts(item)
            if kind in ("resource", "data"):
                if len(labels) == 2:
                    self.check_top(item, kind, labels, block_body)
                else:
                    found = len(labels)
                    self.report(_line(item), f"{kind} block needs 2 labels (type and name), found {found}")
            elif kind == "terraform":
                self.check_pin(block_body)
        return self.out

    def check_top(self, block: Tree[Token], kind: str, labels: list[str], body: Tree[Token]) -> None:
        type_name, name = labels
        if not type_name.startswith(CHECKED_PREFIX):
            return
        is_data = kind == "data"
        address = f"{'data.' if is_data else ''}{type_name}.{name}"
        known = self.schema.data_sources if is_data else self.schema.resources
        if type_name not in known:
            what = "data source" if is_data else "resource type"
            other = self.schema.resources if is_data else self.schema.data_sources
            elsewhere = (
                f" (it is a {'resource type' if is_data else 'data source'})"
                if type_name in other
                else _suggest(type_name, known)
            )
            self.report(
                _line(block),
                f'{address}: unknown {what} "{type_name}" in hashicorp/aws {self.schema.version}{elsewhere}',
            )
            return
        meta_blocks = _DATA_META_BLOCKS if is_data else _RESOURCE_META_BLOCKS
        scope = _Scope(address, "", self.schema.block(known[type_name]), meta_blocks)
        self.check_body(body, scope, _line(block))

    def check_body(self, body: Tree[Token], scope: _Scope, header_line: int) -> None:
        """Every argument and block of one body, then the required ones that are missing."""
        seen: dict[str, int] = {}
        present: set[str] = set()
        for item in _body_items(body):
            if item.data == "attribute":
                self.check_attribute(item, scope, seen, present)
                continue
            kind, labels, block_body = _block_parts(item)
            if kind == "dynamic" and labels:
                present.add(labels[0])
                self.check_dynamic(item, labels[0], block_body, scope)
                continue
            present.add(kind)
            if scope.meta_blocks is not None and kind in scope.meta_blocks:
                continue
            self.check_nested(item, kind, labels, block_body, scope)
        if scope.top and "count" in seen and "for_each" in seen:
            self.report(seen["for_each"], f'{scope.where}"count" and "for_each" cannot both be set')
        for name in sorted(scope.schema.required - present):
            what = "block" if name in scope.schema.blocks else "argument"
            self.report(header_line, f'{scope.where}missing required {what} "{name}"')

    def check_attribute(self, item: Tree[Token], scope: _Scope, seen: dict[str, int], present: set[str]) -> None:
        line, name, schema, where = _line(item), _attr_name(item), scope.schema, scope.where
        if name in seen:
            self.report(line, f'{where}argument "{name}" was already set on line {seen[name]}')
            return
        seen[name] = line
        present.add(name)
        if name in schema.attributes or (scope.top and name in _META_ARGS):
            return
        if name in schema.blocks:
            self.report(line, f'{where}"{name}" is a block, not an argument: write {name} {{ ... }}')
        elif name in schema.computed:
            self.report(line, f'{where}"{name}" is computed by the provider and cannot be set')
        else:
            candidates = set(schema.attributes) | set(schema.blocks) | (_META_ARGS if scope.top else set())
            self.report(line, f'{where}unknown argument "{name}"{_suggest(name, candidates)}')

    def check_nested(self, item: Tree[Token], kind: str, labels: list[str], body: Tree[Token], scope: _Scope) -> None:
        line, schema, where = _line(item), scope.schema, scope.where
        if kind in schema.blocks:
            if labels:
                self.report(line, f'{where}block "{kind}" takes no labels')
            index = schema.blocks[kind]
            if index >= 0:
                self.check_body(body, scope.child(kind, self.schema.block(index)), line)
        elif kind in schema.attributes:
            if (scope.address.split(".")[0], scope.child_path(kind)) in _ATTRIBUTES_AS_BLOCKS:
                return  # Terraform accepts block syntax for these legacy attributes (attributes-as-blocks)
            self.report(line, f'{where}"{kind}" is an argument, not a block: write {kind} = ...')
        elif kind in schema.computed:
            self.report(line, f'{where}"{kind}" is computed by the provider and cannot be set')
        else:
            candidates = set(schema.blocks) | set(scope.meta_blocks or ()) | set(schema.attributes)
            self.report(line, f'{where}unknown block "{kind}"{_suggest(kind, candidates)}')

    def check_dynamic(self, item: Tree[Token], target: str, body: Tree[Token], scope: _Scope) -> None:
        line, schema, where = _line(item), scope.schema, f'{scope.where}dynamic "{target}": '
        if target not in schema.blocks:
            if target in schema.attributes:
                self.report(line, f'{where}"{target}" is an argument, not a block')
            else:
                self.report(line, f'{where}unknown block "{target}"{_suggest(target, schema.blocks)}')
            return
        contents: list[Tree[Token]] = []
        has_for_each = False
        for child in _body_items(body):
            if child.data == "attribute":
                arg = _attr_name(child)
                has_for_each = has_for_each or arg == "for_each"
                if arg not in _DYNAMIC_ARGS:
                    self.report(_line(child), f'{where}unknown argument "{arg}" ({", ".join(sorted(_DYNAMIC_ARGS))})')
                continue
            kind, _, content_body = _block_parts(child)
            if kind == "content":
                contents.append(content_body)
            else:
                self.report(_line(child), f'{where}unexpected block "{kind}" (only content)')
        if not has_for_each:
            self.report(line, f'{where}missing required argument "for_each"')
        if len(contents) != 1:
            self.report(line, f"{where}needs exactly one content block, found {len(contents)}")
        index = schema.blocks[target]
        if contents and index >= 0:
            self.check_body(contents[0], scope.child(target, self.schema.block(index)), line)

    def check_pin(self, terraform_body: Tree[Token]) -> None:
        """A `required_providers` entry for hashicorp/aws must admit the version the schema describes."""
        for item in _body_items(terraform_body):
            if item.data != "block" or _block_parts(item)[0] != "required_providers":
                continue
            for attr in _body_items(_block_parts(item)[2]):
                pin = _aws_pin(attr) if attr.data == "attribute" else None
                if pin is not None:
                    self.check_constraint(_attr_name(attr), *pin)

    def check_constraint(self, name: str, constraint: str, line: int) -> None:
        try:
            allowed = constraint_allows(constraint, self.schema.version)
        except ValueError as exc:
            self.report(line, f"required_providers.{name}: {exc}")
            return
        if not allowed:
            self.report(
                line,
                f'required_providers.{name}: version "{constraint}" excludes '
                f"hashicorp/aws {self.schema.version}, the version this offline check knows",
            )


def _aws_pin(attr: Tree[Token]) -> tuple[str, int] | None:
    """(version constraint, its line) of a required_providers entry for hashicorp/aws, else None."""
    fields = _object_fields(attr.children[-1])
    source_expr = fields.get("source")
    source = _plain_string(source_expr) if source_expr is not None else None
    if (source is None and _attr_name(attr) != "aws") or (source is not None and source.lower() not in AWS_SOURCES):
        return None
    version_expr = fields.get("version")
    constraint = _plain_string(version_expr) if version_expr is not None else None
    if constraint is None or version_expr is None:
        return None
    return constraint, _line(version_expr)


@dataclass(frozen=True)
class _Scope:
    """Where a body sits: its resource address, block path and schema; `meta_blocks` only for a resource or
    data block's own body, where meta-arguments are allowed."""

    address: str
    path: str
    schema: BlockSchema
    meta_blocks: frozenset[str] | None = None

    @property
    def top(self) -> bool:
        return self.meta_blocks is not None

    @property
    def where(self) -> str:
        return f"{self.address}: {self.path}: " if self.path else f"{self.address}: "

    def child_path(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def child(self, name: str, schema: BlockSchema) -> _Scope:
        return _Scope(self.address, self.child_path(name), schema)

"""Checks of component inputs: per component when a spec loads, and against the module's variable types when
it renders.

A table maps a component to its check, so spec.py calls one function and stays unaware of component details:
`response.inputs.policy` is validated by the Lambda's own loader, the GuardDuty IP lists kept in the
repository (`trusted_ip_list_file`, `threat_ip_list_files`) are read and format-checked line by line, and the
pipeline's `sonar_host_url` must be https (the SonarQube token travels with every request to it).

At render every input is checked against its module variable's type constraint (as python-hcl2 reads it:
`string`, `${list(string)}`, `${map(object({a = number}))}`), with Terraform's own conversions (a number is a
valid string, "2000" a valid number), so `rate_limit: lots` fails at render instead of at plan.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from provisioner.errors import SpecError
from provisioner.functions.response.policy import PolicyError, load_policy
from provisioner.spec_files import shown_key

if TYPE_CHECKING:
    from provisioner.project import Project
    from provisioner.spec import Component, EnvironmentSpec

Origin = Callable[[str], str]  # key path -> the spec file it came from

# GuardDuty limits for TXT lists (GuardDuty user guide, "Working with trusted IP lists and threat lists").
TRUSTED_MAX_ENTRIES = 2000
THREAT_MAX_ENTRIES = 250_000
MAX_THREAT_LISTS = 6
MAX_LIST_BYTES = 35 * 1024 * 1024

# AWS tag limits ("Tag naming limits and requirements", Tagging AWS Resources): 50 tags per resource, keys up to
# 128 and values up to 256 characters of letters, digits, spaces and + - = . _ : / @; the aws: prefix is AWS's.
TAG_MAX = 50
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
_TAG_PUNCTUATION = set("+-=._:/@")


def tag_problem(tags: dict[str, Any]) -> str | None:
    """Why AWS would refuse these tags (None when it would not); limits above."""
    if len(tags) > TAG_MAX:
        return f"{len(tags)} tags: AWS allows at most {TAG_MAX} per resource"
    for key, value in tags.items():
        if not isinstance(value, str):
            return f"tag {shown_key(key)}: a tag value is a string (quote it)"
        if not 1 <= len(key) <= TAG_KEY_MAX:
            return f"a tag key of {len(key)} characters: AWS allows 1 to {TAG_KEY_MAX}"
        if len(value) > TAG_VALUE_MAX:
            return f"tag {shown_key(key)}: a value of {len(value)} characters (AWS allows at most {TAG_VALUE_MAX})"
        if key.lower().startswith("aws:"):
            return f"tag {shown_key(key)}: the aws: prefix is reserved for AWS"
        for text in (key, value):
            bad = next((c for c in text if not _tag_character(c)), None)
            if bad is not None:
                return (
                    f"tag {shown_key(key)}: {bad!r} is not allowed in AWS tags "
                    "(letters, digits, spaces and + - = . _ : / @)"
                )
    return None


def _tag_character(char: str) -> bool:
    # Letters, numbers and spaces as AWS's tag pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]* (line/paragraph breaks aside).
    return char in _TAG_PUNCTUATION or (unicodedata.category(char)[0] in "LNZ" and char not in "\u2028\u2029")


def check_ip_list(path: Path, shown: str, max_entries: int) -> int:
    """One IPv4 address or CIDR per line (blank lines allowed); returns the entry count."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_LIST_BYTES + 1)  # bounded: a huge file is refused without reading it all
    except OSError as exc:
        raise SpecError(shown, "", f"cannot read IP list: {exc.strerror}") from None
    if len(data) > MAX_LIST_BYTES:
        raise SpecError(shown, "", f"IP list larger than {MAX_LIST_BYTES} bytes")
    try:
        lines = data.decode("ascii").splitlines()
    except UnicodeDecodeError as exc:
        raise SpecError(shown, "", f"not ASCII text (byte {exc.start})") from None
    count = 0
    for number, line in enumerate(lines, start=1):
        entry = line.strip()
        if not entry:
            continue
        try:
            network = ipaddress.IPv4Network(entry, strict=True)
        except ValueError as exc:
            raise SpecError(shown, f"line {number}", f"{entry!r} is not an IPv4 address or CIDR ({exc})") from None
        if network.prefixlen < 8:
            raise SpecError(shown, f"line {number}", f"{entry!r}: GuardDuty lists take CIDR blocks of /8 or smaller")
        count += 1
    if count > max_entries:
        raise SpecError(shown, "", f"{count} entries: GuardDuty accepts at most {max_entries} in this list")
    return count


def _list_path(project: Project, value: Any, where: str, key: str) -> Path:
    if not isinstance(value, str) or not value:
        raise SpecError(where, key, "expected a file path relative to the project root")
    path = (project.root / value).resolve()
    if Path(value).is_absolute() or not path.is_relative_to(project.root.resolve()):
        raise SpecError(where, key, f"{value!r} must be a path inside the project (Terraform reads it from there)")
    if not path.is_file():
        raise SpecError(where, key, f"{value!r}: no such file")
    return path


def _guardduty(project: Project, name: str, comp: Component, origin: Origin) -> None:
    base = f"components.{name}.inputs"
    trusted = comp.inputs.get("trusted_ip_list_file")
    if trusted:
        key = f"{base}.trusted_ip_list_file"
        check_ip_list(_list_path(project, trusted, origin(key), key), trusted, TRUSTED_MAX_ENTRIES)
    threats = comp.inputs.get("threat_ip_list_files") or []
    key = f"{base}.threat_ip_list_files"
    if not isinstance(threats, list):
        raise SpecError(origin(key), key, "expected a list of file paths")
    external = comp.inputs.get("threat_intel_set_locations") or []
    if len(threats) + (len(external) if isinstance(external, list) else 0) > MAX_THREAT_LISTS:
        raise SpecError(origin(key), key, f"GuardDuty allows at most {MAX_THREAT_LISTS} threat lists in a region")
    for index, item in enumerate(threats):
        item_key = f"{key}[{index}]"
        check_ip_list(_list_path(project, item, origin(item_key), item_key), str(item), THREAT_MAX_ENTRIES)


def _response(project: Project, name: str, comp: Component, origin: Origin) -> None:
    base = f"components.{name}.inputs.policy"
    try:
        load_policy(comp.inputs.get("policy"))
    except PolicyError as exc:
        key = base if exc.key == "policy" else f"{base}.{exc.key}"
        raise SpecError(origin(base), key, exc.reason) from None


def _pipeline(project: Project, name: str, comp: Component, origin: Origin) -> None:
    key = f"components.{name}.inputs.sonar_host_url"
    url = comp.inputs.get("sonar_host_url")
    if url is None:
        return
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise SpecError(
            origin(key),
            key,
            f"{url!r}: must be an https:// URL without credentials (the SonarQube token is sent to it)",
        )


CHECKS: dict[str, Callable[[Project, str, Component, Origin], None]] = {
    "guardduty": _guardduty,
    "pipeline": _pipeline,
    "response": _response,
}


def check_wiring(project: Project, spec: EnvironmentSpec, origin: Origin) -> None:
    """Every component names a module; wiring refers to enabled components; no variable set twice."""
    modules = project.module_names()
    for comp_name, comp in spec.components.items():
        module = comp.module or comp_name
        key = f"components.{comp_name}"
        if module not in modules:
            hint = difflib.get_close_matches(module, modules, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            where = origin(key)
            raise SpecError(where, key, f"unknown component {module!r}: no module in modules/{suggestion}")
        if not comp.enabled:
            continue
        for var, ref in comp.wiring.items():
            for item in [ref] if isinstance(ref, str) else ref:
                source = item.split(".", 1)[0]
                if source == "lambda":
                    continue
                other = spec.components.get(source)
                if other is None or not other.enabled:
                    where = origin(f"{key}.wiring.{var}")
                    state = "not defined" if other is None else "disabled"
                    raise SpecError(where, f"{key}.wiring.{var}", f"refers to component {source!r}, which is {state}")
        overlap = set(comp.inputs) & set(comp.wiring)
        if overlap:
            var = sorted(overlap)[0]
            where = origin(f"{key}.inputs.{var}")
            raise SpecError(where, f"{key}.inputs.{var}", "is set both in inputs and in wiring")


def check_component_inputs(project: Project, spec: EnvironmentSpec, origin: Origin) -> None:
    for name, comp in spec.enabled_components.items():
        check = CHECKS.get(comp.module or name)
        if check is not None:
            check(project, name, comp, origin)


def response_policy(spec: EnvironmentSpec) -> dict[str, Any]:
    """The raw policy mapping of an environment's response component ({} when absent or disabled)."""
    comp = spec.enabled_components.get("response")
    policy = comp.inputs.get("policy") if comp else None
    return dict(policy) if isinstance(policy, dict) else {}


@dataclass(frozen=True)
class HclType:
    """A Terraform type constraint: `kind` with its element type (list, set, map), attributes (object) or
    element types (tuple) in `parts` as (name, type); name is "" except for object attributes."""

    kind: str
    parts: tuple[tuple[str, HclType], ...] = ()

    def __str__(self) -> str:
        if self.kind in ("list", "set", "map"):
            return f"{self.kind}({self.parts[0][1]})"
        if self.kind == "object":
            return "object({" + ", ".join(f"{n} = {t}" for n, t in self.parts) + "})"
        if self.kind == "tuple":
            return "tuple([" + ", ".join(str(t) for _, t in self.parts) + "])"
        return self.kind


_PRIMITIVES = ("string", "number", "bool", "any")
_TYPE_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_-]*|[(){}\[\]=,])")
# Terraform converts such strings to numbers and bools (cty's primitive conversions).
_NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_BOOL_TEXT = ("true", "false", "1", "0")


class _TypeParser:
    def __init__(self, text: str) -> None:
        body = text.strip()
        if body.startswith("${") and body.endswith("}"):
            body = body[2:-1]
        self.tokens = _TYPE_TOKEN.findall(body)
        if "".join(self.tokens) != re.sub(r"\s+", "", body):
            raise ValueError(f"unexpected characters in {text!r}")
        self.pos = 0

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.pos] if self.pos < len(self.tokens) else ""
        if not token or (expected is not None and token != expected):
            raise ValueError(f"expected {expected or 'a type'} at token {self.pos}")
        self.pos += 1
        return token

    def peek(self) -> str:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ""

    def type(self) -> HclType:
        kind = self.take()
        if kind in _PRIMITIVES:
            return HclType(kind)
        self.take("(")
        if kind in ("list", "set", "map"):
            parts: list[tuple[str, HclType]] = [("", self.type())]
        elif kind in ("object", "tuple"):
            close = "}" if kind == "object" else "]"
            self.take("{" if kind == "object" else "[")
            parts = []
            while self.peek() != close:
                name = self.take() if kind == "object" else ""
                if kind == "object":
                    self.take("=")
                parts.append((name, self.type()))
                if self.peek() == ",":
                    self.take(",")
            self.take(close)
        else:  # optional() and anything newer than the Terraform this tool targets
            raise ValueError(f"unsupported type constructor {kind!r}")
        self.take(")")
        return HclType(kind, tuple(parts))


def parse_type(text: str) -> HclType | None:
    """The type constraint python-hcl2 read; None when it is not understood (then nothing is checked)."""
    try:
        parser = _TypeParser(text)
        parsed = parser.type()
    except ValueError:
        return None
    return parsed if parser.pos == len(parser.tokens) else None


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the bool {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value[:40] + '...' if len(value) > 40 else value!r}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return "a list" if isinstance(value, list) else "a mapping"


def _primitive_ok(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str | int | float)
    if kind == "number":
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        return numeric or (isinstance(value, str) and _NUMBER_TEXT.fullmatch(value) is not None)
    if kind == "bool":
        return isinstance(value, bool) or value in _BOOL_TEXT
    return True  # any


def type_mismatch(value: Any, wanted: HclType) -> tuple[str, str] | None:
    """Where (a key path suffix) and why `value` would not convert to `wanted`; None when it would.
    null is valid for every type, as in Terraform."""
    if value is None or wanted.kind == "any":
        return None
    if wanted.kind in _PRIMITIVES:
        return None if _primitive_ok(value, wanted.kind) else ("", f"expected {wanted}, got {_describe(value)}")
    expected_list = wanted.kind in ("list", "set", "tuple")
    if not isinstance(value, list if expected_list else dict):
        return "", f"expected {wanted}, got {_describe(value)}"
    if wanted.kind == "tuple" and len(value) != len(wanted.parts):
        return "", f"expected {wanted} ({len(wanted.parts)} elements), got {len(value)}"
    if wanted.kind == "object":
        missing = [name for name, _ in wanted.parts if name not in value]
        if missing:
            return "", f"expected {wanted}: attribute {missing[0]!r} is required"
    for sub, item, item_type in _members(value, wanted):
        found = type_mismatch(item, item_type)
        if found:
            return sub + found[0], found[1]
    return None


def _members(value: Any, wanted: HclType) -> list[tuple[str, Any, HclType]]:
    if wanted.kind in ("list", "set"):
        return [(f"[{i}]", item, wanted.parts[0][1]) for i, item in enumerate(value)]
    if wanted.kind == "tuple":
        return [(f"[{i}]", item, t) for i, (item, (_, t)) in enumerate(zip(value, wanted.parts, strict=True))]
    if wanted.kind == "map":
        return [(f".{shown_key(str(k))}", item, wanted.parts[0][1]) for k, item in value.items()]
    return [(f".{name}", value[name], t) for name, t in wanted.parts]


def input_problem(module: str, var: str, value: Any, type_text: str) -> tuple[str, str] | None:
    """(key path suffix, reason) when a component input does not fit its module variable, or breaks AWS's tag
    limits (a `tags` map); None when it fits. Type constraints this does not understand are not checked."""
    wanted = parse_type(type_text)
    found = type_mismatch(value, wanted) if wanted is not None else None
    if found:
        return found[0], f"{found[1]} (modules/{module} declares {var} as {wanted})"
    if var == "tags" and isinstance(value, dict):
        problem = tag_problem(value)
        if problem:
            return "", problem
    return None

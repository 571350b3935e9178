"""Checks of component inputs that point at files or carry a policy (issue 16), run when a spec loads.

A table maps a component to its check, so spec.py calls one function and stays unaware of component details:
`response.inputs.policy` is validated by the Lambda's own loader, and the GuardDuty IP lists kept in the
repository (`trusted_ip_list_file`, `threat_ip_list_files`) are read and format-checked line by line.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioner.errors import SpecError
from provisioner.functions.response.policy import PolicyError, load_policy

if TYPE_CHECKING:
    from provisioner.project import Project
    from provisioner.spec import Component, EnvironmentSpec

Origin = Callable[[str], str]  # key path -> the spec file it came from

# GuardDuty limits for TXT lists (GuardDuty user guide, "Working with trusted IP lists and threat lists").
TRUSTED_MAX_ENTRIES = 2000
THREAT_MAX_ENTRIES = 250_000
MAX_THREAT_LISTS = 6
MAX_LIST_BYTES = 35 * 1024 * 1024


def check_ip_list(path: Path, shown: str, max_entries: int) -> int:
    """One IPv4 address or CIDR per line (blank lines allowed); returns the entry count."""
    try:
        data = path.read_bytes()
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


CHECKS: dict[str, Callable[[Project, str, Component, Origin], None]] = {
    "guardduty": _guardduty,
    "response": _response,
}


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

"""Typed view of `terraform show -json` (plans and state, format 0.x/1.x): summary, drift, masked diffs.

Plan JSON carries sensitive values in clear (variables, outputs, resource attributes). Nothing here renders
`variables` or `prior_state`, and every rendered value passes through the before/after_sensitive masks, so
the renderers are safe to print, log and publish.

`PlanSummary.to_json()` follows the committed schema `provisioner/schema/plan-summary.schema.json`; a
`DriftResult` is the `terraform` part of `drift-report.schema.json`. Formats live in `provisioner.report.plan`.
Masked values read "(sensitive)", values Terraform learns only during apply "(known after apply)".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from provisioner.errors import TerraformError

# How a value the plan hides reads in every format (the report package shows them, the model marks them).
SENSITIVE = "(sensitive)"
UNKNOWN = "(known after apply)"

Action = Literal["create", "update", "replace", "delete", "read", "no-op"]
ACTIONS: tuple[Action, ...] = ("create", "update", "replace", "delete", "read", "no-op")
JSON_SCHEMA = 1


class _Masked:
    """A leaf that must never be shown: compared by identity of the hidden value, rendered as a label."""

    def __init__(self, raw: Any, label: str) -> None:
        self.raw = raw
        self.label = label

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Masked) and self.label == other.label and self.raw == other.raw

    __hash__ = None  # type: ignore[assignment]


def action_of(actions: Sequence[str]) -> Action:
    """Terraform's action list as one action; a replace (either order) is one action."""
    acts = tuple(actions)
    if set(acts) == {"delete", "create"}:
        return "replace"
    if len(acts) == 1 and acts[0] in ACTIONS:
        return acts[0]
    raise TerraformError(f"unknown terraform plan actions {list(acts)}")


@dataclass(frozen=True)
class AttributeChange:
    """One changed leaf attribute, values already masked; paths read like `triggers.name`, `rule[0].id`."""

    path: str
    before: Any
    after: Any

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class ResourceChange:
    address: str
    type: str
    name: str
    module_address: str | None
    mode: str
    actions: tuple[str, ...]
    action: Action
    before: Any
    after: Any
    after_unknown: Any
    before_sensitive: Any
    after_sensitive: Any

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResourceChange:
        change = data.get("change") or {}
        actions = tuple(change.get("actions") or ("no-op",))
        return cls(
            address=str(data["address"]),
            type=str(data.get("type", "")),
            name=str(data.get("name", "")),
            module_address=data.get("module_address"),
            mode=str(data.get("mode", "managed")),
            actions=actions,
            action=action_of(actions),
            before=change.get("before"),
            after=change.get("after"),
            after_unknown=change.get("after_unknown") or False,
            before_sensitive=change.get("before_sensitive") or False,
            after_sensitive=change.get("after_sensitive") or False,
        )

    def attribute_changes(self) -> list[AttributeChange]:
        """Leaf attributes that differ between before and after, sensitive ones masked."""
        before = _flatten(self.before, self.before_sensitive, False)
        after = _flatten(self.after, self.after_sensitive, self.after_unknown)
        changes = []
        for path in sorted(set(before) | set(after)):
            old, new = before.get(path), after.get(path)
            if old != new:
                changes.append(AttributeChange(path, _display(old), _display(new)))
        return changes

    def meaningful_changes(self) -> list[AttributeChange]:
        """attribute_changes() without provider normalisations (see `is_normalisation`)."""
        return [c for c in self.attribute_changes() if not is_normalisation(c.before, c.after)]

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "module_address": self.module_address,
            "type": self.type,
            "name": self.name,
            "mode": self.mode,
            "action": self.action,
            "actions": list(self.actions),
            "attributes": [a.to_json() for a in self.attribute_changes()],
        }


# Forms providers use interchangeably for "not set" (e.g. a WAF attribute read back as [] after null was
# written): a refresh that only swaps one for another changed nothing in the infrastructure.
_UNSET_FORMS: tuple[Any, ...] = (None, "", [], {})


def is_normalisation(before: Any, after: Any) -> bool:
    """True when both sides are "not set" in one of its forms: null vs "" vs [] vs {} (0 and false are values)."""
    return _is_unset(before) and _is_unset(after)


def _is_unset(value: Any) -> bool:
    return not isinstance(value, bool | int | float) and any(value == form for form in _UNSET_FORMS)


@dataclass(frozen=True)
class OutputChange:
    name: str
    action: Action
    sensitive: bool
    before: Any  # masked
    after: Any  # masked

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> OutputChange:
        sensitive = bool(data.get("before_sensitive")) or bool(data.get("after_sensitive"))
        if sensitive:
            before: Any = SENSITIVE if data.get("before") is not None else None
            after: Any = SENSITIVE
        else:
            before = data.get("before")
            after = UNKNOWN if data.get("after_unknown") is True else data.get("after")
        return cls(name, action_of(data.get("actions") or ("no-op",)), sensitive, before, after)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "action": self.action,
            "sensitive": self.sensitive,
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True)
class Plan:
    format_version: str
    terraform_version: str
    resource_changes: tuple[ResourceChange, ...]
    resource_drift: tuple[ResourceChange, ...]
    output_changes: tuple[OutputChange, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        version = str(data.get("format_version", ""))
        if version.split(".")[0] not in ("0", "1"):
            raise TerraformError(f"unsupported terraform plan JSON format_version {version!r} (expected 0.x/1.x)")
        return cls(
            format_version=version,
            terraform_version=str(data.get("terraform_version", "")),
            resource_changes=tuple(ResourceChange.from_json(rc) for rc in data.get("resource_changes") or ()),
            resource_drift=tuple(ResourceChange.from_json(rc) for rc in data.get("resource_drift") or ()),
            output_changes=tuple(
                OutputChange.from_json(name, oc) for name, oc in sorted((data.get("output_changes") or {}).items())
            ),
        )

    @property
    def has_changes(self) -> bool:
        """Resource or output changes; the verdict `-detailed-exitcode` should have given."""
        return any(rc.action != "no-op" for rc in self.resource_changes) or any(
            oc.action != "no-op" for oc in self.output_changes
        )

    def summary(self) -> PlanSummary:
        counts: dict[str, int] = dict.fromkeys(ACTIONS, 0)
        addresses: dict[str, list[str]] = {action: [] for action in ACTIONS}
        for rc in self.resource_changes:
            counts[rc.action] += 1
            addresses[rc.action].append(rc.address)
        return PlanSummary(
            counts=counts,
            addresses={action: tuple(addrs) for action, addrs in addresses.items()},
            destructive=counts["delete"] > 0 or counts["replace"] > 0,
            changes=tuple(rc for rc in self.resource_changes if rc.action != "no-op"),
            drift=tuple(rc for rc in self.resource_drift if rc.action != "no-op"),
            outputs=tuple(oc for oc in self.output_changes if oc.action != "no-op"),
        )


@dataclass(frozen=True)
class PlanSummary:
    counts: dict[str, int]
    addresses: dict[str, tuple[str, ...]]
    destructive: bool
    changes: tuple[ResourceChange, ...]  # everything but no-op
    drift: tuple[ResourceChange, ...]  # objects Terraform found changed outside of it
    outputs: tuple[OutputChange, ...]

    @property
    def total(self) -> int:
        """Resource operations an apply of this plan will perform (a replace is one)."""
        return len(self.changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": JSON_SCHEMA,
            "counts": dict(self.counts),
            "addresses": {action: list(addrs) for action, addrs in self.addresses.items()},
            "destructive": self.destructive,
            "changes": [rc.to_json() for rc in self.changes],
            "drift": [rc.to_json() for rc in self.drift],
            "outputs": [oc.to_json() for oc in self.outputs],
        }


@dataclass(frozen=True)
class DriftResult:
    """`provision drift`: what changed outside Terraform (refresh-only plan) and what config changes wait
    to be applied (normal plan), reported separately. Decided from plan JSON, never from exit codes."""

    changed_outside: tuple[ResourceChange, ...]
    pending: tuple[ResourceChange, ...]

    @classmethod
    def from_plans(cls, refresh_plan: Mapping[str, Any], plan: Mapping[str, Any]) -> DriftResult:
        refreshed = Plan.from_json(refresh_plan)
        planned = Plan.from_json(plan)
        return cls(
            changed_outside=tuple(
                rc for rc in refreshed.resource_drift if rc.action != "no-op" and rc.meaningful_changes()
            ),
            pending=tuple(rc for rc in planned.resource_changes if rc.action not in ("no-op", "read")),
        )

    @property
    def has_drift(self) -> bool:
        """Live infrastructure and code disagree: something changed outside, or changes await apply."""
        return bool(self.changed_outside or self.pending)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": JSON_SCHEMA,
            "has_drift": self.has_drift,
            "changed_outside": [rc.to_json() for rc in self.changed_outside],
            "pending": [rc.to_json() for rc in self.pending],
        }


@dataclass(frozen=True)
class StateResource:
    address: str
    type: str
    name: str
    mode: str
    module_address: str | None
    values: dict[str, Any]  # sensitive leaves masked


@dataclass(frozen=True)
class State:
    """Typed view of `terraform show -json` without a plan file (the current state)."""

    terraform_version: str
    resources: tuple[StateResource, ...]
    outputs: dict[str, Any]  # sensitive ones masked

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> State:
        values = data.get("values") or {}
        resources: list[StateResource] = []
        for module in _modules(values.get("root_module") or {}):
            for res in module.get("resources") or ():
                masked = _mask_tree(res.get("values") or {}, res.get("sensitive_values") or False)
                resources.append(
                    StateResource(
                        address=str(res["address"]),
                        type=str(res.get("type", "")),
                        name=str(res.get("name", "")),
                        mode=str(res.get("mode", "managed")),
                        module_address=module.get("address"),
                        values=masked if isinstance(masked, dict) else {},
                    )
                )
        outputs = {
            name: SENSITIVE if out.get("sensitive") else out.get("value")
            for name, out in sorted((values.get("outputs") or {}).items())
        }
        return cls(str(data.get("terraform_version", "")), tuple(resources), outputs)

    @property
    def addresses(self) -> list[str]:
        return [r.address for r in self.resources]


def _modules(module: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield module
    for child in module.get("child_modules") or ():
        yield from _modules(child)


def _sub(marks: Any, key: str | int) -> Any:
    """The sensitive/unknown mark below `key`; marks mirror the value's shape, `true` covers a subtree."""
    if marks is True:
        return True
    if isinstance(marks, dict) and isinstance(key, str):
        return marks.get(key, False)
    if isinstance(marks, list) and isinstance(key, int) and key < len(marks):
        return marks[key]
    return False


def _join(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def _flatten(value: Any, sensitive: Any, unknown: Any, prefix: str = "") -> dict[str, Any]:
    """path -> leaf value, with sensitive leaves wrapped in _Masked and unknown ones as the UNKNOWN label."""
    out: dict[str, Any] = {}
    if sensitive is True:
        out[prefix] = _Masked(value, SENSITIVE)
    elif unknown is True:
        out[prefix] = _Masked(None, UNKNOWN)
    elif isinstance(value, dict) or (value is None and isinstance(unknown, dict)):
        items = dict(value or {})
        keys = set(items) | (set(unknown) if isinstance(unknown, dict) else set())
        if not keys and prefix:
            out[prefix] = {}
        for key in sorted(keys):
            out.update(_flatten(items.get(key), _sub(sensitive, key), _sub(unknown, key), _join(prefix, key)))
    elif isinstance(value, list):
        if not value and prefix:
            out[prefix] = []
        for index, item in enumerate(value):
            out.update(_flatten(item, _sub(sensitive, index), _sub(unknown, index), _join(prefix, index)))
    elif value is not None or prefix:
        out[prefix] = value
    return out


def _display(value: Any) -> Any:
    return value.label if isinstance(value, _Masked) else value


def _mask_tree(value: Any, sensitive: Any) -> Any:
    if sensitive is True:
        return SENSITIVE
    if isinstance(value, dict):
        return {k: _mask_tree(v, _sub(sensitive, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_tree(v, _sub(sensitive, i)) for i, v in enumerate(value)]
    return value

"""The response policy of an environment: defaults, strict validation, one typed view.

The same dict travels from the spec (`components.response.inputs.policy`) to the Lambda (`RESPONSE_POLICY`)
and to `provision respond`; unknown keys are errors so a misspelt setting is never silently ignored.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

ACTIONS = ("isolate_instance", "deactivate_access_key", "revoke_role_sessions", "block_remote_ip")

# Severity bands of the playbook: 7.0+ = HIGH = act now. The key action is opt-in (issue 16).
DEFAULT_POLICY: dict[str, Any] = {
    "dry_run": True,
    # The tag exempts only when `protected` says an SCP keeps everyone but the security admins from setting it
    # (README "GuardDuty response"); `exempt_instances` is the exemption the spec's reviewers grant.
    "exempt_tag": {"key": "SecurityResponse", "value": "exempt", "protected": False},
    "exempt_instances": [],
    # Roles whose sessions the response may revoke (besides roles tagged REVOCABLE_TAG): the role may
    # PutRolePolicy on these only (modules/response).
    "revocable_roles": [],
    "notify": {"no_action_min_severity": 7.0, "samples": False},
    "actions": {
        "isolate_instance": {"enabled": True, "min_severity": 7.0},
        "deactivate_access_key": {"enabled": False, "min_severity": 7.0},
        "revoke_role_sessions": {"enabled": True, "min_severity": 7.0},
        "block_remote_ip": {"enabled": True, "min_severity": 7.0, "expiry_hours": 24},
    },
}


_INSTANCE_ID = re.compile(r"i-[0-9a-f]{8,17}\Z")
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}\Z", re.ASCII)
# A role carrying this tag may have its sessions revoked (the module's condition aws:ResourceTag/<key>).
REVOCABLE_TAG = ("SecurityResponseRevocable", "true")


class PolicyError(ValueError):
    """A policy value that cannot be used: `key` is the dotted path inside the policy."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class ActionPolicy:
    enabled: bool
    min_severity: float
    expiry_hours: int = 0


@dataclass(frozen=True)
class Policy:
    dry_run: bool
    exempt_tag_key: str
    exempt_tag_value: str
    exempt_tag_protected: bool
    exempt_instances: frozenset[str]
    revocable_roles: frozenset[str]
    notify_min_severity: float
    notify_samples: bool
    actions: dict[str, ActionPolicy]

    def action(self, name: str) -> ActionPolicy:
        return self.actions[name]


def _merge(base: dict[str, Any], override: dict[str, Any], path: str) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        where = f"{path}.{key}" if path else key
        if key not in base:
            raise PolicyError(where, f"unknown key (expected one of: {', '.join(sorted(base))})")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise PolicyError(where, "expected a mapping")
            merged[key] = _merge(base[key], value, where)
        else:
            merged[key] = value
    return merged


def _typed(value: Any, kind: type, key: str) -> Any:
    # bool is an int in Python: refuse `true` where a number is meant and numbers where a flag is meant.
    if kind is bool:
        if not isinstance(value, bool):
            raise PolicyError(key, f"expected true or false, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(key, f"expected a number, got {value!r}")
    if kind is int and float(value) != int(value):
        raise PolicyError(key, f"expected a whole number, got {value!r}")
    return kind(value)


def _action(name: str, raw: dict[str, Any]) -> ActionPolicy:
    key = f"actions.{name}"
    enabled = _typed(raw["enabled"], bool, f"{key}.enabled")
    severity = _typed(raw["min_severity"], float, f"{key}.min_severity")
    if not 0.0 <= severity <= 10.0:
        raise PolicyError(f"{key}.min_severity", f"{severity} is outside GuardDuty's 0-10 severity range")
    expiry = 0
    if "expiry_hours" in raw:
        expiry = _typed(raw["expiry_hours"], int, f"{key}.expiry_hours")
        if not 1 <= expiry <= 24 * 90:
            raise PolicyError(f"{key}.expiry_hours", f"{expiry} is outside 1..2160 hours")
    return ActionPolicy(enabled, severity, expiry)


def _names(value: Any, pattern: re.Pattern[str], key: str, what: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and pattern.match(v) for v in value):
        raise PolicyError(key, f"expected a list of {what}, got {value!r}")
    return frozenset(value)


def load_policy(raw: Any) -> Policy:
    """Validate a policy mapping (missing keys take the defaults); PolicyError names the first bad key."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise PolicyError("policy", "expected a mapping")
    merged = _merge(DEFAULT_POLICY, raw, "")
    tag = merged["exempt_tag"]
    for part in ("key", "value"):
        if not isinstance(tag[part], str) or not tag[part] or len(tag[part]) > 128:
            raise PolicyError(f"exempt_tag.{part}", "expected a non-empty string of at most 128 characters")
    notify_min = _typed(merged["notify"]["no_action_min_severity"], float, "notify.no_action_min_severity")
    return Policy(
        dry_run=_typed(merged["dry_run"], bool, "dry_run"),
        exempt_tag_key=tag["key"],
        exempt_tag_value=tag["value"],
        exempt_tag_protected=_typed(tag["protected"], bool, "exempt_tag.protected"),
        exempt_instances=_names(merged["exempt_instances"], _INSTANCE_ID, "exempt_instances", "EC2 instance ids"),
        revocable_roles=_names(merged["revocable_roles"], _ROLE_NAME, "revocable_roles", "IAM role names"),
        notify_min_severity=notify_min,
        notify_samples=_typed(merged["notify"]["samples"], bool, "notify.samples"),
        actions={name: _action(name, merged["actions"][name]) for name in ACTIONS},
    )

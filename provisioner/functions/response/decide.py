"""The one decision function: (finding, policy) -> the actions to take. Pure: no AWS call, no clock.

The Lambda executes what this returns; `provision respond` prints it. Statuses of a decided action:
`planned` (will run), `dry_run` (would run; the policy is in dry-run), `disabled` (off in the policy),
`below_threshold`, `exempt` (the resource carries the exempt tag), `not_applicable` (e.g. a private IP).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from provisioner.functions.common import as_dict
from provisioner.functions.response.finding import (
    ACCESS_KEY_RE,
    INSTANCE_ID_RE,
    Finding,
    MalformedFinding,
    parse_finding,
)
from provisioner.functions.response.policy import Policy

# Threat purposes (the part before ':') of EC2 findings that mean "this instance may be compromised".
ISOLATE_PURPOSES = frozenset(
    {
        "Backdoor",
        "CryptoCurrency",
        "Trojan",
        "UnauthorizedAccess",
        "Impact",
        "Execution",
        "Persistence",
        "PrivilegeEscalation",
        "DefenseEvasion",
    }
)
# Types outside those purposes that still mean the instance itself misbehaves (it scans others).
ISOLATE_TYPES = frozenset({"Recon:EC2/Portscan"})
# Resource parts of instance findings: EC2 (VPC flow logs, DNS) and Runtime (Runtime Monitoring on EC2).
INSTANCE_TARGETS = frozenset({"EC2", "Runtime"})
# One instance isolation is four recorded steps, all governed by `actions.isolate_instance`.
# Containment first, then evidence: the order the executor runs them in.
ISOLATION_STEPS = ("isolate_network", "protect_termination", "snapshot_volumes", "tag_instance")
RUNNABLE = frozenset({"planned", "dry_run"})


@dataclass(frozen=True)
class Home:
    """Where the response runs. It acts only on findings of these accounts in this region: in a GuardDuty
    administrator account, a member account's finding names that account's resources, never ours."""

    accounts: frozenset[str]
    region: str

    def foreign(self, finding: Finding) -> str | None:
        """Why the finding is not ours to act on (None when it is)."""
        if finding.account_id not in self.accounts:
            mine = ", ".join(sorted(self.accounts)) or "unknown"
            return f"finding of account {finding.account_id or '(none)'}, not of this account ({mine})"
        if finding.region != self.region:
            return f"finding of region {finding.region or '(none)'}, not of this region ({self.region or 'unknown'})"
        return None


@dataclass(frozen=True)
class Action:
    action: str
    resource: str
    status: str
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "resource": self.resource, "status": self.status, "reason": self.reason}


@dataclass(frozen=True)
class Decision:
    finding: Finding | None
    actions: tuple[Action, ...]
    skipped_reason: str | None
    notify: bool

    def summary(self) -> dict[str, Any]:
        f = self.finding
        return {
            "id": f.id if f else None,
            "type": f.type if f else None,
            "severity": f.severity if f else None,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "finding": self.summary(),
            "actions": [a.as_dict() for a in self.actions],
            "skipped_reason": self.skipped_reason,
        }


def _type_parts(finding_type: str) -> tuple[str, str]:
    purpose, _, rest = finding_type.partition(":")
    return purpose, rest.split("/", 1)[0]


def _status(finding: Finding, policy: Policy, name: str, exempt: str | None) -> tuple[str, str | None]:
    rule = policy.action(name)
    if not rule.enabled:
        return "disabled", f"actions.{name}.enabled is false"
    if finding.severity < rule.min_severity:
        return "below_threshold", f"severity {finding.severity:g} < actions.{name}.min_severity {rule.min_severity:g}"
    if exempt:
        return "exempt", exempt
    if policy.dry_run:
        return "dry_run", "policy dry_run is true"
    return "planned", None


def _instance_actions(finding: Finding, policy: Policy) -> list[Action]:
    instance_id = finding.instance_id or ""
    if not INSTANCE_ID_RE.match(instance_id):
        raise MalformedFinding(f"EC2 finding without a valid instance id ({instance_id!r})")
    status, reason = _status(finding, policy, "isolate_instance", _instance_exemption(finding, policy, instance_id))
    return [Action(step, instance_id, status, reason) for step in ISOLATION_STEPS]


def _instance_exemption(finding: Finding, policy: Policy, instance_id: str) -> str | None:
    """Only an exemption nobody but the policy's reviewers can grant: an instance the policy lists, or the exempt
    tag when the policy declares its key protected (an SCP denies setting it to all but the security admins)."""
    if instance_id in policy.exempt_instances:
        return "instance listed in the policy's exempt_instances"
    key, value = policy.exempt_tag_key, policy.exempt_tag_value
    if policy.exempt_tag_protected and finding.instance_tags.get(key) == value:
        return f"resource tagged {key}={value} (protected tag key)"
    return None


def remote_ip(finding: Finding) -> str | None:
    """The remote IPv4 of an inbound network finding (connection or port probe), if any."""
    action = as_dict(finding.service.get("action"))
    connection = as_dict(action.get("networkConnectionAction"))
    if connection.get("connectionDirection") == "INBOUND":
        ip = as_dict(connection.get("remoteIpDetails")).get("ipAddressV4")
        return ip if isinstance(ip, str) else None
    probes = as_dict(action.get("portProbeAction")).get("portProbeDetails")
    for probe in probes if isinstance(probes, list) else []:
        ip = as_dict(as_dict(probe).get("remoteIpDetails")).get("ipAddressV4")
        if isinstance(ip, str):
            return ip
    return None


def _ip_action(finding: Finding, policy: Policy) -> list[Action]:
    ip = remote_ip(finding)
    if ip is None:
        return []
    try:
        address = ipaddress.IPv4Address(ip)
    except ValueError:
        return [Action("block_remote_ip", ip, "not_applicable", "not an IPv4 address")]
    if not address.is_global:
        return [Action("block_remote_ip", ip, "not_applicable", "not a public address")]
    status, reason = _status(finding, policy, "block_remote_ip", None)
    return [Action("block_remote_ip", f"{address}/32", status, reason)]


def _key_actions(finding: Finding, policy: Policy) -> list[Action]:
    details = finding.access_key
    user_type, user = details.get("userType"), details.get("userName")
    key_id = details.get("accessKeyId")
    if not isinstance(user, str) or not user:
        raise MalformedFinding("IAM finding without accessKeyDetails.userName")
    if user_type == "AssumedRole" or "InstanceCredentialExfiltration" in finding.type:
        status, reason = _status(finding, policy, "revoke_role_sessions", None)
        return [Action("revoke_role_sessions", user, status, reason)]
    if user_type != "IAMUser":
        return [Action("deactivate_access_key", user, "not_applicable", f"user type {user_type!r}")]
    if not isinstance(key_id, str) or not ACCESS_KEY_RE.match(key_id) or not key_id.startswith("AKIA"):
        why = "not a long-term access key (AKIA...)"
        return [Action("deactivate_access_key", f"{user}/{key_id}", "not_applicable", why)]
    status, reason = _status(finding, policy, "deactivate_access_key", None)
    return [Action("deactivate_access_key", f"{user}/{key_id}", status, reason)]


def _family_actions(finding: Finding, policy: Policy) -> list[Action] | None:
    purpose, target = _type_parts(finding.type)
    if target in INSTANCE_TARGETS and finding.resource_type == "Instance":
        isolate = purpose in ISOLATE_PURPOSES or finding.type in ISOLATE_TYPES
        actions = _instance_actions(finding, policy) if isolate else []
        actions += _ip_action(finding, policy)
        return actions or None
    if target == "IAMUser" or "InstanceCredentialExfiltration" in finding.type:
        return _key_actions(finding, policy)
    return None


def _skip_reason(finding: Finding, actions: list[Action]) -> str | None:
    if any(a.status in RUNNABLE for a in actions):
        return None
    statuses = {a.status for a in actions}
    if statuses == {"below_threshold"}:
        return f"severity {finding.severity:g} is below the threshold of every applicable action"
    if "exempt" in statuses:
        return "the resource is exempt from automated response: reported only"
    return "no applicable action is enabled: " + "; ".join(sorted({a.reason or a.status for a in actions}))


def decide(event: Any, policy: Policy, home: Home | None = None) -> Decision:
    """Everything the response does, decided from the event, the policy and where it runs (the Lambda always
    passes `home`; only a rehearsal without an environment has none)."""
    try:
        finding = parse_finding(event)
    except MalformedFinding as exc:
        return Decision(None, (), f"malformed event: {exc}", True)
    quiet = finding.severity < policy.notify_min_severity
    if finding.sample:
        return Decision(finding, (), "sample finding generated by GuardDuty", policy.notify_samples and not quiet)
    foreign = home.foreign(finding) if home is not None else None
    if foreign:
        return Decision(finding, (), f"{foreign}: reported only", not quiet)
    if finding.archived:
        return Decision(finding, (), "archived finding", not quiet)
    if not finding.resource_type:
        return Decision(finding, (), "malformed finding: it names no resource (resource.resourceType)", True)
    try:
        actions = _family_actions(finding, policy)
    except MalformedFinding as exc:
        return Decision(finding, (), f"malformed finding: {exc}", True)
    if actions is None:
        return Decision(finding, (), f"unknown finding type {finding.type}: no automated response defined", True)
    reason = _skip_reason(finding, actions)
    notify = reason is None or "exempt" in reason or not quiet
    return Decision(finding, tuple(actions), reason, notify)

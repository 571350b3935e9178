"""What executing one decided action produced, and the context every executor step needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from provisioner.functions.response.finding import Finding

TAG_PREFIX = "gd-response:"
# Statuses after execution (decision statuses other than `planned` pass through unchanged).
DONE, ALREADY, FAILED, MISSING, EXEMPT = "done", "already_done", "failed", "resource_missing", "exempt"


@dataclass
class Outcome:
    action: str
    resource: str
    status: str
    reason: str | None = None
    details: list[str] = field(default_factory=list)
    undo: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "resource": self.resource,
            "status": self.status,
            "reason": self.reason,
            "details": list(self.details),
            "undo": list(self.undo),
        }


@dataclass(frozen=True)
class Clients:
    """boto3 clients (or anything with the same methods); the Lambda and the tests build them."""

    ec2: Any
    iam: Any
    wafv2: Any
    guardduty: Any
    securityhub: Any
    sns: Any


@dataclass(frozen=True)
class Context:
    finding: Finding
    now: datetime
    quarantine_groups: dict[str, str]  # VPC id -> quarantine security group id
    exempt_tag: tuple[str, str] | None  # honoured only when the policy declares its key protected
    blocked_ip_set_arn: str = ""
    block_expiry_hours: int = 24
    own_role_name: str = ""
    revocable_roles: frozenset[str] = frozenset()

    def tag(self, name: str) -> str:
        return TAG_PREFIX + name

    def stamp(self) -> str:
        return self.now.strftime("%Y-%m-%dT%H:%M:%SZ")


def aws_tags(pairs: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(pairs.items())]


def tag_map(tags: Any) -> dict[str, str]:
    items = tags if isinstance(tags, list) else []
    return {str(t.get("Key")): str(t.get("Value", "")) for t in items if isinstance(t, dict)}

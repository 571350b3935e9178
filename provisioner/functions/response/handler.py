"""Lambda entry point: EventBridge GuardDuty findings -> decide -> execute -> note -> notify.

Environment: RESPONSE_POLICY (JSON), QUARANTINE_GROUPS (JSON map VPC id -> security group id),
ALERT_TOPIC_ARN, BLOCKED_IP_SET_ARN (optional), OWN_ROLE_NAME. A scheduled EventBridge event
(`detail-type: Scheduled Event`) sweeps expired WAF blocks instead.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from provisioner.functions.common import log_level
from provisioner.functions.response.decide import Decision, Home, decide
from provisioner.functions.response.execute import Report, execute
from provisioner.functions.response.ipblock import parse_ip_set_arn, sweep_expired
from provisioner.functions.response.outcome import Clients, Context
from provisioner.functions.response.policy import Policy, PolicyError, load_policy

log = logging.getLogger()
log.setLevel(log_level())


@dataclass(frozen=True)
class Settings:
    policy: Policy
    quarantine_groups: dict[str, str]
    topic_arn: str
    blocked_ip_set_arn: str
    own_role_name: str
    home: Home

    @classmethod
    def from_env(cls, env: dict[str, str], account_id: str) -> Settings:
        groups = json.loads(env.get("QUARANTINE_GROUPS") or "{}")
        if not isinstance(groups, dict):
            raise PolicyError("QUARANTINE_GROUPS", "expected a JSON object")
        return cls(
            policy=load_policy(json.loads(env.get("RESPONSE_POLICY") or "{}")),
            quarantine_groups={str(k): str(v) for k, v in groups.items()},
            topic_arn=env.get("ALERT_TOPIC_ARN", ""),
            blocked_ip_set_arn=env.get("BLOCKED_IP_SET_ARN", ""),
            own_role_name=env.get("OWN_ROLE_NAME", ""),
            home=Home(frozenset({account_id} - {""}), env.get("AWS_REGION", "")),
        )


def make_clients(region: str | None, ip_set_arn: str) -> Clients:
    import boto3

    waf_region = parse_ip_set_arn(ip_set_arn)[0] if ip_set_arn else region
    return Clients(
        ec2=boto3.client("ec2", region_name=region),
        iam=boto3.client("iam", region_name=region),
        wafv2=boto3.client("wafv2", region_name=waf_region),
        guardduty=boto3.client("guardduty", region_name=region),
        securityhub=boto3.client("securityhub", region_name=region),
        sns=boto3.client("sns", region_name=region),
    )


def respond(event: Any, settings: Settings, clients: Clients, now: datetime) -> Report:
    """The whole response to one event; the Lambda and the tests call this."""
    decision = decide(event, settings.policy, settings.home)
    ctx = None
    policy = settings.policy
    if decision.finding is not None and decision.actions:
        ctx = Context(
            finding=decision.finding,
            now=now,
            quarantine_groups=settings.quarantine_groups,
            exempt_tag=(policy.exempt_tag_key, policy.exempt_tag_value) if policy.exempt_tag_protected else None,
            blocked_ip_set_arn=settings.blocked_ip_set_arn,
            block_expiry_hours=settings.policy.action("block_remote_ip").expiry_hours,
            own_role_name=settings.own_role_name,
            revocable_roles=policy.revocable_roles,
        )
    return execute(decision, clients, ctx, settings.topic_arn)


DECISION_MARKER = "guardduty response:"


def _account_of(context: Any) -> str:
    """The function's own account, from its ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME); '' if unknown,
    and then no finding is ours to act on."""
    parts = str(getattr(context, "invoked_function_arn", "")).split(":")
    return parts[4] if len(parts) > 4 and parts[4].isascii() and parts[4].isdigit() else ""


def _is_schedule(event: Any) -> bool:
    return isinstance(event, dict) and (event.get("source"), event.get("detail-type")) == (
        "aws.events",
        "Scheduled Event",
    )


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    region = os.environ.get("AWS_REGION")
    try:
        settings = Settings.from_env(dict(os.environ), _account_of(context))
        clients = make_clients(region, settings.blocked_ip_set_arn)
        if _is_schedule(event):
            arn = settings.blocked_ip_set_arn
            removed = sweep_expired(clients.wafv2, arn, now) if arn else []
            log.info("swept expired WAF blocks: %s", removed)
            return {"swept": removed}
        report = respond(event, settings, clients, now).as_dict()
        # One line per finding with the decision: the record of what was (or, in dry run, would be) done.
        log.info("%s %s", DECISION_MARKER, json.dumps(report, default=str, sort_keys=True))
        return report
    except Exception as exc:
        log.exception("guardduty response failed before acting")
        return _last_resort(event, region, f"internal error before any action: {type(exc).__name__}: {exc}")


def _last_resort(event: Any, region: str | None, reason: str) -> dict[str, Any]:
    report: dict[str, Any] = {
        "finding": {"id": None, "type": None, "severity": None},
        "actions": [],
        "skipped_reason": reason,
        "notified": False,
    }
    topic = os.environ.get("ALERT_TOPIC_ARN", "")
    try:
        import boto3

        if topic:
            body = json.dumps({"report": report, "event": event}, default=str)[:200_000]
            sns = boto3.client("sns", region_name=region)
            sns.publish(TopicArn=topic, Subject="GuardDuty response: no action", Message=body)
            report["notified"] = True
    except Exception:
        log.exception("could not notify the alert topic either")
    return report


__all__ = ["Decision", "Settings", "lambda_handler", "make_clients", "respond"]

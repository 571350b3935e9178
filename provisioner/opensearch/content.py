"""The OpenSearch content the configurator Lambda applies, computed on the host, deterministically.

Values only Terraform knows at apply time appear as `"${name}"` placeholders (see BINDINGS) and are resolved by
the Lambda from its invocation payload; everything else comes from the environment spec (inputs of the
`opensearch` component, else the module's variable defaults).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provisioner.functions.logs import SOURCES
from provisioner.opensearch import dashboards, templates

CHANNEL_ID = "provision-security-alerts"
INDEX_PREFIX = "logs"
INGEST_ROLE = "log_ingest"
ANALYST_ROLE = "security_analyst"
# Placeholder -> where Terraform takes the value from (modules/opensearch/configurator.tf).
BINDINGS = {
    "admin_role_arn": "the domain's fine-grained-access-control master role",
    "ingest_role_arns": "input ingest_role_arns (normaliser Lambda roles, WAF Firehose role)",
    "alerts_topic_arn": "input alerts_topic_arn (the stack's SNS alert topic)",
    "alerts_publish_role_arn": "the role the module creates for OpenSearch to publish to that topic",
}
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/")


@dataclass(frozen=True)
class Settings:
    """What the content depends on, from the spec (inputs of components.opensearch) or module defaults."""

    ingest_index_patterns: tuple[str, ...] = ("logs-cloudtrail-*", "logs-guardduty-*", "logs-waf-*")
    analyst_role_arns: tuple[str, ...] = ()
    # family -> (days in the hot, writable state; days after which the index is deleted)
    retention: dict[str, tuple[int, int]] = field(default_factory=dict)
    families: tuple[str, ...] = SOURCES
    # `%threat_list%` of the detection rules: the environment's GuardDuty threat lists (empty: the catalogue's own)
    placeholders: dict[str, list[str]] = field(default_factory=dict)


def _role(cluster: list[str], patterns: list[str], actions: list[str], tenants: list[Any]) -> dict[str, Any]:
    return {
        "description": "Managed by provision",
        "cluster_permissions": cluster,
        "index_permissions": [
            {"index_patterns": patterns, "dls": "", "fls": [], "masked_fields": [], "allowed_actions": actions}
        ],
        "tenant_permissions": tenants,
    }


def _mapping(backend_roles: list[str]) -> dict[str, Any]:
    return {"description": "Managed by provision", "backend_roles": backend_roles, "hosts": [], "users": []}


def security_objects(settings: Settings) -> list[dict[str, Any]]:
    """Least privilege: ingest writes documents (and creates its daily indices); analysts read; admin all."""
    ingest = _role(
        ["cluster_monitor", "indices:data/write/bulk"],
        list(settings.ingest_index_patterns),
        [
            "indices:data/write/index",
            "indices:data/write/bulk*",
            "create_index",  # action group: create (also implicitly through _bulk) and put the first mapping
            "indices:admin/auto_create",
            "indices:admin/mapping/put",
            "indices:admin/mappings/get",
            "indices:monitor/stats",
            "indices:monitor/settings/get",
        ],
        [],
    )
    analyst = _role(
        [
            "cluster_composite_ops_ro",
            "cluster:admin/opendistro/alerting/alerts/get",
            "cluster:admin/opendistro/alerting/monitor/get",
            "cluster:admin/opendistro/alerting/monitor/search",
        ],
        [f"{INDEX_PREFIX}-*"],
        ["read", "indices:admin/mappings/get", "indices:admin/resolve/index"],
        [{"tenant_patterns": ["global_tenant"], "allowed_actions": ["kibana_all_read"]}],
    )
    analysts = list(settings.analyst_role_arns)
    return [
        {"kind": "security_role", "name": INGEST_ROLE, "body": ingest},
        {"kind": "security_role", "name": ANALYST_ROLE, "body": analyst},
        {"kind": "security_role_mapping", "name": INGEST_ROLE, "body": _mapping(["${ingest_role_arns}"])},
        {"kind": "security_role_mapping", "name": ANALYST_ROLE, "body": _mapping(analysts)},
        {"kind": "security_role_mapping", "name": "all_access", "body": _mapping(["${admin_role_arn}"])},
    ]


def ism_policy(family: str, hot_days: int, delete_days: int) -> dict[str, Any]:
    """Hot (writable) for hot_days, then read-only, deleted after delete_days (index age from creation)."""

    def after(days: int, state: str) -> list[dict[str, Any]]:
        return [{"state_name": state, "conditions": {"min_index_age": f"{days}d"}}]

    states = [
        {"name": "hot", "actions": [], "transitions": after(hot_days, "read_only")},
        {"name": "read_only", "actions": [{"read_only": {}}], "transitions": after(delete_days, "delete")},
        {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
    ]
    policy = {
        "description": f"{family}: hot {hot_days} days, deleted after {delete_days} days (managed by provision)",
        "default_state": "hot",
        "states": states,
        "ism_template": [{"index_patterns": [f"{INDEX_PREFIX}-{family}-*"], "priority": 100}],
    }
    return {"policy": policy}


def channel() -> dict[str, Any]:
    config = {
        "name": "Security alerts (SNS)",
        "description": "The stack's SNS alert topic (managed by provision)",
        "config_type": "sns",
        "is_enabled": True,
        "sns": {"topic_arn": "${alerts_topic_arn}", "role_arn": "${alerts_publish_role_arn}"},
    }
    return {"config_id": CHANNEL_ID, "config": config}


def build(settings: Settings, root: Path) -> dict[str, Any]:
    """The whole content, in apply order: {"objects": [{"kind", "name", "body"}, ...]}."""
    from provisioner.opensearch.monitors import monitors

    objects = security_objects(settings)
    for family in settings.families:
        objects.append(
            {
                "kind": "index_template",
                "name": templates.template_name(INDEX_PREFIX, family),
                "body": templates.index_template(INDEX_PREFIX, family),
            }
        )
    for family in settings.families:
        hot, delete = settings.retention[family]
        objects.append(
            {
                "kind": "ism_policy",
                "name": f"{INDEX_PREFIX}-{family}-retention",
                "body": ism_policy(family, hot, delete),
            }
        )
    objects.append({"kind": "notification_channel", "name": CHANNEL_ID, "body": channel()})
    for saved in dashboards.saved_objects(INDEX_PREFIX, settings.families):
        body = {"attributes": saved["attributes"], "references": saved["references"]}
        objects.append({"kind": "saved_object", "name": f"{saved['type']}/{saved['id']}", "body": body})
    for monitor in monitors(CHANNEL_ID, root, settings.placeholders or None):
        objects.append({"kind": "monitor", "name": monitor["name"], "body": monitor})
    return {"objects": objects}


def dumps(content: dict[str, Any]) -> str:
    """The canonical serialisation: what the module hashes and the Lambda receives."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"

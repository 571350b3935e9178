"""Composable index templates, one per index family the normalisers write (`logs-<source>-YYYY.MM.DD`).

Why the mappings look like this:
- Fields detections match on are keywords with a lowercase normalizer: sources vary in case ("No"/"NO"), and
  term queries on such a field are normalised the same way, so a rule's literal matches either spelling.
- Values whose type varies across events (CloudTrail requestParameters/responseElements/additionalEventData/
  serviceEventDetails, WAF rule lists) are `flat_object`: every leaf stays searchable by its dotted path and no
  event is rejected because another event gave the same key an object where it had a string.
- `date_detection` is off: a string that looks like a date in one event and not in the next must not turn a
  field into a date and get the second event rejected.
"""

from __future__ import annotations

import functools
from typing import Any

NORMALIZER = "lowercase_keyword"
PRIORITY = 200  # above the hand-applied `logs-security` template (priority 100) of earlier releases
FLAT = {"type": "flat_object"}
DATE = {"type": "date"}
LONG = {"type": "long"}
IP = {"type": "ip"}
KEYWORD = {"type": "keyword", "ignore_above": 1024}
MATCHED = {"type": "keyword", "ignore_above": 1024, "normalizer": NORMALIZER}
SEVERITY_BANDS = ("critical", "high", "medium", "low", "informational", "undefined")

# Dotted path -> mapping; nested into `properties` by _nest.
COMMON: dict[str, dict[str, Any]] = {
    "@timestamp": DATE,
    "message": {"type": "text"},
    "event.action": MATCHED,
    "event.provider": MATCHED,
    "event.outcome": MATCHED,
    "event.category": MATCHED,
    "event.type": MATCHED,
    "event.kind": KEYWORD,
    "event.dataset": KEYWORD,
    "event.id": KEYWORD,
    "event.severity": LONG,
    "event.created": DATE,
    "event.start": DATE,
    "event.end": DATE,
    "source.ip": IP,
    "source.address": MATCHED,
    "source.port": LONG,
    "source.geo.location": {"type": "geo_point"},
    "source.geo.country_iso_code": KEYWORD,
    "source.geo.country_name": KEYWORD,
    "source.as.number": LONG,
    "destination.ip": IP,
    "destination.port": LONG,
    "user.name": MATCHED,
    "user_agent.original": {"type": "keyword", "ignore_above": 2048, "normalizer": NORMALIZER},
    "http.request.method": MATCHED,
    "url.path": {"type": "keyword", "ignore_above": 2048},
    "cloud.account.id": KEYWORD,
    "cloud.region": KEYWORD,
    "cloud.instance.id": KEYWORD,
    "rule.id": MATCHED,
    "rule.name": MATCHED,
    "rule.ruleset": MATCHED,
}

FAMILIES: dict[str, dict[str, dict[str, Any]]] = {
    "cloudtrail": {
        "aws.cloudtrail.request_parameters": FLAT,
        "aws.cloudtrail.response_elements": FLAT,
        "aws.cloudtrail.additional_eventdata": FLAT,
        "aws.cloudtrail.service_event_details": FLAT,
        **{f"aws.cloudtrail.image_scan.severity_counts.{band}": LONG for band in SEVERITY_BANDS},
        "aws.cloudtrail.user_identity.type": MATCHED,
        "aws.cloudtrail.user_identity.arn": MATCHED,
        "aws.cloudtrail.user_identity.invoked_by": MATCHED,
        "aws.cloudtrail.error_code": MATCHED,
        "aws.cloudtrail.error_message": {"type": "text"},
        "aws.cloudtrail.event_type": MATCHED,
        "aws.cloudtrail.event_category": MATCHED,
        "aws.cloudtrail.recipient_account_id": KEYWORD,
    },
    "guardduty": {
        "aws.guardduty.type": MATCHED,
        "aws.guardduty.severity.value": {"type": "float"},
        "aws.guardduty.severity.label": MATCHED,
        "aws.guardduty.resource.type": MATCHED,
        "aws.guardduty.service.count": LONG,
        "aws.guardduty.service.archived": {"type": "boolean"},
        "aws.guardduty.title": {"type": "text"},
    },
    "waf": {
        "aws.waf.action": MATCHED,
        "aws.waf.terminating_rule_id": MATCHED,
        "aws.waf.terminating_rule_type": MATCHED,
        "aws.waf.labels": MATCHED,
        "aws.waf.terminating_rule_match_details": FLAT,
        "aws.waf.rule_group_list": FLAT,
        "aws.waf.rate_based_rule_list": FLAT,
        "aws.waf.non_terminating_matching_rules": FLAT,
        "url.query": {"type": "keyword", "ignore_above": 2048},
    },
}


def _nest(flat: dict[str, dict[str, Any]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(flat):
        node = root
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {"properties": {}})["properties"]
        node[leaf] = dict(flat[path])
    return root


@functools.cache
def lowercased_fields() -> frozenset[str]:
    """Every field path mapped with the lowercase normalizer, in any family."""
    mappings = [COMMON, *FAMILIES.values()]
    return frozenset(path for m in mappings for path, spec in m.items() if spec.get("normalizer") == NORMALIZER)


def template_name(prefix: str, family: str) -> str:
    return f"{prefix}-{family}"


def index_template(prefix: str, family: str) -> dict[str, Any]:
    """The `PUT _index_template/<prefix>-<family>` body."""
    return {
        "index_patterns": [f"{prefix}-{family}-*"],
        "priority": PRIORITY,
        "_meta": {"managed_by": "provision", "family": family},
        "template": {
            "settings": {
                "index": {
                    "number_of_shards": 1,
                    "mapping": {"total_fields": {"limit": 2000}},
                    "analysis": {"normalizer": {NORMALIZER: {"type": "custom", "filter": ["lowercase"]}}},
                }
            },
            "mappings": {
                "date_detection": False,
                "dynamic_templates": [
                    {"strings_as_keywords": {"match_mapping_type": "string", "mapping": dict(KEYWORD)}},
                ],
                "properties": _nest({**COMMON, **FAMILIES[family]}),
            },
        },
    }

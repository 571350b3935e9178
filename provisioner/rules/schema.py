"""The one field schema of the indices the normalisers write: dotted path -> OpenSearch mapping, per family.

Both consumers are built from it, so they cannot disagree: the index templates (`provisioner/opensearch/templates.py`
nests these mappings) and the rule validator's field types (`provisioner/rules/fields.py` derives keyword / text / ip
/ number / boolean / date from them). Why the mappings look like this:
- Fields detections match on are keywords with a lowercase normalizer: sources vary in case ("No"/"NO"), and term
  queries on such a field are normalised the same way, so a rule's literal matches either spelling.
- Free text (`message`, a GuardDuty title) is `text`: analysed into words, so no rule may select on it exactly; the
  validator refuses it. Error messages are short, fixed phrases rules want to match, so they are keywords.
- Values whose type varies across events (CloudTrail requestParameters/responseElements/additionalEventData/
  serviceEventDetails, WAF rule lists) are `flat_object`: every leaf stays searchable by its dotted path and no
  event is rejected because another event gave the same key an object where it had a string.
"""

from __future__ import annotations

from typing import Any

NORMALIZER = "lowercase_keyword"
FLAT = {"type": "flat_object"}
DATE = {"type": "date"}
LONG = {"type": "long"}
FLOAT = {"type": "float"}
BOOL = {"type": "boolean"}
IP = {"type": "ip"}
TEXT = {"type": "text"}
KEYWORD = {"type": "keyword", "ignore_above": 1024}
LONG_KEYWORD = {"type": "keyword", "ignore_above": 2048}
MATCHED = {"type": "keyword", "ignore_above": 1024, "normalizer": NORMALIZER}
SEVERITY_BANDS = ("critical", "high", "medium", "low", "informational", "undefined")

Mapping = dict[str, dict[str, Any]]


def _keywords(prefix: str, names: tuple[str, ...], spec: dict[str, Any] = KEYWORD) -> Mapping:
    return {f"{prefix}{name}": spec for name in names}


COMMON: Mapping = {
    "@timestamp": DATE,
    "message": TEXT,
    "event.action": MATCHED,
    "event.provider": MATCHED,
    "event.outcome": MATCHED,
    "event.category": MATCHED,
    "event.type": MATCHED,
    "event.severity": LONG,
    "event.created": DATE,
    "event.start": DATE,
    "event.end": DATE,
    **_keywords("event.", ("kind", "dataset", "id", "module")),
    "source.ip": IP,
    "source.address": MATCHED,
    "source.port": LONG,
    "source.geo.location": {"type": "geo_point"},
    "source.as.number": LONG,
    **_keywords("source.", ("geo.country_iso_code", "geo.country_name", "geo.city_name", "as.organization.name")),
    "destination.ip": IP,
    "destination.port": LONG,
    **_keywords("network.", ("transport", "direction")),
    "user.name": MATCHED,
    "user.id": KEYWORD,
    "user_agent.original": {**LONG_KEYWORD, "normalizer": NORMALIZER},
    "http.request.method": MATCHED,
    **_keywords("http.", ("request.id", "version")),
    "url.path": LONG_KEYWORD,
    "url.domain": KEYWORD,
    **_keywords("cloud.", ("provider", "account.id", "region", "instance.id")),
    **_keywords("rule.", ("id", "name", "ruleset"), MATCHED),
    "rule.category": KEYWORD,
}

_CT = "aws.cloudtrail."
_GD = "aws.guardduty."
FAMILIES: dict[str, Mapping] = {
    "cloudtrail": {
        **{f"{_CT}{name}": FLAT for name in ("request_parameters", "response_elements")},
        **{f"{_CT}{name}": FLAT for name in ("additional_eventdata", "service_event_details")},
        **{f"{_CT}image_scan.severity_counts.{band}": LONG for band in SEVERITY_BANDS},
        **_keywords(_CT, ("user_identity.type", "user_identity.arn", "user_identity.invoked_by"), MATCHED),
        **_keywords(_CT, ("error_code", "error_message", "event_type", "event_category"), MATCHED),
        **_keywords(_CT, ("event_version", "request_id", "recipient_account_id", "shared_event_id")),
        **_keywords(_CT, ("vpc_endpoint_id", "user_identity.access_key_id")),
        **_keywords(
            f"{_CT}user_identity.session_context.",
            ("mfa_authenticated", "creation_date", "session_issuer.type", "session_issuer.arn"),
        ),
        **_keywords(f"{_CT}user_identity.session_context.session_issuer.", ("principal_id", "account_id")),
        **_keywords(f"{_CT}resources.", ("type", "arn", "account_id")),
        f"{_CT}read_only": BOOL,
        f"{_CT}management_event": BOOL,
    },
    "guardduty": {
        f"{_GD}type": MATCHED,
        f"{_GD}severity.value": FLOAT,
        f"{_GD}severity.label": MATCHED,
        f"{_GD}resource.type": MATCHED,
        f"{_GD}service.count": LONG,
        f"{_GD}service.archived": BOOL,
        f"{_GD}title": TEXT,
        **_keywords(_GD, ("arn", "schema_version", "partition", "resource.instance_id", "resource.s3_bucket_names")),
        **_keywords(f"{_GD}service.", ("resource_role", "detector_id")),
        **_keywords(f"{_GD}resource.access_key_details.", ("access_key_id", "principal_id", "user_type", "user_name")),
    },
    "waf": {
        "aws.waf.action": MATCHED,
        **_keywords("aws.waf.", ("terminating_rule_id", "terminating_rule_type", "labels"), MATCHED),
        **_keywords("aws.waf.", ("arn", "source_name", "source_id")),
        **{f"aws.waf.{name}": FLAT for name in ("terminating_rule_match_details", "rule_group_list")},
        **{f"aws.waf.{name}": FLAT for name in ("rate_based_rule_list", "non_terminating_matching_rules")},
        "aws.waf.response_code_sent": LONG,
        "aws.waf.format_version": LONG,
        "url.query": LONG_KEYWORD,
    },
}


def all_fields() -> Mapping:
    """Every path of every family (a path means the same in each family that has it)."""
    merged: Mapping = dict(COMMON)
    for family in FAMILIES.values():
        merged.update(family)
    return merged

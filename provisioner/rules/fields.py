"""The fields the normalisers index, their OpenSearch types, and the pipeline from raw source names.

Rules are validated against this registry so that a typo fails at load time instead of never matching, and the
compiler knows which fields take `case_insensitive` term queries (keyword) and which are typed (ip, numbers,
booleans) in the index template.
"""

from __future__ import annotations

KEYWORD = "keyword"
IP = "ip"
NUMBER = "number"
BOOLEAN = "boolean"
DATE = "date"

_COMMON = {
    "@timestamp": DATE,
    "message": KEYWORD,
    "event.dataset": KEYWORD,
    "event.kind": KEYWORD,
    "event.module": KEYWORD,
    "event.action": KEYWORD,
    "event.provider": KEYWORD,
    "event.outcome": KEYWORD,
    "event.id": KEYWORD,
    "event.category": KEYWORD,
    "event.type": KEYWORD,
    "event.severity": NUMBER,
    "event.created": DATE,
    "event.start": DATE,
    "event.end": DATE,
    "cloud.provider": KEYWORD,
    "cloud.region": KEYWORD,
    "cloud.account.id": KEYWORD,
    "cloud.instance.id": KEYWORD,
    "source.address": KEYWORD,
    "source.ip": IP,
    "source.port": NUMBER,
    "source.geo.country_iso_code": KEYWORD,
    "source.geo.country_name": KEYWORD,
    "source.geo.city_name": KEYWORD,
    "source.as.number": NUMBER,
    "source.as.organization.name": KEYWORD,
    "destination.ip": IP,
    "destination.port": NUMBER,
    "network.transport": KEYWORD,
    "network.direction": KEYWORD,
    "user.name": KEYWORD,
    "user.id": KEYWORD,
    "user_agent.original": KEYWORD,
    "rule.id": KEYWORD,
    "rule.name": KEYWORD,
    "rule.category": KEYWORD,
    "rule.ruleset": KEYWORD,
    "http.request.method": KEYWORD,
    "http.request.id": KEYWORD,
    "http.version": KEYWORD,
    "url.path": KEYWORD,
    "url.query": KEYWORD,
    "url.domain": KEYWORD,
}
_CLOUDTRAIL = {
    f"aws.cloudtrail.{name}": KEYWORD
    for name in (
        "event_version",
        "event_type",
        "event_category",
        "request_id",
        "error_code",
        "error_message",
        "recipient_account_id",
        "shared_event_id",
        "vpc_endpoint_id",
        "user_identity.type",
        "user_identity.arn",
        "user_identity.access_key_id",
        "user_identity.invoked_by",
        "user_identity.session_context.mfa_authenticated",
        "user_identity.session_context.creation_date",
        "user_identity.session_context.session_issuer.type",
        "user_identity.session_context.session_issuer.arn",
        "user_identity.session_context.session_issuer.principal_id",
        "user_identity.session_context.session_issuer.account_id",
        "resources.type",
        "resources.arn",
        "resources.account_id",
    )
} | {
    "aws.cloudtrail.read_only": BOOLEAN,
    "aws.cloudtrail.management_event": BOOLEAN,
    **{
        f"aws.cloudtrail.image_scan.severity_counts.{level}": NUMBER
        for level in ("critical", "high", "medium", "low", "informational", "undefined")
    },
}
_WAF = {
    f"aws.waf.{name}": KEYWORD
    for name in (
        "action",
        "arn",
        "terminating_rule_type",
        "terminating_rule_id",
        "source_name",
        "source_id",
        "labels",
        "terminating_rule_match_details.conditionType",
        "terminating_rule_match_details.location",
        "terminating_rule_match_details.matchedData",
    )
} | {"aws.waf.response_code_sent": NUMBER, "aws.waf.format_version": NUMBER}
_GUARDDUTY = {
    f"aws.guardduty.{name}": KEYWORD
    for name in (
        "type",
        "title",
        "arn",
        "schema_version",
        "partition",
        "severity.label",
        "resource.type",
        "resource.instance_id",
        "resource.s3_bucket_names",
        "resource.access_key_details.access_key_id",
        "resource.access_key_details.principal_id",
        "resource.access_key_details.user_type",
        "resource.access_key_details.user_name",
        "service.resource_role",
        "service.detector_id",
    )
} | {
    "aws.guardduty.severity.value": NUMBER,
    "aws.guardduty.service.count": NUMBER,
    "aws.guardduty.service.archived": BOOLEAN,
}
FIELDS: dict[str, str] = _COMMON | _CLOUDTRAIL | _WAF | _GUARDDUTY

# Objects the normalisers store as lists: an alert template shows their first element.
LIST_PARENTS = (
    "aws.waf.terminating_rule_match_details",
    "aws.cloudtrail.resources",
    "aws.cloudtrail.request_parameters.ipPermissions.items",
)

# Stored as `flat_object`: any dotted sub-path is searchable, every leaf as a keyword string.
FLAT_OBJECTS = (
    "aws.cloudtrail.request_parameters",
    "aws.cloudtrail.response_elements",
    "aws.cloudtrail.additional_eventdata",
    "aws.cloudtrail.service_event_details",
)

_ISSUER = "aws.cloudtrail.user_identity.session_context.session_issuer"
# Raw CloudTrail names (as SigmaHQ's AWS rules write them) -> the normalised field.
_RAW_CLOUDTRAIL = {
    "eventName": "event.action",
    "eventSource": "event.provider",
    "eventID": "event.id",
    "awsRegion": "cloud.region",
    "sourceIPAddress": "source.address",
    "userAgent": "user_agent.original",
    "errorCode": "aws.cloudtrail.error_code",
    "errorMessage": "aws.cloudtrail.error_message",
    "eventType": "aws.cloudtrail.event_type",
    "eventCategory": "aws.cloudtrail.event_category",
    "eventVersion": "aws.cloudtrail.event_version",
    "readOnly": "aws.cloudtrail.read_only",
    "managementEvent": "aws.cloudtrail.management_event",
    "recipientAccountId": "aws.cloudtrail.recipient_account_id",
    "vpcEndpointId": "aws.cloudtrail.vpc_endpoint_id",
    "userIdentity.type": "aws.cloudtrail.user_identity.type",
    "userIdentity.arn": "aws.cloudtrail.user_identity.arn",
    "userIdentity.accessKeyId": "aws.cloudtrail.user_identity.access_key_id",
    "userIdentity.invokedBy": "aws.cloudtrail.user_identity.invoked_by",
    "userIdentity.userName": "user.name",
    "userIdentity.principalId": "user.id",
    "userIdentity.accountId": "cloud.account.id",
    "userIdentity.sessionContext.attributes.mfaAuthenticated": (
        "aws.cloudtrail.user_identity.session_context.mfa_authenticated"
    ),
    "userIdentity.sessionContext.sessionIssuer.type": f"{_ISSUER}.type",
    "userIdentity.sessionContext.sessionIssuer.arn": f"{_ISSUER}.arn",
    "userIdentity.sessionContext.sessionIssuer.userName": "user.name",
}
_RAW_PREFIXES = {
    "requestParameters.": "aws.cloudtrail.request_parameters.",
    "responseElements.": "aws.cloudtrail.response_elements.",
    "additionalEventData.": "aws.cloudtrail.additional_eventdata.",
    "serviceEventDetails.": "aws.cloudtrail.service_event_details.",
}


def map_field(name: str, source: str) -> str:
    """The processing pipeline: a raw source field name becomes the normalised one; others pass through."""
    if source != "cloudtrail" or name in FIELDS:
        return name
    if name in _RAW_CLOUDTRAIL:
        return _RAW_CLOUDTRAIL[name]
    for raw, mapped in _RAW_PREFIXES.items():
        if name.startswith(raw):
            return mapped + name[len(raw) :]
    return name


def field_type(name: str) -> str | None:
    """The indexed type of a field, KEYWORD for a flat_object sub-path, None when nothing indexes it."""
    known = FIELDS.get(name)
    if known is not None:
        return known
    for root in FLAT_OBJECTS:
        if name.startswith(root + ".") and len(name) > len(root) + 1:
            return KEYWORD
    return None


def is_flat(name: str) -> bool:
    """A sub-path of a flat_object field (OpenSearch supports no regexp query on those)."""
    return name not in FIELDS and any(name.startswith(root + ".") for root in FLAT_OBJECTS)

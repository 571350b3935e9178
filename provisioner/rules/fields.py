"""The fields the normalisers index with their types for rules, and the pipeline from raw source names.

The types come from the one field schema (`provisioner/rules/schema.py`) the index templates are built from, so a
rule is validated against what OpenSearch will really hold: a typo fails at load time instead of never matching,
the compiler knows which fields take `case_insensitive` term queries (keyword) and which are typed (ip, numbers,
booleans), and analysed `text` fields are refused as match targets.
"""

from __future__ import annotations

from provisioner.rules.schema import all_fields

KEYWORD = "keyword"
TEXT = "text"
IP = "ip"
NUMBER = "number"
BOOLEAN = "boolean"
DATE = "date"

# OpenSearch mapping type -> the validator's type; geo_point has no rule semantics and is left out.
_FROM_MAPPING = {
    "keyword": KEYWORD,
    "text": TEXT,
    "ip": IP,
    "long": NUMBER,
    "float": NUMBER,
    "boolean": BOOLEAN,
    "date": DATE,
}
_SCHEMA = all_fields()
FIELDS: dict[str, str] = {
    path: _FROM_MAPPING[spec["type"]] for path, spec in _SCHEMA.items() if spec["type"] in _FROM_MAPPING
}

# Objects the normalisers store as lists: an alert template shows their first element.
LIST_PARENTS = (
    "aws.waf.terminating_rule_match_details",
    "aws.cloudtrail.resources",
    "aws.cloudtrail.request_parameters.ipPermissions.items",
)

# Stored as `flat_object`: any dotted sub-path is searchable, every leaf as a keyword string.
FLAT_OBJECTS = tuple(path for path, spec in _SCHEMA.items() if spec["type"] == "flat_object")

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

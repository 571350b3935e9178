"""CloudTrail records to ECS from a CloudWatch Logs subscription, an S3 log object, JSON lines or an array."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from typing import Any

from provisioner.functions.common import clip, gunzip, parse_array, parse_each, unwrap
from provisioner.functions.errors import FunctionInputError
from provisioner.functions.logs.ecs import ip_or_none, iso_utc

DATASET = "aws.cloudtrail"
_MAX_TEXT = 4096


def records(data: bytes, source: str = "cloudtrail") -> tuple[list[Any], int]:
    """(records, skipped) from any supported container, unwrapping base64/gzip as needed."""
    text = unwrap(data, source).decode("utf-8", errors="replace").lstrip("\ufeff")
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            return records_from_object(json.loads(stripped), source)
        except json.JSONDecodeError:
            pass  # JSON lines, or a truncated document: fall through line by line
        except RecursionError:
            # One record too deep for the parser: the others are parsed one by one.
            found = parse_array(stripped)
            if found is not None:
                return found
    return parse_each([line for line in text.splitlines() if line.strip()])


def records_from_object(obj: Any, source: str = "cloudtrail") -> tuple[list[Any], int]:
    """Records from a parsed container: Lambda `awslogs` event, CWL payload, `{"Records"}`, list, record."""
    if isinstance(obj, list):
        return obj, 0
    if not isinstance(obj, dict):
        return [], 1
    if "awslogs" in obj:
        payload = obj["awslogs"].get("data") if isinstance(obj["awslogs"], dict) else None
        if not isinstance(payload, str):
            raise FunctionInputError(source, "awslogs event without a data string")
        try:
            raw = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise FunctionInputError(source, "awslogs.data is not base64") from None
        try:
            payload_obj = json.loads(gunzip(raw, source))
        except (ValueError, RecursionError):
            raise FunctionInputError(source, "awslogs.data is not a CloudWatch Logs payload") from None
        return records_from_object(payload_obj, source)
    if "logEvents" in obj:
        if obj.get("messageType") == "CONTROL_MESSAGE":
            return [], 0
        events = obj["logEvents"] if isinstance(obj["logEvents"], list) else []
        messages = [e["message"] for e in events if isinstance(e, dict) and isinstance(e.get("message"), str)]
        found, skipped = parse_each(messages)
        return found, skipped + len(events) - len(messages)
    if "Records" in obj:
        found = obj["Records"]
        return (found, 0) if isinstance(found, list) else ([], 1)
    return [obj], 0


def normalize(rec: dict[str, Any]) -> dict[str, Any]:
    """One ECS document; raises (KeyError/TypeError/ValueError) on a record that is not CloudTrail."""
    timestamp = iso_utc(rec["eventTime"])
    if timestamp is None:
        raise ValueError("eventTime is not a timestamp")
    identity = rec.get("userIdentity") or {}
    session = identity.get("sessionContext") or {}
    issuer = session.get("sessionIssuer") or {}
    error_code = rec.get("errorCode")
    response = rec.get("responseElements")
    failed = error_code is not None or (isinstance(response, dict) and response.get("ConsoleLogin") == "Failure")
    event: dict[str, Any] = {
        "dataset": DATASET,
        "kind": "event",
        "module": "aws",
        "action": rec["eventName"],
        "provider": rec.get("eventSource"),
        "outcome": "failure" if failed else "success",
    }
    if "eventID" in rec:
        event["id"] = rec["eventID"]
    doc: dict[str, Any] = {"@timestamp": timestamp, "event": event}
    cloud: dict[str, Any] = {"provider": "aws"}
    if "awsRegion" in rec:
        cloud["region"] = rec["awsRegion"]
    account = rec.get("recipientAccountId") or identity.get("accountId")
    if account:
        cloud["account"] = {"id": account}
    doc["cloud"] = cloud
    address = rec.get("sourceIPAddress")
    if isinstance(address, str):
        source_doc: dict[str, Any] = {"address": address}
        ip = ip_or_none(address)
        if ip:
            source_doc["ip"] = ip
        doc["source"] = source_doc
    agent = rec.get("userAgent")
    if isinstance(agent, str):
        doc["user_agent"] = {"original": clip(agent, _MAX_TEXT)}
    user = _user(identity, issuer)
    if user:
        doc["user"] = user
    doc["aws"] = {"cloudtrail": _aws_fields(rec, identity, session, issuer, response)}
    return doc


def _user(identity: dict[str, Any], issuer: dict[str, Any]) -> dict[str, Any]:
    """ECS `user`: the name from the identity, its session issuer or the ARN's last segment; the principal id."""
    user_name = identity.get("userName") or issuer.get("userName")
    arn = identity.get("arn")
    if not user_name and isinstance(arn, str) and "/" in arn:
        user_name = arn.rsplit("/", 1)[1]
    user: dict[str, Any] = {}
    if user_name:
        user["name"] = user_name
    principal = identity.get("principalId")
    if principal:
        user["id"] = principal
    return user


_SCALAR_FIELDS = {
    "eventVersion": "event_version",
    "eventType": "event_type",
    "eventCategory": "event_category",
    "requestID": "request_id",
    "errorCode": "error_code",
    "readOnly": "read_only",
    "managementEvent": "management_event",
    "recipientAccountId": "recipient_account_id",
    "sharedEventID": "shared_event_id",
    "vpcEndpointId": "vpc_endpoint_id",
}


_OBJECT_FIELDS = (
    ("requestParameters", "request_parameters"),
    ("responseElements", "response_elements"),
    ("additionalEventData", "additional_eventdata"),
    ("serviceEventDetails", "service_event_details"),
)
_SEVERITIES = ("critical", "high", "medium", "low", "informational", "undefined")


def _severity_counts(findings: Any) -> dict[str, int]:
    """ECR scan counts as integers: flat_object leaves are strings, and rules compare these as numbers."""
    counts = findings.get("findingSeverityCounts") if isinstance(findings, dict) else None
    if not isinstance(counts, dict):
        return {}
    out: dict[str, int] = {}
    for key, value in counts.items():
        name = str(key).lower()
        if name in _SEVERITIES and isinstance(value, int) and not isinstance(value, bool):
            out[name] = value
    return out


_IDENTITY_FIELDS = (("type", "type"), ("arn", "arn"), ("accessKeyId", "access_key_id"), ("invokedBy", "invoked_by"))
_ISSUER_FIELDS = (("type", "type"), ("arn", "arn"), ("principalId", "principal_id"), ("accountId", "account_id"))


def _user_identity(identity: dict[str, Any], session: dict[str, Any], issuer: dict[str, Any]) -> dict[str, Any]:
    """`aws.cloudtrail.user_identity`: the identity's own fields and, for an assumed role, its session context."""
    ui: dict[str, Any] = {}
    for key, name in _IDENTITY_FIELDS:
        value = identity.get(key)
        if value:
            ui[name] = value
    if session:
        attributes = session.get("attributes") or {}
        ctx: dict[str, Any] = {}
        if "mfaAuthenticated" in attributes:
            ctx["mfa_authenticated"] = attributes["mfaAuthenticated"]
        if "creationDate" in attributes:
            ctx["creation_date"] = attributes["creationDate"]
        if issuer:
            ctx["session_issuer"] = {name: value for key, name in _ISSUER_FIELDS if (value := issuer.get(key))}
        ui["session_context"] = ctx
    return ui


def _aws_fields(
    rec: dict[str, Any], identity: dict[str, Any], session: dict[str, Any], issuer: dict[str, Any], response: Any
) -> dict[str, Any]:
    # Hot path: one pass over the record's own keys (usually fewer than the names we look for), and `response`
    # is the record's responseElements that normalize already read.
    out: dict[str, Any] = {}
    for key, value in rec.items():
        name = _SCALAR_FIELDS.get(key)
        if name is not None and value is not None:
            out[name] = value
    if isinstance(rec.get("errorMessage"), str):
        out["error_message"] = clip(rec["errorMessage"], _MAX_TEXT)
    ui = _user_identity(identity, session, issuer)
    if ui:
        out["user_identity"] = ui
    for key, name in _OBJECT_FIELDS:
        value = rec.get(key)
        if value is not None:
            # Kept as objects (mapped `flat_object`: every leaf searchable by dotted path, no mapping explosion).
            # A non-object value (CloudTrail sends a string for some calls) is wrapped so the mapping holds.
            out[name] = value if isinstance(value, dict) else {"value": value}
    if isinstance(response, dict) and "imageScanFindings" in response:
        counts = _severity_counts(response["imageScanFindings"])
        if counts:
            out["image_scan"] = {"severity_counts": counts}
    resources = rec.get("resources")
    if isinstance(resources, list):
        out["resources"] = [
            {"type": r.get("type"), "arn": r.get("ARN"), "account_id": r.get("accountId")}
            for r in resources
            if isinstance(r, dict)
        ]
    return out


def normalize_all(recs: Iterable[Any]) -> tuple[list[dict[str, Any]], int]:
    docs: list[dict[str, Any]] = []
    skipped = 0
    append = docs.append
    for rec in recs:
        try:
            append(normalize(rec))
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
            skipped += 1
    return docs, skipped

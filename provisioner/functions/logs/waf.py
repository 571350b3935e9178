"""AWS WAF (v2) web ACL logs to ECS, and the Firehose data-transformation processor around it."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
from typing import Any
from urllib.parse import unquote_plus

from provisioner.functions.common import clip, parse_record
from provisioner.functions.logs.ecs import ip_or_none, iso_from_epoch_ms

DATASET = "aws.waf"
_MAX_TEXT = 8192
# Query-string parameters whose values never reach the index (as WAF logging redacts the Authorization and
# Cookie headers); names compare case-insensitively after URL decoding. REDACT_QUERY_PARAMETERS (the waf
# module's `redact_query_parameters`) adds comma-separated names to these.
SENSITIVE_QUERY_PARAMETERS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "auth",
        "client_secret",
        "code",
        "id_token",
        "passwd",
        "password",
        "pwd",
        "refresh_token",
        "secret",
        "session",
        "sessionid",
        "signature",
        "token",
        "x-amz-credential",
        "x-amz-security-token",
        "x-amz-signature",
    }
)
REDACT_ENV = "REDACT_QUERY_PARAMETERS"
REDACTED = "REDACTED"


@functools.lru_cache(maxsize=4)
def _sensitive(extra: str) -> frozenset[str]:
    return SENSITIVE_QUERY_PARAMETERS | {name.strip().lower() for name in extra.split(",") if name.strip()}


def redact_query(query: str) -> str:
    """The query string with the value of every sensitive parameter replaced by REDACTED."""
    names = _sensitive(os.environ.get(REDACT_ENV, ""))
    parts = query.split("&")
    for n, part in enumerate(parts):
        name, eq, _ = part.partition("=")
        if eq and unquote_plus(name).strip().lower() in names:
            parts[n] = f"{name}={REDACTED}"
    return "&".join(parts)


def _arn_parts(arn: Any) -> tuple[str | None, str | None]:
    """(region, account) of arn:aws:wafv2:REGION:ACCOUNT:...; CloudFront (global) ACLs have us-east-1."""
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None, None
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None, None
    return parts[3] or None, parts[4] or None


def normalize(rec: dict[str, Any]) -> dict[str, Any]:
    """One ECS document; raises on a record that is not a WAF log."""
    timestamp = iso_from_epoch_ms(rec["timestamp"])
    if timestamp is None:
        raise ValueError("timestamp is not epoch milliseconds")
    request = rec["httpRequest"]
    if not isinstance(request, dict):
        raise TypeError("httpRequest is not an object")
    action = str(rec["action"])
    terminating = rec.get("terminatingRuleId")
    event: dict[str, Any] = {
        "dataset": DATASET,
        "kind": "event",
        "module": "aws",
        "category": ["web"],
        "action": action.lower(),
        "type": ["denied"] if action == "BLOCK" else ["allowed"] if action == "ALLOW" else ["info"],
    }
    doc: dict[str, Any] = {"@timestamp": timestamp, "event": event, "cloud": _cloud(rec.get("webaclId"))}
    source = _source(request)
    if source:
        doc["source"] = source
    doc["http"] = _http(request)
    _url_and_agent(doc, request)
    rule: dict[str, Any] = {}
    if terminating:
        rule["id"] = terminating
    group = _terminating_group(rec.get("ruleGroupList"))
    if group:
        rule["ruleset"] = group
    if rule:
        doc["rule"] = rule
    doc["aws"] = {"waf": _aws_fields(rec, terminating)}
    return doc


def _cloud(webacl_arn: Any) -> dict[str, Any]:
    region, account = _arn_parts(webacl_arn)
    cloud: dict[str, Any] = {"provider": "aws"}
    if region:
        cloud["region"] = region
    if account:
        cloud["account"] = {"id": account}
    return cloud


def _source(request: dict[str, Any]) -> dict[str, Any]:
    source: dict[str, Any] = {}
    client_ip = request.get("clientIp")
    if isinstance(client_ip, str):
        source["address"] = client_ip
        ip = ip_or_none(client_ip)
        if ip:
            source["ip"] = ip
    if request.get("country"):
        source["geo"] = {"country_iso_code": request["country"]}
    return source


def _http(request: dict[str, Any]) -> dict[str, Any]:
    http: dict[str, Any] = {"request": {}}
    if request.get("httpMethod"):
        http["request"]["method"] = request["httpMethod"]
    if request.get("requestId"):
        http["request"]["id"] = request["requestId"]
    version = request.get("httpVersion")
    if isinstance(version, str) and version.startswith("HTTP/"):
        http["version"] = version[5:]
    return http


def _url_and_agent(doc: dict[str, Any], request: dict[str, Any]) -> None:
    """`url` from the URI, query and Host header; `user_agent` from its header (headers are a list of pairs)."""
    url: dict[str, Any] = {}
    if request.get("uri"):
        url["path"] = clip(str(request["uri"]), _MAX_TEXT)
    if request.get("args"):
        url["query"] = clip(redact_query(str(request["args"])), _MAX_TEXT)
    headers = request.get("headers")
    for header in headers if isinstance(headers, list) else ():
        if not isinstance(header, dict):
            continue
        name = str(header.get("name", "")).lower()
        if name == "host" and header.get("value"):
            url["domain"] = str(header["value"])
        elif name == "user-agent" and header.get("value"):
            doc["user_agent"] = {"original": clip(str(header["value"]), _MAX_TEXT)}
    if url:
        doc["url"] = url


def _terminating_group(groups: Any) -> str | None:
    if not isinstance(groups, list):
        return None
    for group in groups:
        if isinstance(group, dict) and group.get("terminatingRule"):
            return str(group.get("ruleGroupId"))
    return None


def _aws_fields(rec: dict[str, Any], terminating: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"action": rec["action"]}
    for key, name in (
        ("webaclId", "arn"),
        ("terminatingRuleType", "terminating_rule_type"),
        ("httpSourceName", "source_name"),
        ("httpSourceId", "source_id"),
        ("formatVersion", "format_version"),
        ("responseCodeSent", "response_code_sent"),
    ):
        if rec.get(key) is not None:
            out[name] = rec[key]
    if terminating:
        out["terminating_rule_id"] = terminating
    details = rec.get("terminatingRuleMatchDetails")
    if details:
        out["terminating_rule_match_details"] = details
    groups = rec.get("ruleGroupList")
    if isinstance(groups, list) and groups:
        out["rule_group_list"] = groups
    for key, name in (
        ("nonTerminatingMatchingRules", "non_terminating_matching_rules"),
        ("rateBasedRuleList", "rate_based_rule_list"),
    ):
        if rec.get(key):
            out[name] = rec[key]
    labels = rec.get("labels")
    if isinstance(labels, list):
        out["labels"] = [str(label.get("name")) for label in labels if isinstance(label, dict) and label.get("name")]
    return out


def transform_firehose(event: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The Firehose response: every record `Ok` (normalised) or `ProcessingFailed` (original data kept)."""
    output = []
    failed = 0
    records = event.get("records")
    for record in records if isinstance(records, list) else []:
        record_id = record.get("recordId", "") if isinstance(record, dict) else ""
        data = record.get("data", "") if isinstance(record, dict) else ""
        try:
            doc = normalize(parse_record(base64.b64decode(data, validate=True).decode()))
            encoded = base64.b64encode(json.dumps(doc, separators=(",", ":")).encode() + b"\n").decode()
            output.append({"recordId": record_id, "result": "Ok", "data": encoded})
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError, binascii.Error):
            failed += 1
            output.append(
                {
                    "recordId": record_id,
                    "result": "ProcessingFailed",
                    "data": data if isinstance(data, str) else "",
                }
            )
    return {"records": output}, failed

"""The built-in attacks (`techniques.json`) and the records each one produces, as AWS delivers them.

A CloudTrail technique holds each record's own fields (event source and name, parameters, response); the
envelope every management event carries (version, time, ids, identity, source address, account, region) is
filled in here, so the records read as CloudTrail writes them into the trail's log group. A GuardDuty technique
holds a finding, sent as the EventBridge event GuardDuty emits (`source: aws.guardduty`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CATALOGUE = Path(__file__).with_name("techniques.json")
SOURCE_ADDRESS = "203.0.113.45"  # TEST-NET-3 (RFC 5737): documentation addresses only
USER_AGENT = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off"
INTRUDER = "demo-intruder"


@dataclass(frozen=True)
class Technique:
    name: str
    title: str
    attack: tuple[str, ...]
    source: str  # cloudtrail | guardduty
    rule: str  # the rule written for it: its alert must fire
    references: tuple[str, ...]
    body: dict[str, Any]  # `records` (CloudTrail) or `finding` (GuardDuty)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "attack": list(self.attack),
            "source": self.source,
            "rule": self.rule,
            "references": list(self.references),
        }


@dataclass(frozen=True)
class Target:
    """Where the records claim to come from: the emulator's account and the stack's region and prefix."""

    account: str
    region: str
    prefix: str


def load() -> dict[str, Technique]:
    data = json.loads(CATALOGUE.read_text())
    out = {}
    for item in data["techniques"]:
        body = {k: item[k] for k in ("records", "finding") if k in item}
        out[item["name"]] = Technique(
            item["name"],
            item["title"],
            tuple(item["attack"]),
            item["source"],
            item["rule"],
            tuple(item["references"]),
            body,
        )
    return out


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, text in values.items():
            value = value.replace("{" + key + "}", text)
        return value
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    return value


def _stamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cloudtrail_records(technique: Technique, target: Target, now: datetime) -> list[dict[str, Any]]:
    records = []
    for own in technique.body["records"]:
        request_id = str(uuid.uuid4())
        values = {"account": target.account, "region": target.region, "prefix": target.prefix}
        values |= {"time_text": _stamp(now), "request_id": request_id}
        identity = {
            "type": "IAMUser",
            "principalId": "AIDAJDPLRKLG7UEXAMPLE",
            "arn": f"arn:aws:iam::{target.account}:user/{INTRUDER}",
            "accountId": target.account,
            "accessKeyId": "AKIAI44QH8DHBEXAMPLE",
            "userName": INTRUDER,
        }
        record: dict[str, Any] = {
            "eventVersion": "1.09",
            "userIdentity": identity,
            "eventTime": _stamp(now),
            "awsRegion": target.region,
            "sourceIPAddress": SOURCE_ADDRESS,
            "userAgent": USER_AGENT,
            "requestID": request_id,
            "eventID": str(uuid.uuid4()),
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": target.account,
            "eventCategory": "Management",
        }
        record.update(_fill(own, values))
        records.append(record)
    return records


def guardduty_event(technique: Technique, target: Target, now: datetime) -> dict[str, Any]:
    """The `GuardDuty Finding` event EventBridge delivers (detail = the finding)."""
    finding_id = uuid.uuid4().hex
    finding = _fill(technique.body["finding"], {"time_text": _stamp(now)})
    detector = finding["service"]["detectorId"]
    finding |= {
        "accountId": target.account,
        "region": target.region,
        "partition": "aws",
        "id": finding_id,
        "arn": f"arn:aws:guardduty:{target.region}:{target.account}:detector/{detector}/finding/{finding_id}",
        "createdAt": _stamp(now),
        "updatedAt": _stamp(now),
    }
    return {"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": finding}

"""Read one GuardDuty finding from what arrives: an EventBridge event, a raw finding, or GetFindings output.

Everything here is defensive: a finding is untrusted input, so every field is read with a type check and a
malformed one raises `MalformedFinding` with the reason (the handler turns that into a notified no-action).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from provisioner.functions.common import as_dict

INSTANCE_ID_RE = re.compile(r"^i-[0-9a-f]{8,17}$")
ACCESS_KEY_RE = re.compile(r"^(AKIA|ASIA)[A-Z0-9]{12,124}$")
FINDING_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,300}$")
_TYPE_RE = re.compile(r"^[A-Za-z]+:[A-Za-z0-9]+/[\w.!:&-]+$")  # `&`: real types such as Backdoor:EC2/C&CActivity.B!DNS


class MalformedFinding(ValueError):
    """The event is not a usable GuardDuty finding; the message says why."""


@dataclass(frozen=True)
class Finding:
    id: str
    type: str
    severity: float
    account_id: str
    region: str
    detector_id: str
    arn: str
    resource_type: str
    sample: bool
    archived: bool
    updated_at: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def resource(self) -> dict[str, Any]:
        return as_dict(self.raw.get("resource"))

    @property
    def service(self) -> dict[str, Any]:
        return as_dict(self.raw.get("service"))

    @property
    def instance_id(self) -> str | None:
        value = as_dict(self.resource.get("instanceDetails")).get("instanceId")
        return value if isinstance(value, str) else None

    @property
    def instance_tags(self) -> dict[str, str]:
        tags = as_dict(self.resource.get("instanceDetails")).get("tags")
        items = tags if isinstance(tags, list) else []
        return {str(t.get("key")): str(t.get("value")) for t in items if isinstance(t, dict) and "key" in t}

    @property
    def access_key(self) -> dict[str, Any]:
        return as_dict(self.resource.get("accessKeyDetails"))


def _camel(value: Any) -> Any:
    """GetFindings output (boto3/CLI) is PascalCase; the EventBridge detail is camelCase. Read both."""
    if isinstance(value, dict):
        return {(k[:1].lower() + k[1:] if isinstance(k, str) else k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def unwrap(event: Any) -> dict[str, Any]:
    """The finding inside an EventBridge envelope, a `{"Findings": [one]}` document, or the finding itself."""
    if not isinstance(event, dict):
        raise MalformedFinding(f"expected a JSON object, got {type(event).__name__}")
    if "detail" in event or "detail-type" in event:
        if event.get("source") != "aws.guardduty" or event.get("detail-type") != "GuardDuty Finding":
            raise MalformedFinding(
                f"not a GuardDuty finding event (source {event.get('source')!r}, "
                f"detail-type {event.get('detail-type')!r})"
            )
        event = event.get("detail")
    elif isinstance(event.get("Findings"), list):
        if len(event["Findings"]) != 1:
            raise MalformedFinding(f"expected exactly one finding, got {len(event['Findings'])}")
        event = event["Findings"][0]
    if not isinstance(event, dict):
        raise MalformedFinding("the finding is not a JSON object")
    return dict(_camel(event)) if "Id" in event or "Type" in event else event


def _severity(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedFinding(f"severity {value!r} is not a number")
    if not 0.0 <= float(value) <= 10.0:
        raise MalformedFinding(f"severity {value} is outside 0-10")
    return float(value)


def _is_sample(info: Any) -> bool:
    """GuardDuty marks generated samples in `additionalInfo`: `{"sample": true}` in events, and in GetFindings
    output as `{"Type": "default", "Value": "{\\"sample\\":true}"}`, a JSON *string*."""
    info = as_dict(info)
    if info.get("sample") is True:
        return True
    value = info.get("value")
    if isinstance(value, str) and len(value) <= 65536:
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return False
    return as_dict(value).get("sample") is True


def parse_finding(event: Any) -> Finding:
    raw = unwrap(event)
    finding_id, finding_type = raw.get("id"), raw.get("type")
    if not isinstance(finding_id, str) or not FINDING_ID_RE.match(finding_id):
        raise MalformedFinding(f"missing or invalid finding id {finding_id!r}")
    if not isinstance(finding_type, str) or not _TYPE_RE.match(finding_type):
        raise MalformedFinding(f"missing or invalid finding type {finding_type!r}")
    service = as_dict(raw.get("service"))
    resource = as_dict(raw.get("resource"))
    return Finding(
        id=finding_id,
        type=finding_type,
        severity=_severity(raw.get("severity")),
        account_id=str(raw.get("accountId") or ""),
        region=str(raw.get("region") or ""),
        detector_id=str(service.get("detectorId") or ""),
        arn=str(raw.get("arn") or ""),
        resource_type=str(resource.get("resourceType") or ""),
        sample=_is_sample(service.get("additionalInfo")),
        archived=service.get("archived") is True,
        updated_at=str(raw.get("updatedAt") or ""),
        raw=raw,
    )

"""GuardDuty findings (EventBridge event or bare finding) to ECS."""

from __future__ import annotations

from typing import Any

from provisioner.functions.common import as_dict, clip
from provisioner.functions.logs.ecs import ip_or_none, to_iso_utc

DATASET = "aws.guardduty"
_ACTIONS = (
    "awsApiCallAction",
    "networkConnectionAction",
    "kubernetesApiCallAction",
    "rdsLoginAttemptAction",
)
_DIRECTION = {"INBOUND": "ingress", "OUTBOUND": "egress"}
# (GuardDuty key, ECS `aws.guardduty` key) pairs copied when present.
_FINDING_FIELDS = (("title", "title"), ("arn", "arn"), ("schemaVersion", "schema_version"), ("partition", "partition"))
_ACCESS_KEY_FIELDS = (
    ("accessKeyId", "access_key_id"),
    ("principalId", "principal_id"),
    ("userType", "user_type"),
    ("userName", "user_name"),
)
_SERVICE_FIELDS = (
    ("count", "count"),
    ("archived", "archived"),
    ("resourceRole", "resource_role"),
    ("detectorId", "detector_id"),
)


def severity_label(value: float) -> str:
    """GuardDuty's bands: Low 0.1-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0."""
    if value >= 9.0:
        return "Critical"
    if value >= 7.0:
        return "High"
    if value >= 4.0:
        return "Medium"
    return "Low"


def finding_of(rec: dict[str, Any]) -> dict[str, Any]:
    """The finding inside an EventBridge event, or the record itself when it is a bare finding."""
    if "detail" in rec and (rec.get("source") == "aws.guardduty" or "detail-type" in rec):
        detail = rec["detail"]
        if not isinstance(detail, dict):
            raise TypeError("detail is not an object")
        return detail
    return rec


def _remote_ip_details(action: dict[str, Any]) -> dict[str, Any] | None:
    for key in _ACTIONS:
        details = as_dict(action.get(key)).get("remoteIpDetails")
        if isinstance(details, dict):
            return details
    probe = action.get("portProbeAction")
    if isinstance(probe, dict):
        for detail in probe.get("portProbeDetails") or []:
            details = as_dict(detail).get("remoteIpDetails")
            if isinstance(details, dict):
                return details
    return None


def normalize(rec: dict[str, Any]) -> dict[str, Any]:
    finding = finding_of(rec)
    finding_type = finding["type"]
    if not isinstance(finding_type, str):
        raise TypeError("type is not a string")
    severity = float(finding["severity"])
    timestamp = (
        to_iso_utc(finding.get("updatedAt")) or to_iso_utc(finding.get("createdAt")) or to_iso_utc(rec.get("time"))
    )
    if timestamp is None:
        raise ValueError("no updatedAt/createdAt timestamp")
    service = as_dict(finding.get("service"))
    action = as_dict(service.get("action"))
    resource = as_dict(finding.get("resource"))
    instance = as_dict(resource.get("instanceDetails"))
    doc: dict[str, Any] = {"@timestamp": timestamp, "event": _event(finding, service, action, severity)}
    if isinstance(finding.get("description"), str):
        doc["message"] = clip(finding["description"], 8192)
    doc["cloud"] = _cloud(finding, instance)
    doc["rule"] = {"name": finding_type, "category": finding_type.split(":", 1)[0]}
    remote = _remote_ip_details(action)
    if remote:
        doc["source"] = _source(remote)
    network = action.get("networkConnectionAction")
    if isinstance(network, dict):
        _network(doc, network)
    keys = as_dict(resource.get("accessKeyDetails"))
    if keys.get("userName"):
        doc["user"] = {"name": keys["userName"]}
    doc["aws"] = {"guardduty": _aws_fields(finding, severity, _resource_fields(resource, instance, keys), service)}
    return doc


def _event(finding: dict[str, Any], service: dict[str, Any], action: dict[str, Any], severity: float) -> dict[str, Any]:
    action_type = action.get("actionType")
    event: dict[str, Any] = {
        "dataset": DATASET,
        "kind": "alert",
        "module": "aws",
        "category": ["threat"],
        "action": str(action_type).lower() if action_type else finding["type"],
        "severity": round(severity),
    }
    if finding.get("id"):
        event["id"] = finding["id"]
    created = to_iso_utc(finding.get("createdAt"))
    if created:
        event["created"] = created
    first, last = to_iso_utc(service.get("eventFirstSeen")), to_iso_utc(service.get("eventLastSeen"))
    if first:
        event["start"] = first
    if last:
        event["end"] = last
    return event


def _cloud(finding: dict[str, Any], instance: dict[str, Any]) -> dict[str, Any]:
    cloud: dict[str, Any] = {"provider": "aws"}
    if finding.get("region"):
        cloud["region"] = finding["region"]
    if finding.get("accountId"):
        cloud["account"] = {"id": finding["accountId"]}
    if instance.get("instanceId"):
        cloud["instance"] = {"id": instance["instanceId"]}
    return cloud


def _source(remote: dict[str, Any]) -> dict[str, Any]:
    source: dict[str, Any] = {}
    raw = remote.get("ipAddressV4") or remote.get("ipAddressV6")
    if isinstance(raw, str):
        source["address"] = raw
        ip = ip_or_none(raw)
        if ip:
            source["ip"] = ip
    geo: dict[str, Any] = {}
    country = remote.get("country") or {}
    city = remote.get("city") or {}
    location = remote.get("geoLocation") or {}
    if country.get("countryName"):
        geo["country_name"] = country["countryName"]
    if city.get("cityName"):
        geo["city_name"] = city["cityName"]
    if isinstance(location.get("lat"), int | float) and isinstance(location.get("lon"), int | float):
        geo["location"] = {"lat": location["lat"], "lon": location["lon"]}
    if geo:
        source["geo"] = geo
    org = remote.get("organization") or {}
    as_doc: dict[str, Any] = {}
    if org.get("asnOrg"):
        as_doc["organization"] = {"name": org["asnOrg"]}
    asn = str(org.get("asn", ""))
    if asn.isdigit():
        as_doc["number"] = int(asn)
    if as_doc:
        source["as"] = as_doc
    return source


def _network(doc: dict[str, Any], network: dict[str, Any]) -> None:
    net: dict[str, Any] = {}
    if network.get("protocol"):
        net["transport"] = str(network["protocol"]).lower()
    direction = _DIRECTION.get(str(network.get("connectionDirection")))
    if direction:
        net["direction"] = direction
    if net:
        doc["network"] = net
    remote_port = (network.get("remotePortDetails") or {}).get("port")
    local_port = (network.get("localPortDetails") or {}).get("port")
    if isinstance(remote_port, int) and "source" in doc:
        doc["source"]["port"] = remote_port
    local_ip = ip_or_none((network.get("localIpDetails") or {}).get("ipAddressV4"))
    destination: dict[str, Any] = {}
    if local_ip:
        destination["ip"] = local_ip
    if isinstance(local_port, int):
        destination["port"] = local_port
    if destination:
        doc["destination"] = destination


def _resource_fields(resource: dict[str, Any], instance: dict[str, Any], keys: dict[str, Any]) -> dict[str, Any]:
    res: dict[str, Any] = {}
    if resource.get("resourceType"):
        res["type"] = resource["resourceType"]
    if instance.get("instanceId"):
        res["instance_id"] = instance["instanceId"]
    if keys:
        res["access_key_details"] = {k2: keys[k1] for k1, k2 in _ACCESS_KEY_FIELDS if keys.get(k1)}
    buckets = resource.get("s3BucketDetails")
    if isinstance(buckets, list):
        res["s3_bucket_names"] = [b["name"] for b in buckets if isinstance(b, dict) and b.get("name")]
    return res


def _aws_fields(
    finding: dict[str, Any], severity: float, resource: dict[str, Any], service: dict[str, Any]
) -> dict[str, Any]:
    """`aws.guardduty`: the finding's own fields, the resource fields already built, the service counters."""
    out: dict[str, Any] = {
        "type": finding["type"],
        "severity": {"value": severity, "label": severity_label(severity)},
    }
    for key, name in _FINDING_FIELDS:
        if finding.get(key):
            out[name] = finding[key]
    if resource:
        out["resource"] = resource
    svc = {name: service[key] for key, name in _SERVICE_FIELDS if service.get(key) is not None}
    if svc:
        out["service"] = svc
    return out

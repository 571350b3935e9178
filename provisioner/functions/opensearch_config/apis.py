"""How each kind of content object is read back and written: one small reader/writer pair per API.

An object is `{"kind", "name", "body"}`; `body` is exactly the request body that creates it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from provisioner.functions.opensearch_config.client import Client

_NOT_FOUND = (404,)


@dataclass
class Current:
    """What OpenSearch holds for an object, in the body's shape, plus what an update needs."""

    body: Any
    ref: dict[str, Any] = field(default_factory=dict)


def _q(name: str) -> str:
    return quote(name, safe="")


# ---------------------------------------------------------------- security plugin (roles, role mappings)


def _security_path(kind: str, name: str) -> str:
    return f"_plugins/_security/api/{'roles' if kind == 'security_role' else 'rolesmapping'}/{_q(name)}"


def _read_security(client: Client, kind: str, name: str) -> Current | None:
    status, data = client.request("GET", _security_path(kind, name), allow=_NOT_FOUND)
    if status == 404 or name not in data:
        return None
    return Current(data[name])


def _write_security(client: Client, obj: dict[str, Any], current: Current | None) -> None:
    client.request("PUT", _security_path(obj["kind"], obj["name"]), obj["body"])


# ---------------------------------------------------------------- composable index templates


def _read_template(client: Client, kind: str, name: str) -> Current | None:
    status, data = client.request("GET", f"_index_template/{_q(name)}", allow=_NOT_FOUND)
    templates = data.get("index_templates") or [] if status != 404 else []
    return Current(templates[0]["index_template"]) if templates else None


def _write_template(client: Client, obj: dict[str, Any], current: Current | None) -> None:
    client.request("PUT", f"_index_template/{_q(obj['name'])}", obj["body"])


# ---------------------------------------------------------------- Index State Management policies


def _read_ism(client: Client, kind: str, name: str) -> Current | None:
    status, data = client.request("GET", f"_plugins/_ism/policies/{_q(name)}", allow=_NOT_FOUND)
    if status == 404 or "policy" not in data:
        return None
    return Current(
        {"policy": data["policy"]}, {"seq_no": data.get("_seq_no"), "primary_term": data.get("_primary_term")}
    )


def _write_ism(client: Client, obj: dict[str, Any], current: Current | None) -> None:
    path = f"_plugins/_ism/policies/{_q(obj['name'])}"
    if current is not None:  # ISM refuses an update without the version it replaces
        path += f"?if_seq_no={current.ref['seq_no']}&if_primary_term={current.ref['primary_term']}"
    client.request("PUT", path, obj["body"])


# ---------------------------------------------------------------- Notifications channels


def _read_channel(client: Client, kind: str, name: str) -> Current | None:
    status, data = client.request("GET", f"_plugins/_notifications/configs/{_q(name)}", allow=_NOT_FOUND)
    configs = data.get("config_list") or [] if status != 404 else []
    return Current({"config_id": name, "config": configs[0]["config"]}) if configs else None


def _write_channel(client: Client, obj: dict[str, Any], current: Current | None) -> None:
    if current is None:
        client.request("POST", "_plugins/_notifications/configs", obj["body"])
    else:
        client.request("PUT", f"_plugins/_notifications/configs/{_q(obj['name'])}", {"config": obj["body"]["config"]})


# ---------------------------------------------------------------- Dashboards saved objects (name = "<type>/<id>")


def _read_saved_object(client: Client, kind: str, name: str) -> Current | None:
    type_, _, id_ = name.partition("/")
    status, data = client.request("GET", f"_dashboards/api/saved_objects/{type_}/{_q(id_)}", allow=_NOT_FOUND)
    if status == 404 or "attributes" not in data:
        return None
    return Current({"attributes": data["attributes"], "references": data.get("references", [])})


def _write_saved_object(client: Client, obj: dict[str, Any], current: Current | None) -> None:
    type_, _, id_ = obj["name"].partition("/")
    client.request("POST", f"_dashboards/api/saved_objects/{type_}/{_q(id_)}?overwrite=true", obj["body"])


# ---------------------------------------------------------------- Alerting monitors (found by name)


def monitor_search(name: str) -> dict[str, Any]:
    """Search body finding monitors by exact name (the Alerting config index maps name with a keyword subfield)."""
    return {"size": 10, "query": {"term": {"monitor.name.keyword": name}}}


def _read_monitor(client: Client, kind: str, name: str) -> Current | None:
    query = monitor_search(name)
    # Before the first monitor exists the alerting config index is missing: 404 means "none".
    status, data = client.request("POST", "_plugins/_alerting/monitors/_search", query, allow=_NOT_FOUND)
    hits = ((data.get("hits") or {}).get("hits") or []) if status != 404 else []
    if not hits:
        return None
    monitor_id = hits[0]["_id"]
    _, found = client.request("GET", f"_plugins/_alerting/monitors/{_q(monitor_id)}")
    ref = {"id": monitor_id, "seq_no": found.get("_seq_no"), "primary_term": found.get("_primary_term")}
    return Current(found.get("monitor", {}), ref | {"duplicates": len(hits) - 1})


def _write_monitor(client: Client, obj: dict[str, Any], current: Current | None) -> None:
    if current is None:
        client.request("POST", "_plugins/_alerting/monitors", obj["body"])
        return
    ref = current.ref
    path = f"_plugins/_alerting/monitors/{_q(ref['id'])}"
    if ref.get("seq_no") is not None:
        path += f"?if_seq_no={ref['seq_no']}&if_primary_term={ref['primary_term']}"
    client.request("PUT", path, obj["body"])


Reader = Callable[[Client, str, str], "Current | None"]
Writer = Callable[[Client, dict[str, Any], "Current | None"], None]

# Applied in this order: roles before their mappings, the channel before the monitors that name it.
KINDS: dict[str, tuple[Reader, Writer]] = {
    "security_role": (_read_security, _write_security),
    "security_role_mapping": (_read_security, _write_security),
    "index_template": (_read_template, _write_template),
    "ism_policy": (_read_ism, _write_ism),
    "notification_channel": (_read_channel, _write_channel),
    "saved_object": (_read_saved_object, _write_saved_object),
    "monitor": (_read_monitor, _write_monitor),
}

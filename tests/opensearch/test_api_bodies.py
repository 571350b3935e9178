"""Every request body the configurator sends, checked against the OpenSearch API specification (bundled from
opensearch-project/opensearch-api-specification, strict about unknown keys) or, for the plugin APIs it lacks
(Alerting monitors, Dashboards saved objects), against schemas written from those plugins' API documentation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from provisioner.opensearch.content import Settings, build
from provisioner.opensearch.dashboards import CHARTS
from tests.opensearch.api_spec import errors

REPO = Path(__file__).resolve().parents[2]
PLUGIN_SCHEMAS = REPO / "tests" / "data" / "opensearch-plugin-schemas"
SPEC_OPERATIONS = {
    "security_role": "PUT /_plugins/_security/api/roles/{role}",
    "security_role_mapping": "PUT /_plugins/_security/api/rolesmapping/{role}",
    "index_template": "PUT /_index_template/{name}",
    "ism_policy": "PUT /_plugins/_ism/policies/{policy_id}",
    "notification_channel": "POST /_plugins/_notifications/configs",
}
AGGREGATABLE = {"keyword", "ip", "long", "integer", "float", "double", "date", "boolean"}

CONTENT = build(
    Settings(
        analyst_role_arns=("arn:aws:iam::123456789012:role/analyst",),
        retention={"cloudtrail": (30, 365), "guardduty": (30, 365), "waf": (7, 90)},
    ),
    REPO,
)


def _objects(*kinds: str) -> list[dict[str, Any]]:
    return [o for o in CONTENT["objects"] if o["kind"] in kinds]


def _ids(objects: list[dict[str, Any]]) -> list[str]:
    return [f"{o['kind']}:{o['name']}" for o in objects]


@pytest.mark.parametrize("obj", _objects(*SPEC_OPERATIONS), ids=_ids(_objects(*SPEC_OPERATIONS)))
def test_body_matches_the_api_specification(obj: dict[str, Any]) -> None:
    assert errors(SPEC_OPERATIONS[obj["kind"]], obj["body"]) == []


def test_channel_update_body_matches_the_api_specification() -> None:
    (channel,) = _objects("notification_channel")
    assert errors("PUT /_plugins/_notifications/configs/{config_id}", {"config": channel["body"]["config"]}) == []


@pytest.mark.parametrize(
    ("operation", "body", "message"),
    [
        (
            "PUT /_index_template/{name}",
            {
                "index_patterns": ["x-*"],
                "template": {"mappings": {"properties": {"a": {"type": "keyword", "normaliser": "n"}}}},
            },
            "'normaliser' was unexpected",
        ),
        (
            "PUT /_index_template/{name}",
            {"index_patterns": ["x-*"], "template": {"mappings": {"properties": {"a": {"type": "flat-object"}}}}},
            "type 'flat-object' is not one of the specification's types",
        ),
        (
            "PUT /_plugins/_security/api/roles/{role}",
            {"cluster_permission": ["cluster_monitor"]},
            "'cluster_permission'",
        ),
        ("PUT /_plugins/_ism/policies/{policy_id}", {"policy": {"states": "hot"}}, "'hot' is not of type 'array'"),
    ],
)
def test_the_specification_check_catches_mistakes(operation: str, body: Any, message: str) -> None:
    assert any(message in e for e in errors(operation, body)), errors(operation, body)


@pytest.mark.slow  # each monitor query against the whole API specification (seconds each)
@pytest.mark.parametrize("obj", _objects("monitor"), ids=_ids(_objects("monitor")))
def test_monitor_matches_the_alerting_documentation_and_its_query_the_specification(obj: dict[str, Any]) -> None:
    schema = json.loads((PLUGIN_SCHEMAS / "alerting-monitor.json").read_text())
    found = sorted(e.message for e in Draft202012Validator(schema).iter_errors(obj["body"]))
    assert found == []
    for search in obj["body"]["inputs"]:
        assert errors("POST /_search", search["search"]["query"]) == []


def test_monitor_lookup_is_a_valid_search_body() -> None:
    from provisioner.functions.opensearch_config.apis import monitor_search

    assert errors("POST /_search", monitor_search("waf-block-spike")) == []


def _saved_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((PLUGIN_SCHEMAS / "dashboards-saved-object.json").read_text())
    return schema


def _check(defs: dict[str, Any], name: str, value: Any) -> list[str]:
    schema = {"$defs": defs, "$ref": f"#/$defs/{name}"}
    return sorted(f"{e.json_path}: {e.message}" for e in Draft202012Validator(schema).iter_errors(value))


@pytest.mark.parametrize("obj", _objects("saved_object"), ids=_ids(_objects("saved_object")))
def test_saved_object_matches_the_dashboards_documentation(obj: dict[str, Any]) -> None:
    schema = _saved_schema()
    assert sorted(e.message for e in Draft202012Validator(schema).iter_errors(obj["body"])) == []
    type_ = obj["name"].split("/", 1)[0]
    attributes = obj["body"]["attributes"]
    assert _check(schema["$defs"], type_, attributes) == []
    meta = attributes.get("kibanaSavedObjectMeta")
    if meta:
        source = json.loads(meta["searchSourceJSON"])
        assert ("indexRefName" in source) == any(r["type"] == "index-pattern" for r in obj["body"]["references"])
    if type_ == "visualization":
        assert _check(schema["$defs"], "visState", json.loads(attributes["visState"])) == []
    if type_ == "dashboard":
        panels = json.loads(attributes["panelsJSON"])
        assert all(_check(schema["$defs"], "panel", p) == [] for p in panels)
        assert [p["panelRefName"] for p in panels] == [r["name"] for r in obj["body"]["references"]]


def test_every_reference_resolves_to_an_object_of_the_content() -> None:
    saved = {o["name"] for o in _objects("saved_object")}
    for obj in _objects("saved_object"):
        for ref in obj["body"]["references"]:
            assert f"{ref['type']}/{ref['id']}" in saved, (obj["name"], ref)
    overview = next(o for o in _objects("saved_object") if o["name"] == "dashboard/security-overview")
    links = json.loads(
        next(o for o in _objects("saved_object") if o["name"] == "visualization/overview-links")["body"]["attributes"][
            "visState"
        ]
    )
    for family in ("waf", "guardduty", "cloudtrail"):
        assert f"dashboard/logs-{family}-dashboard" in saved
        assert f"#/view/logs-{family}-dashboard" in links["params"]["markdown"]
    assert {"overview-links", "overview-waf-blocked"} <= {r["id"] for r in overview["body"]["references"]}


def _mapped_type(template: dict[str, Any], dotted: str) -> str | None:
    node: Any = template["template"]["mappings"]
    for part in dotted.split("."):
        node = (node.get("properties") or {}).get(part)
        if node is None:
            return None
    return node.get("type")


@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_every_chart_aggregates_fields_its_index_template_maps_as_aggregatable(chart: str) -> None:
    """A chart over a text or unmapped field renders empty: each bucket field is mapped explicitly."""
    _, family, _, _, fields = CHARTS[chart]
    (template,) = [o["body"] for o in _objects("index_template") if o["name"] == f"logs-{family}"]
    for field in fields:
        assert _mapped_type(template, field) in AGGREGATABLE, (chart, field)

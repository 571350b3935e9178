"""OpenSearch Dashboards saved objects: index patterns, charts and the WAF, GuardDuty, CloudTrail and overview
dashboards. Each chart is a count over a few fields; the table below is the whole design, the functions only
spell it in the saved-object format (visState and searchSourceJSON are JSON strings inside the object).
"""

from __future__ import annotations

import json
from typing import Any

_INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _terms(agg_id: str, field: str, schema: str, size: int = 10) -> dict[str, Any]:
    params = {"field": field, "size": size, "order": "desc", "orderBy": "1", "otherBucket": False}
    return {"id": agg_id, "enabled": True, "type": "terms", "schema": schema, "params": params}


def _histogram(agg_id: str) -> dict[str, Any]:
    params = {"field": "@timestamp", "interval": "auto", "min_doc_count": 1, "extended_bounds": {}}
    return {"id": agg_id, "enabled": True, "type": "date_histogram", "schema": "segment", "params": params}


_COUNT = {"id": "1", "enabled": True, "type": "count", "schema": "metric", "params": {}}

# id: (title, family, chart, query (KQL), buckets). Charts: "line"/"histogram" = over time (split by the first
# bucket field), "pie" = shares of one field, "table" = top values (one column per field), "metric" = a count.
CHARTS: dict[str, tuple[str, str, str, str, tuple[str, ...]]] = {
    "waf-requests-over-time": ("WAF: allowed vs blocked over time", "waf", "histogram", "", ("event.action",)),
    "waf-top-client-ips": ("WAF: top client IPs", "waf", "table", "", ("source.ip",)),
    "waf-countries": ("WAF: requests by country", "waf", "pie", "", ("source.geo.country_iso_code",)),
    "waf-terminating-rules": ("WAF: terminating rules", "waf", "table", "", ("rule.id",)),
    "waf-rule-groups": ("WAF: terminating rule groups", "waf", "pie", "", ("rule.ruleset",)),
    "waf-top-blocked-uris": ("WAF: top blocked URIs", "waf", "table", "event.action:block", ("url.path",)),
    "guardduty-by-severity": (
        "GuardDuty: findings by severity band over time",
        "guardduty",
        "histogram",
        "",
        ("aws.guardduty.severity.label",),
    ),
    "guardduty-by-type": ("GuardDuty: findings by type over time", "guardduty", "line", "", ("rule.name",)),
    "guardduty-affected-resources": (
        "GuardDuty: affected resources",
        "guardduty",
        "table",
        "",
        ("aws.guardduty.resource.type", "cloud.instance.id", "user.name"),
    ),
    "cloudtrail-events-over-time": ("CloudTrail: events over time", "cloudtrail", "line", "", ("event.outcome",)),
    "cloudtrail-top-events": (
        "CloudTrail: top event names",
        "cloudtrail",
        "table",
        "",
        ("event.provider", "event.action"),
    ),
    "cloudtrail-top-principals": ("CloudTrail: top principals", "cloudtrail", "table", "", ("user.name",)),
    "cloudtrail-failed-by-principal": (
        "CloudTrail: failed calls by principal",
        "cloudtrail",
        "table",
        "event.outcome:failure",
        ("user.name", "aws.cloudtrail.error_code"),
    ),
    "cloudtrail-console-logins": (
        "CloudTrail: console sign-ins by result",
        "cloudtrail",
        "pie",
        "event.action:ConsoleLogin",
        ("event.outcome",),
    ),
    "cloudtrail-root-activity": (
        "CloudTrail: root user activity",
        "cloudtrail",
        "table",
        "aws.cloudtrail.user_identity.type:Root",
        ("event.action", "source.address"),
    ),
    "overview-waf-blocked": ("WAF blocked requests", "waf", "metric", "event.action:block", ()),
    "overview-guardduty-high": ("GuardDuty findings, severity >= 7", "guardduty", "metric", "event.severity >= 7", ()),
    "overview-cloudtrail-failed": ("CloudTrail failed calls", "cloudtrail", "metric", "event.outcome:failure", ()),
}

DASHBOARDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "waf": ("WAF", tuple(k for k in CHARTS if k.startswith("waf-"))),
    "guardduty": ("GuardDuty", tuple(k for k in CHARTS if k.startswith("guardduty-"))),
    "cloudtrail": ("CloudTrail", tuple(k for k in CHARTS if k.startswith("cloudtrail-"))),
}
FAMILY_TITLES = {"waf": "WAF", "guardduty": "GuardDuty", "cloudtrail": "CloudTrail"}


def _aggs(chart: str, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    if chart in ("line", "histogram"):
        return [_COUNT, _histogram("2"), *(_terms("3", f, "group", 5) for f in fields[:1])]
    schema = "segment" if chart == "pie" else "bucket"
    return [_COUNT, *(_terms(str(i + 2), f, schema) for i, f in enumerate(fields))]


def _params(chart: str) -> dict[str, Any]:
    if chart == "table":
        return {"perPage": 10, "showPartialRows": False, "showMetricsAtAllLevels": False}
    if chart == "pie":
        return {"type": "pie", "isDonut": True, "addTooltip": True, "addLegend": True, "legendPosition": "right"}
    if chart == "metric":
        return {"type": "metric", "addTooltip": True, "addLegend": False}
    return {"type": chart, "addTooltip": True, "addLegend": True, "legendPosition": "right", "addTimeMarker": False}


def _search_source(query: str, with_index: bool) -> str:
    source: dict[str, Any] = {"query": {"query": query, "language": "kuery"}, "filter": []}
    if with_index:
        source["indexRefName"] = _INDEX_REF
    return _dump(source)


def _visualization(vis_id: str, prefix: str) -> dict[str, Any]:
    title, family, chart, query, fields = CHARTS[vis_id]
    state = {"title": title, "type": chart, "params": _params(chart), "aggs": _aggs(chart, fields)}
    return {
        "type": "visualization",
        "id": vis_id,
        "attributes": {
            "title": title,
            "description": "",
            "version": 1,
            "visState": _dump(state),
            "uiStateJSON": "{}",
            "kibanaSavedObjectMeta": {"searchSourceJSON": _search_source(query, True)},
        },
        "references": [{"name": _INDEX_REF, "type": "index-pattern", "id": f"{prefix}-{family}"}],
    }


def _links(prefix: str) -> dict[str, Any]:
    lines = ["**Security dashboards**", ""]
    lines += [f"- [{FAMILY_TITLES[f]}](#/view/{prefix}-{f}-dashboard)" for f in DASHBOARDS]
    state = {
        "title": "Dashboards",
        "type": "markdown",
        "params": {"markdown": "\n".join(lines), "fontSize": 12},
        "aggs": [],
    }
    return {
        "type": "visualization",
        "id": "overview-links",
        "attributes": {
            "title": "Security dashboards: links",
            "description": "",
            "version": 1,
            "visState": _dump(state),
            "uiStateJSON": "{}",
            "kibanaSavedObjectMeta": {"searchSourceJSON": _search_source("", False)},
        },
        "references": [],
    }


def _dashboard(dash_id: str, title: str, panels: list[tuple[str, str]]) -> dict[str, Any]:
    """panels: (saved object type, id), laid out two per row."""
    panel_json = []
    for i, _ in enumerate(panels):
        grid = {"x": 24 * (i % 2), "y": 15 * (i // 2), "w": 24, "h": 15, "i": str(i + 1)}
        panel_json.append(
            {"panelIndex": str(i + 1), "gridData": grid, "embeddableConfig": {}, "panelRefName": f"panel_{i}"}
        )
    return {
        "type": "dashboard",
        "id": dash_id,
        "attributes": {
            "title": title,
            "description": f"{title} (managed by provision; changes here are overwritten)",
            "panelsJSON": _dump(panel_json),
            "optionsJSON": _dump({"hidePanelTitles": False, "useMargins": True}),
            "timeRestore": True,
            "timeFrom": "now-24h",
            "timeTo": "now",
            "refreshInterval": {"pause": True, "value": 0},
            "version": 1,
            "kibanaSavedObjectMeta": {"searchSourceJSON": _search_source("", False)},
        },
        "references": [{"name": f"panel_{i}", "type": t, "id": ref} for i, (t, ref) in enumerate(panels)],
    }


_SEARCHES = {
    "guardduty-high-severity": (
        "GuardDuty findings, severity >= 7",
        "guardduty",
        "event.severity >= 7",
        ["event.severity", "rule.name", "message", "cloud.account.id"],
    ),
    "cloudtrail-failed-calls": (
        "CloudTrail failed API calls",
        "cloudtrail",
        "event.outcome:failure",
        ["event.provider", "event.action", "user.name", "source.ip", "aws.cloudtrail.error_code"],
    ),
    "waf-blocked-requests": (
        "WAF blocked requests",
        "waf",
        "event.action:block",
        ["source.ip", "url.path", "rule.id", "http.request.method"],
    ),
}


def _search(search_id: str, prefix: str) -> dict[str, Any]:
    title, family, query, columns = _SEARCHES[search_id]
    return {
        "type": "search",
        "id": search_id,
        "attributes": {
            "title": title,
            "description": "",
            "columns": columns,
            "sort": [["@timestamp", "desc"]],
            "version": 1,
            "kibanaSavedObjectMeta": {"searchSourceJSON": _search_source(query, True)},
        },
        "references": [{"name": _INDEX_REF, "type": "index-pattern", "id": f"{prefix}-{family}"}],
    }


def saved_objects(prefix: str, families: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every saved object, dependencies first (index patterns, charts, searches, then dashboards)."""
    objects: list[dict[str, Any]] = [
        {
            "type": "index-pattern",
            "id": f"{prefix}-{family}",
            "attributes": {"title": f"{prefix}-{family}-*", "timeFieldName": "@timestamp"},
            "references": [],
        }
        for family in families
    ]
    objects += [_visualization(vis_id, prefix) for vis_id in CHARTS]
    objects.append(_links(prefix))
    objects += [_search(search_id, prefix) for search_id in _SEARCHES]
    for family, (title, charts) in DASHBOARDS.items():
        objects.append(_dashboard(f"{prefix}-{family}-dashboard", title, [("visualization", c) for c in charts]))
    overview = [("visualization", "overview-links")]
    overview += [("visualization", c) for c in CHARTS if c.startswith("overview-")]
    overview += [("search", s) for s in _SEARCHES]
    objects.append(_dashboard("security-overview", "Security overview", overview))
    return objects

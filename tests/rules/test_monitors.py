"""Compiled monitors: structure (window, index, action, severity) and the same matches as the local evaluator when
their queries run in an OpenSearch-compatible engine (osmem-server) over the case events, normalised and indexed."""

from __future__ import annotations

import html
import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chevron
import pytest
from osmem_server import OsmemServer

from provisioner.functions.logs import index_name
from provisioner.rules.catalogue import Catalogue, Rule
from provisioner.rules.compile import DELAY_MINUTES, GROUPS_AGG, SEVERITY, build_monitors, template_path
from provisioner.rules.engine import Engine, epoch
from provisioner.rules.events import Event, normalise_records
from provisioner.rules.loader import load_catalogue
from tests.rules.test_catalogue import REAL_EVENTS

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "data" / "rules" / "cases"
CHANNEL = "channel-123"
_BOUND = re.compile(r"^\{\{period_end\}\}\|\|-(\d+)s$")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(REPO / "rules", REPO)


@pytest.fixture(scope="module")
def monitors(catalogue: Catalogue) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in build_monitors(catalogue, CHANNEL)}


def _window(monitor: dict[str, Any]) -> tuple[int, int]:
    """(lower, upper) offsets in seconds before period_end, from the monitor's first filter."""
    first = monitor["inputs"][0]["search"]["query"]["query"]["bool"]["filter"][0]["range"]["@timestamp"]
    lower, upper = _BOUND.match(first["gte"]), _BOUND.match(first["lt"])
    assert lower and upper and first["format"] == "epoch_millis", first
    return int(lower.group(1)), int(upper.group(1))


def test_every_alerting_rule_compiles_to_a_windowed_monitor_with_an_action(
    catalogue: Catalogue, monitors: dict[str, dict[str, Any]]
) -> None:
    assert set(monitors) == {r.name for r in catalogue.alerting}
    for rule in catalogue.alerting:
        monitor = monitors[rule.name]
        assert monitor["inputs"][0]["search"]["indices"] == [f"logs-{rule.source}-*"]
        assert index_name("logs", rule.source, {"@timestamp": "2026-01-01T00:00:00Z"}).startswith(
            f"logs-{rule.source}-"
        )
        lower, upper = _window(monitor)
        assert upper == DELAY_MINUTES[rule.source] * 60
        span = rule.correlation.timespan if rule.correlation else monitor["schedule"]["period"]["interval"] * 60
        assert lower - upper == span, rule.name
        (trigger,) = monitor["triggers"]
        body = trigger.get("bucket_level_trigger", trigger)
        assert body["severity"] == SEVERITY[rule.level]
        (action,) = body["actions"]
        assert action["destination_id"] == CHANNEL
        message = action["message_template"]["source"]
        assert rule.triage["response"] in message and rule.id in message
        assert all(f"{template_path(field)}}}}}" in message for field in rule.fields), rule.name
        kind = "bucket_level_monitor" if rule.correlation else "query_level_monitor"
        assert monitor["monitor_type"] == kind


def put_templates(server: Any) -> None:
    """The stack's own index templates, as the configurator applies them."""
    from provisioner.opensearch.templates import index_template, template_name

    for family in ("cloudtrail", "guardduty", "waf"):
        server.request("PUT", f"/_index_template/{template_name('logs', family)}", index_template("logs", family))


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    server = OsmemServer.start()
    try:
        put_templates(server)
        yield server
    finally:
        server.close()


def _scenarios() -> list[tuple[str, list[dict[str, Any]]]]:
    """Every case scenario, and every real log file of test_catalogue.REAL_EVENTS as one scenario."""
    out = []
    for path in sorted(CASES.glob("*.json")):
        data = json.loads(path.read_text())
        for kind in ("positive", "negative"):
            out.extend((f"{path.stem}:{kind}#{n}", records) for n, records in enumerate(data[kind], start=1))
    for name in sorted(REAL_EVENTS):
        lines = (REPO / "tests" / "data" / name).read_text().splitlines()
        out.append((f"real:{name}", [json.loads(line) for line in lines if line.strip()]))
    return out


def _index(server: Any, events: list[Event]) -> None:
    """Replace every logs-* index with the scenario's normalised events (document id = position in `events`)."""
    server.request("DELETE", "/logs-*")
    lines = []
    for i, (source, doc) in enumerate(events):
        lines.append(json.dumps({"index": {"_index": index_name("logs", source, doc), "_id": str(i)}}))
        lines.append(json.dumps(doc))
    request = urllib.request.Request(
        f"{server.url}/_bulk?refresh=true",
        data=("\n".join(lines) + "\n").encode(),
        method="POST",
        headers={"Content-Type": "application/x-ndjson"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read())["errors"] is False


def _search(server: Any, monitor: dict[str, Any], period_end_ms: int) -> dict[str, Any]:
    search = monitor["inputs"][0]["search"]
    body = json.loads(json.dumps(search["query"]).replace("{{period_end}}", str(period_end_ms)))
    if "aggregations" not in body:
        body["size"] = 1000
    result: dict[str, Any] = server.request("POST", f"/{','.join(search['indices'])}/_search", body)
    return result


def _fired_buckets(monitor: dict[str, Any], result: dict[str, Any], group_by: tuple[str, ...]) -> list[dict[str, str]]:
    """Apply the bucket-level trigger's condition (`params.X >= N`) to the composite buckets."""
    condition = monitor["triggers"][0]["bucket_level_trigger"]["condition"]
    found = re.fullmatch(r"params\.(\w+) (>=|>) (\d+)", condition["script"]["source"])
    assert found, condition
    name, op, threshold = found.group(1), found.group(2), int(found.group(3))
    fired = []
    for bucket in result["aggregations"][GROUPS_AGG]["buckets"]:
        value = bucket["doc_count"] if name == "_count" else bucket[name]["value"]
        if value >= threshold if op == ">=" else value > threshold:
            fired.append({group_by[int(k[1:])]: str(v) for k, v in bucket["key"].items()})
    return fired


@pytest.mark.slow  # every compiled monitor query against osmem-server, per scenario (177 cases)
@pytest.mark.parametrize(("label", "records"), _scenarios(), ids=[label for label, _ in _scenarios()])
def test_monitor_queries_match_what_rules_test_matches(
    engine: Any, catalogue: Catalogue, monitors: dict[str, dict[str, Any]], label: str, records: list[dict[str, Any]]
) -> None:
    """Every monitor of the scenario's log source, run over the indexed events, finds what the evaluator finds on
    the events inside that monitor's window."""
    events, skipped = normalise_records(records)
    assert events and not skipped
    _index(engine, events)
    stamps = [epoch(doc) for _, doc in events]
    latest = int(max(s for s in stamps if s is not None))
    local = Engine(catalogue)
    sources = {source for source, _ in events}
    for rule in catalogue.alerting:
        if rule.source not in sources:
            continue
        monitor = monitors[rule.name]
        lower, upper = _window(monitor)
        period_end = latest + 1 + upper  # the run whose window ends just after the scenario's last event
        inside = [i for i, s in enumerate(stamps) if s is not None and period_end - lower <= s < period_end - upper]
        expected = local.run([events[i] for i in inside])[rule.name]
        result = _search(engine, monitor, period_end * 1000)
        if rule.correlation is None:
            got: list[Any] = sorted(int(hit["_id"]) for hit in result["hits"]["hits"])
            assert got == sorted(inside[i] for i in expected.events), (label, rule.name)
        else:
            got = sorted(map(str, _fired_buckets(monitor, result, rule.correlation.group_by)))
            assert got == sorted(map(str, expected.groups)), (label, rule.name)
        if label.startswith(f"{rule.name}:positive"):
            assert got, f"{label}: the monitor found nothing"
            _check_message(rule, monitor, result, got)


def _check_message(rule: Rule, monitor: dict[str, Any], result: dict[str, Any], fired: list[Any]) -> None:
    """Render the action's mustache template with the context Alerting builds (`ctx.results` = the search response,
    `ctx.newAlerts[].bucket_keys` = comma-joined group keys: opensearch-project/alerting's trigger execution
    contexts and `Alert.asTemplateArg`) and look for the responder's fields in it. chevron HTML-escapes values;
    OpenSearch's mustache engine escapes for JSON: only the paths are checked, not the escaping."""
    trigger = monitor["triggers"][0]
    body = trigger.get("bucket_level_trigger", trigger)
    template = body["actions"][0]["message_template"]["source"]
    ctx: dict[str, Any] = {"monitor": {"name": monitor["name"]}, "periodStart": "s", "periodEnd": "e"}
    ctx["results"] = [result]
    if rule.correlation is None:
        source = result["hits"]["hits"][0]["_source"]
    else:
        buckets = result["aggregations"][GROUPS_AGG]["buckets"]
        ctx["newAlerts"] = [{"bucket_keys": ",".join(str(v) for v in b["key"].values())} for b in buckets]
        source = buckets[0]["latest"]["hits"]["hits"][0]["_source"]
    text = chevron.render(template, {"ctx": ctx})
    assert rule.title in text and rule.triage["response"] in text and rule.id in text
    for field in rule.fields:
        value = _field(source, field)
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            assert f"{field}={html.escape(str(value))}" in text, (rule.name, field)
    if rule.correlation is not None:
        assert "[" + ctx["newAlerts"][0]["bucket_keys"] + "]" in text
        assert f": {buckets[0]['doc_count']} events" in text


def _field(doc: dict[str, Any], dotted: str) -> Any:
    """A field's value, through the first element of lists (as the template shows it)."""
    value: Any = doc
    for part in dotted.split("."):
        value = value[0] if isinstance(value, list) and value else value
        value = value.get(part) if isinstance(value, dict) else None
    return value

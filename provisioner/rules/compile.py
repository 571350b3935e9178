"""Compile the catalogue to OpenSearch Alerting monitors (the bodies `POST _plugins/_alerting/monitors` takes).

Every monitor searches a window tied to its schedule: query-level monitors look at one schedule interval ending
the source's delivery delay before the run (so an event is judged once, after ingestion caught up); bucket-level
monitors look at the correlation's timespan and group with a composite aggregation. pySigma's OpenSearch backend
was not used here: its monitors have no window, target `beats-*` and it pins `pysigma<2`.
"""

from __future__ import annotations

from typing import Any

from provisioner.rules.catalogue import Catalogue, Rule
from provisioner.rules.detection import Check, Match, Node
from provisioner.rules.fields import KEYWORD, LIST_PARENTS

SEVERITY = {"critical": "1", "high": "2", "medium": "3", "low": "4", "informational": "5"}
INTERVAL_MINUTES = 5
# How far behind real time each source's window ends: the usual delivery delay into the index (CloudTrail to
# CloudWatch Logs ~5 min, up to 15; WAF through Firehose's 300 s buffer; GuardDuty through EventBridge).
DELAY_MINUTES = {"cloudtrail": 15, "waf": 10, "guardduty": 5}
SAMPLE_SIZE = 10
GROUPS_AGG = "groups"


def _match_query(field: str, ftype: str, match: Match) -> dict[str, Any]:
    op, operand = match.op, match.operand
    if op == "never":
        return {"bool": {"must_not": [{"match_all": {}}]}}
    if op == "exists":
        clause: dict[str, Any] = {"exists": {"field": field}}
        return clause if operand else {"bool": {"must_not": [clause]}}
    if op == "null":
        return {"bool": {"must_not": [{"exists": {"field": field}}]}}
    if op in ("gt", "gte", "lt", "lte"):
        return {"range": {field: {op: _number(operand)}}}
    if op == "cidr":
        return {"term": {field: str(operand)}}
    if ftype != KEYWORD:
        return {"term": {field: _number(operand) if isinstance(operand, float) else operand}}
    flags = {} if match.cased else {"case_insensitive": True}
    if op == "eq":
        return {"term": {field: {"value": operand, **flags}}}
    if op == "re":
        return {"regexp": {field: {"value": operand.pattern, **({} if match.cased else {"case_insensitive": True})}}}
    escaped = operand if op == "glob" else _escape(operand)
    pattern = {
        "prefix": f"{escaped}*",
        "suffix": f"*{escaped}",
        "contains": f"*{escaped}*",
        "glob": operand[1] if op == "glob" else "",
    }[op]
    return {"wildcard": {field: {"value": pattern, **flags}}}


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


def _any(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}}


def _every(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return clauses[0] if len(clauses) == 1 else {"bool": {"filter": clauses}}


def check_query(check: Check) -> dict[str, Any]:
    clauses = [_match_query(check.field, check.ftype, m) for m in check.matches]
    return _every(clauses) if check.match_all else _any(clauses)


def node_query(node: Node, rule: Rule) -> dict[str, Any]:
    if node.kind == "sel":
        return _any([_every([check_query(c) for c in checks]) for checks in rule.selections[node.name]])
    parts = [node_query(c, rule) for c in node.children]
    if node.kind == "not":
        return {"bool": {"must_not": parts}}
    return _every(parts) if node.kind == "and" else _any(parts)


def detection_query(rule: Rule, catalogue: Catalogue) -> dict[str, Any]:
    """The rule's detection as query DSL (a correlation: any of its base rules)."""
    if rule.correlation is not None:
        return _any([detection_query(catalogue.by_name(n), catalogue) for n in rule.correlation.rules])
    assert rule.condition is not None
    return node_query(rule.condition, rule)


def window(seconds: int, delay: int) -> dict[str, Any]:
    """[period_end - delay - seconds, period_end - delay): consecutive runs cover time without gaps or overlap."""
    upper = f"{{{{period_end}}}}||-{delay}s" if delay else "{{period_end}}"
    lower = f"{{{{period_end}}}}||-{delay + seconds}s"
    return {"range": {"@timestamp": {"gte": lower, "lt": upper, "format": "epoch_millis"}}}


def _triage(rule: Rule) -> str:
    lines = [
        f"{key.capitalize()}: {rule.triage[key]}"
        for key in ("goal", "strategy", "triage", "response")
        if rule.triage.get(key)
    ]
    return "\n".join(lines)


def _header(rule: Rule) -> str:
    techniques = ", ".join(rule.techniques) or "none"
    return (
        f"{rule.title}\nRule {rule.name} ({rule.id}), level {rule.level}, ATT&CK {techniques}\n"
        f"Monitor {{{{ctx.monitor.name}}}}, window {{{{ctx.periodStart}}}} - {{{{ctx.periodEnd}}}}\n"
    )


def template_path(field: str) -> str:
    """Mustache path of a field: the first element of a list-valued parent (`a.list.0.b`)."""
    for parent in LIST_PARENTS:
        if field.startswith(parent + "."):
            return f"{parent}.0.{field[len(parent) + 1 :]}"
    return field


def _shown(rule: Rule, prefix: str) -> str:
    return " ".join(f"{f}={{{{{prefix}{template_path(f)}}}}}" for f in rule.fields)


def query_message(rule: Rule) -> str:
    hits = "ctx.results.0.hits.hits"
    return (
        f"{_header(rule)}Matches: {{{{ctx.results.0.hits.total.value}}}} (latest {SAMPLE_SIZE} below)\n"
        f"{{{{#{hits}}}}}- {{{{_source.@timestamp}}}} {_shown(rule, '_source.')}\n{{{{/{hits}}}}}\n{_triage(rule)}"
    )


def bucket_message(rule: Rule) -> str:
    """Alerting gives each new alert only `bucket_keys` (comma-joined); counts and the latest event of every group
    come from the search response in `ctx.results`."""
    correlation = rule.correlation
    assert correlation is not None
    keys = " ".join(f"{{{{key.g{i}}}}}" for i in range(len(correlation.group_by)))
    distinct = f", {{{{distinct.value}}}} distinct {correlation.field}" if correlation.field else ""
    buckets = f"ctx.results.0.aggregations.{GROUPS_AGG}.buckets"
    sample = "latest.hits.hits.0._source."
    return (
        f"{_header(rule)}Over the threshold ({', '.join(correlation.group_by)}): "
        f"{{{{#ctx.newAlerts}}}}[{{{{bucket_keys}}}}] {{{{/ctx.newAlerts}}}}\n"
        f"Groups in the window:\n{{{{#{buckets}}}}}- {keys}: {{{{doc_count}}}} events{distinct}; latest: "
        f"{_shown(rule, sample)}\n{{{{/{buckets}}}}}\n{_triage(rule)}"
    )


def _action(rule: Rule, channel_id: str, message: str, bucket: bool) -> dict[str, Any]:
    action: dict[str, Any] = {
        "name": f"notify-{rule.name}",
        "destination_id": channel_id,
        "subject_template": {"source": f"[{rule.level.upper()}] {rule.title}", "lang": "mustache"},
        "message_template": {"source": message, "lang": "mustache"},
        "throttle_enabled": False,
    }
    if bucket:
        action["action_execution_policy"] = {"action_execution_scope": {"per_alert": {"actionable_alerts": ["NEW"]}}}
    return action


def _base(rule: Rule, prefix: str, kind: str, query: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "monitor",
        "monitor_type": kind,
        "name": rule.name,
        "enabled": True,
        "schedule": {"period": {"interval": INTERVAL_MINUTES, "unit": "MINUTES"}},
        "inputs": [{"search": {"indices": [f"{prefix}-{rule.source}-*"], "query": query}}],
    }


def query_monitor(rule: Rule, catalogue: Catalogue, channel_id: str, prefix: str) -> dict[str, Any]:
    filters = [window(INTERVAL_MINUTES * 60, DELAY_MINUTES[rule.source] * 60), detection_query(rule, catalogue)]
    query = {
        "size": SAMPLE_SIZE,
        "sort": [{"@timestamp": {"order": "desc"}}],
        "_source": {"includes": ["@timestamp", *rule.fields]},
        "query": {"bool": {"filter": filters}},
    }
    monitor = _base(rule, prefix, "query_level_monitor", query)
    monitor["triggers"] = [
        {
            "name": rule.title,
            "severity": SEVERITY[rule.level],
            "condition": {"script": {"source": "ctx.results[0].hits.total.value > 0", "lang": "painless"}},
            "actions": [_action(rule, channel_id, query_message(rule), bucket=False)],
        }
    ]
    return monitor


def bucket_monitor(rule: Rule, catalogue: Catalogue, channel_id: str, prefix: str) -> dict[str, Any]:
    correlation = rule.correlation
    assert correlation is not None
    sources = [{f"g{i}": {"terms": {"field": f}}} for i, f in enumerate(correlation.group_by)]
    aggs: dict[str, Any] = {
        "latest": {
            "top_hits": {
                "size": 1,
                "sort": [{"@timestamp": {"order": "desc"}}],
                "_source": {"includes": ["@timestamp", *rule.fields]},
            }
        }
    }
    path = {"_count": "_count"}
    if correlation.field:
        aggs["distinct"] = {"cardinality": {"field": correlation.field}}
        path = {"distinct": "distinct"}
    (name,) = path
    filters = [window(correlation.timespan, DELAY_MINUTES[rule.source] * 60), detection_query(rule, catalogue)]
    query = {
        "size": 0,
        "query": {"bool": {"filter": filters}},
        "aggregations": {GROUPS_AGG: {"composite": {"size": 500, "sources": sources}, "aggs": aggs}},
    }
    symbol = ">=" if correlation.op == "gte" else ">"
    monitor = _base(rule, prefix, "bucket_level_monitor", query)
    monitor["triggers"] = [
        {
            "bucket_level_trigger": {
                "name": rule.title,
                "severity": SEVERITY[rule.level],
                "condition": {
                    "buckets_path": path,
                    "parent_bucket_path": GROUPS_AGG,
                    "script": {"source": f"params.{name} {symbol} {correlation.threshold}", "lang": "painless"},
                },
                "actions": [_action(rule, channel_id, bucket_message(rule), bucket=True)],
            }
        }
    ]
    return monitor


def build_monitors(catalogue: Catalogue, channel_id: str, *, prefix: str = "logs") -> list[dict[str, Any]]:
    """One Alerting monitor per alerting rule; every action notifies the channel `channel_id`."""
    out = []
    for rule in catalogue.alerting:
        if rule.correlation is not None:
            out.append(bucket_monitor(rule, catalogue, channel_id, prefix))
        else:
            out.append(query_monitor(rule, catalogue, channel_id, prefix))
    return out

"""Run the stack's Alerting monitors over the data plane as the Alerting plugin would, and publish what fires.

osmem-server has no Alerting plugin, so each monitor is executed here from its own body (what `up` installs):
its search with `{{period_end}}` set to the runs whose windows cover the events (one run per 5-minute schedule
step; limited to the replayed documents, so an earlier replay in the same window does not alert again), its
trigger condition (`hits.total.value > 0`, or the bucket selector's `params.X >= N`), and its action's
mustache message rendered with the context Alerting builds (`ctx.monitor`, `ctx.trigger`, `ctx.results`,
`ctx.newAlerts[].bucket_keys`). Each triggered monitor publishes one message to the alert topic, as its
Notifications channel (SNS) would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from provisioner.aws import client
from provisioner.demo.stack import Stack, search
from provisioner.rules.compile import GROUPS_AGG, INTERVAL_MINUTES

STEP_MS = INTERVAL_MINUTES * 60 * 1000
_CONDITION = re.compile(r"params\.(\w+) (>=|>) (\d+)")
_WINDOW = re.compile(r"\{\{period_end\}\}\|\|-(\d+)s")


@dataclass(frozen=True)
class Fired:
    monitor: str
    severity: str
    matches: int
    subject: str
    message: str


def _bounds(monitor: dict[str, Any]) -> tuple[int, int]:
    """(lower, upper) offsets in ms before period_end of the monitor's window."""
    range_ = _find_range(monitor["inputs"][0]["search"]["query"])
    lower = int(_WINDOW.fullmatch(range_["gte"]).group(1))  # type: ignore[union-attr]
    upper_match = _WINDOW.fullmatch(range_["lt"])
    return lower * 1000, int(upper_match.group(1)) * 1000 if upper_match else 0


def _find_range(node: Any) -> dict[str, Any]:
    if isinstance(node, dict):
        stamp = (node.get("range") or {}).get("@timestamp")
        if isinstance(stamp, dict) and "gte" in stamp:
            return stamp
        for value in node.values():
            found = _find_range(value)
            if found:
                return found
    if isinstance(node, list):
        for value in node:
            found = _find_range(value)
            if found:
                return found
    return {}


def period_ends(monitor: dict[str, Any], first_ms: int, last_ms: int) -> list[int]:
    """The schedule's runs (5-minute steps) whose windows hold any instant of [first_ms, last_ms]."""
    upper = _bounds(monitor)[1]
    end = last_ms + 1 + upper  # the run whose window ends just after the last event
    runs = []
    while end - upper > first_ms:
        runs.append(end)
        end -= STEP_MS
    return runs or [last_ms + 1 + upper]


def _run(stack: Stack, monitor: dict[str, Any], period_end: int, ids: list[str]) -> dict[str, Any]:
    import json

    search_input = monitor["inputs"][0]["search"]
    body = json.loads(json.dumps(search_input["query"]).replace("{{period_end}}", str(period_end)))
    if ids:  # judge this replay's documents only, not earlier ones in the same window
        body["query"] = {"bool": {"filter": [body["query"], {"terms": {"event.id": ids}}]}}
    return search(stack, f"{','.join(search_input['indices'])}/_search", body)


def _triggered(monitor: dict[str, Any], result: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """(matches, fired buckets): the trigger's condition applied to one run's search response."""
    trigger = monitor["triggers"][0]
    if "bucket_level_trigger" not in trigger:
        return int(result["hits"]["total"]["value"]), []
    condition = trigger["bucket_level_trigger"]["condition"]["script"]["source"]
    name, op, threshold = _CONDITION.fullmatch(condition).groups()  # type: ignore[union-attr]
    fired = []
    for bucket in result.get("aggregations", {}).get(GROUPS_AGG, {}).get("buckets", []):
        value = bucket["doc_count"] if name == "_count" else bucket[name]["value"]
        if value >= int(threshold) if op == ">=" else value > int(threshold):
            fired.append(bucket)
    return sum(int(b["doc_count"]) for b in fired), fired


def _render(monitor: dict[str, Any], result: dict[str, Any], buckets: list[dict[str, Any]]) -> tuple[str, str]:
    import chevron

    trigger = monitor["triggers"][0]
    body = trigger.get("bucket_level_trigger", trigger)
    action = body["actions"][0]
    ctx: dict[str, Any] = {
        "monitor": {"name": monitor["name"]},
        "trigger": {"name": body["name"], "severity": body["severity"]},
        "results": [result],
        "newAlerts": [{"bucket_keys": ",".join(str(v) for v in b["key"].values())} for b in buckets],
    }
    subject = chevron.render(action["subject_template"]["source"], {"ctx": ctx})
    return subject, chevron.render(action["message_template"]["source"], {"ctx": ctx})


def evaluate(stack: Stack, monitor: dict[str, Any], span: tuple[int, int], ids: list[str]) -> Fired | None:
    """The monitor's runs over the events' time span (`span`: first and last epoch ms), restricted to the
    documents with these `event.id`s when given; the first run whose trigger fires is the alert."""
    for period_end in sorted(period_ends(monitor, *span)):
        result = _run(stack, monitor, period_end, ids)
        matches, buckets = _triggered(monitor, result)
        if matches:
            subject, message = _render(monitor, result, buckets)
            trigger = monitor["triggers"][0]
            severity = trigger.get("bucket_level_trigger", trigger)["severity"]
            return Fired(monitor["name"], severity, matches, subject, message)
    return None


def publish(stack: Stack, fired: Fired) -> str:
    """The Notifications channel's SNS publish; returns the message id."""
    reply = client("sns", stack.region).publish(
        TopicArn=stack.topic_arn, Subject=fired.subject[:100], Message=fired.message
    )
    return str(reply["MessageId"])

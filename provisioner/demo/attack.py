"""`provision demo attack`: replay an attack on the local stack and watch it raise its alert.

CloudTrail records go into the trail's log group as CloudTrail delivers them (stream
`<account>_CloudTrail_<region>`, one record per log event); the log group's subscription runs the CloudTrail
normaliser (on the emulator's Lambda runtime), which indexes them into the domain. A GuardDuty finding goes to
EventBridge as GuardDuty emits it; its rules run the GuardDuty normaliser and the response Lambda (dry run by
default), whose decision is read from its log. Then every monitor of the events' source runs over the window
covering them (`provisioner.demo.alerts`) and each one that fires publishes to the alert topic.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from provisioner.aws import client
from provisioner.demo import alerts
from provisioner.demo.stack import CLOUDTRAIL_STREAM, Stack, log_lines_since, wait_indexed
from provisioner.demo.techniques import Target, Technique, cloudtrail_records, guardduty_event
from provisioner.functions.response.handler import DECISION_MARKER

INDEX_TIMEOUT = 120.0  # seconds to wait for the normaliser (each invocation is a cold start here)


@dataclass(frozen=True)
class Replay:
    """What to send: a built-in technique or a file's CloudTrail records."""

    name: str
    source: str
    records: list[dict[str, Any]]


def replay_of(technique: Technique, stack: Stack, now: datetime) -> Replay:
    target = Target(stack.account, stack.region, stack.prefix)
    if technique.source == "guardduty":
        return Replay(technique.name, "guardduty", [guardduty_event(technique, target, now)])
    return Replay(technique.name, "cloudtrail", cloudtrail_records(technique, target, now))


def _epoch_ms(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)


def _send_cloudtrail(stack: Stack, records: list[dict[str, Any]]) -> list[str]:
    logs = client("logs", stack.region)
    stream = CLOUDTRAIL_STREAM.format(account=stack.account, region=stack.region)
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=stack.trail_log_group, logStreamName=stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now, "message": json.dumps(r, separators=(",", ":"))} for r in records]
    for start in range(0, len(events), 1000):  # PutLogEvents takes at most 10,000 events / 1 MB per call
        logs.put_log_events(
            logGroupName=stack.trail_log_group, logStreamName=stream, logEvents=events[start : start + 1000]
        )
    return [str(r.get("eventID")) for r in records if r.get("eventID")]


def _send_guardduty(stack: Stack, events: list[dict[str, Any]]) -> list[str]:
    entries = [
        {"Source": e["source"], "DetailType": e["detail-type"], "Detail": json.dumps(e["detail"])} for e in events
    ]
    client("events", stack.region).put_events(Entries=entries)
    return [str(e["detail"]["id"]) for e in events]


def _span(replay: Replay) -> tuple[int, int]:
    if replay.source == "guardduty":
        stamps = [_epoch_ms(e["detail"]["updatedAt"]) for e in replay.records]
    else:
        stamps = [_epoch_ms(r["eventTime"]) for r in replay.records if r.get("eventTime")]
    return min(stamps), max(stamps)


def run(stack: Stack, replay: Replay, monitors: list[dict[str, Any]]) -> dict[str, Any]:
    """Send, wait for the index, run the source's monitors, publish what fires; the printed result."""
    started_ms = int(time.time() * 1000)
    send = _send_guardduty if replay.source == "guardduty" else _send_cloudtrail
    ids = send(stack, replay.records)
    indexed = wait_indexed(stack, replay.source, ids, INDEX_TIMEOUT)
    span = _span(replay)
    fired = []
    for monitor in monitors:
        if monitor["inputs"][0]["search"]["indices"] != [f"{stack.index_prefix}-{replay.source}-*"]:
            continue
        alert = alerts.evaluate(stack, monitor, span, ids)
        if alert is not None:
            fired.append({"monitor": alert.monitor, "severity": alert.severity, "matches": alert.matches,
                          "message_id": alerts.publish(stack, alert)})  # fmt: skip
    result: dict[str, Any] = {"technique": replay.name, "records_sent": len(replay.records), "indexed": indexed}
    result["alerts"] = fired
    if replay.source == "guardduty":
        result["response"] = _decisions(stack, started_ms)
    return result


def _decisions(stack: Stack, since_ms: int) -> list[Any]:
    """The response Lambda's decision lines for this run (dry run unless the environment turned it off)."""
    group = f"/aws/lambda/{stack.response_function}"
    lines = log_lines_since(group, stack.region, since_ms, DECISION_MARKER, timeout=60.0)
    decisions = []
    for line in lines:
        text = line.split(DECISION_MARKER, 1)[1].strip()
        try:
            decisions.append(json.loads(text))
        except ValueError:
            decisions.append(text)
    return decisions


def file_replay(name: str, records: list[Any]) -> Replay:
    """A file's CloudTrail records, sent as they are (their own times and ids)."""
    return Replay(name, "cloudtrail", [r for r in records if isinstance(r, dict)])


def now() -> datetime:
    return datetime.now(UTC)

"""The parts of a stack on the emulator that `provision demo` drives, found by the modules' resource names.

The demo runs on the emulator target only: there the domain's endpoint is its osmem data plane on loopback,
spoken over plain HTTP (see `provisioner.emulator.compat.opensearch_data`).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from provisioner.aws import client
from provisioner.errors import ProvisionError

CLOUDTRAIL_STREAM = "{account}_CloudTrail_{region}"  # the stream name CloudTrail delivers into


class StackMissing(ProvisionError):
    """A part of the stack the demo needs is not on the emulator (exit 1)."""


@dataclass(frozen=True)
class Stack:
    prefix: str
    region: str
    account: str
    trail_log_group: str
    search_url: str  # http://127.0.0.1:PORT of the domain's data plane
    topic_arn: str
    index_prefix: str = "logs"

    @property
    def response_function(self) -> str:
        return f"{self.prefix}-guardduty-response"

    @property
    def importer_function(self) -> str:
        return f"{self.prefix}-findings-importer"


def _missing(what: str) -> StackMissing:
    return StackMissing(f"{what}: not found on the emulator; run `make up` (provision up --env local) first")


def _trail_log_group(prefix: str, region: str) -> str:
    trails = client("cloudtrail", region).describe_trails()["trailList"]
    for trail in trails:
        if trail.get("Name") == f"{prefix}-trail" and trail.get("CloudWatchLogsLogGroupArn"):
            return str(trail["CloudWatchLogsLogGroupArn"]).split(":log-group:", 1)[1].removesuffix(":*")
    raise _missing(f"trail {prefix}-trail with a CloudWatch Logs group")


def _search_url(prefix: str, region: str) -> str:
    opensearch = client("opensearch", region)
    try:
        status = opensearch.describe_domain(DomainName=f"{prefix}-os")["DomainStatus"]
    except opensearch.exceptions.ResourceNotFoundException:
        raise _missing(f"OpenSearch domain {prefix}-os") from None
    address = status.get("Endpoint") or (status.get("Endpoints") or {}).get("vpc") or ""
    if not address.startswith(("127.0.0.1:", "localhost:")):
        raise _missing(f"a data plane behind domain {prefix}-os (endpoint {address!r})")
    return f"http://{address}"


def discover(prefix: str, region: str) -> Stack:
    account = str(client("sts", region).get_caller_identity()["Account"])
    topic = f"arn:aws:sns:{region}:{account}:{prefix}-security-alerts"
    topics = {t["TopicArn"] for t in client("sns", region).list_topics().get("Topics", [])}
    if topic not in topics:
        raise _missing(f"SNS topic {prefix}-security-alerts")
    return Stack(prefix, region, account, _trail_log_group(prefix, region), _search_url(prefix, region), topic)


def search(stack: Stack, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """One request to the data plane; a missing index reads as no hits."""
    request = urllib.request.Request(
        f"{stack.search_url}/{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            result: dict[str, Any] = json.loads(answer.read())
            return result
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return {"count": 0, "hits": {"total": {"value": 0}, "hits": []}}
        raise ProvisionError(f"{stack.search_url}/{path}: HTTP {exc.code}: {exc.read()[:300]!r}") from None


def wait_indexed(stack: Stack, source: str, ids: list[str], timeout: float) -> int:
    """How many of the documents with these `event.id`s the normaliser indexed, waiting up to `timeout`."""
    query = {"query": {"terms": {"event.id": ids}}}
    deadline, count = time.monotonic() + timeout, 0
    while True:
        count = int(search(stack, f"{stack.index_prefix}-{source}-*/_count", query).get("count", 0))
        if count >= len(ids) or time.monotonic() > deadline:
            return count
        time.sleep(0.5)


def log_lines_since(group: str, region: str, since_ms: int, marker: str, timeout: float) -> list[str]:
    """Lines of a function's log group from `since_ms` on that contain `marker` (waiting up to `timeout`)."""
    logs = client("logs", region)
    deadline = time.monotonic() + timeout
    while True:
        try:
            events = logs.filter_log_events(logGroupName=group, startTime=since_ms)["events"]
        except logs.exceptions.ResourceNotFoundException:
            events = []
        found = [str(e["message"]) for e in events if marker in str(e["message"])]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)

"""The fleet state machine's last step: every build's drift report (one environment each) merged into one fleet
report, and the alert topic told only when the fleet's drift changed (new, different, resolved).

Event (from the state machine): {"run": execution name}. Environment: RESULTS_BUCKET, ALERTS_TOPIC_ARN.
Layout in the bucket: fleet.json (the targets), runs/<run>/<name>.json (one per build), runs/<run>/fleet.json
(the merged report), latest.json, and notified.json (the fingerprint last notified)."""

from __future__ import annotations

import json
import logging
import os
import re
from typing import Any

from provisioner.functions.errors import FunctionInputError
from provisioner.functions.fleet.merge import check_report, env_key, fingerprint, missing_result, with_verdict

LOG = logging.getLogger(__name__)
TARGETS_KEY = "fleet.json"
NOTIFIED_KEY = "notified.json"
_RUN = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
_MAX_REPORT_BYTES = 16 * 1024 * 1024


def _client(name: str) -> Any:
    import boto3

    return boto3.client(name)


def _get_json(s3: Any, bucket: str, key: str) -> Any:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    data = body.read(_MAX_REPORT_BYTES + 1)
    if len(data) > _MAX_REPORT_BYTES:
        raise FunctionInputError(f"s3://{bucket}/{key}", "larger than 16 MiB")
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise FunctionInputError(f"s3://{bucket}/{key}", "not JSON") from None


def collect(s3: Any, bucket: str, run: str) -> dict[str, Any]:
    """The fleet report of one run: one entry per target, in the targets' order."""
    targets = _get_json(s3, bucket, TARGETS_KEY)
    names = [str(t["name"]) for t in targets if isinstance(t, dict) and "name" in t]
    found: dict[str, dict[str, Any]] = {}
    for name in names:
        key = f"runs/{run}/{name}.json"
        try:
            report = check_report(_get_json(s3, bucket, key), key)
        except s3.exceptions.NoSuchKey:
            found[name] = missing_result(name, "no drift report: the build failed before writing one")
            continue
        except FunctionInputError as exc:
            found[name] = missing_result(name, str(exc))
            continue
        envs = [e for e in report["environments"] if env_key(e) == name]
        found[name] = envs[0] if envs else missing_result(name, f"{key}: holds no result for {name}")
    return with_verdict([found[n] for n in names], aws_checks=True)


def _message(report: dict[str, Any]) -> str:
    s = report["summary"]
    lines = [f"provision fleet drift: {s['environments']} environment(s), {s['clean']} clean, {s['drift']} drift, "
             f"{s['error']} error"]  # fmt: skip
    lines += [f"- {env_key(e)}: {e['status']}" for e in report["environments"] if e["status"] != "clean"]
    if not s["drift"] and not s["error"]:
        lines.append("All drift resolved.")
    return "\n".join(lines)


def notify_on_change(s3: Any, sns: Any, bucket: str, topic: str, report: dict[str, Any]) -> str | None:
    """Publish when the fingerprint differs from the last one notified; the message id, or None if silent."""
    current = fingerprint(report)
    try:
        last = _get_json(s3, bucket, NOTIFIED_KEY).get("fingerprint")
    except s3.exceptions.NoSuchKey:
        last = fingerprint(with_verdict([], aws_checks=True))  # nothing notified yet: a clean fleet is news to nobody
    if current == last:
        return None
    message_id = str(
        sns.publish(TopicArn=topic, Subject="provision fleet drift", Message=_message(report))["MessageId"]
    )
    state = {"fingerprint": current, "generated_at": report["generated_at"], "summary": report["summary"]}
    s3.put_object(Bucket=bucket, Key=NOTIFIED_KEY, Body=json.dumps(state).encode(), ContentType="application/json")
    return message_id


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO"))
    run = str(event.get("run", ""))
    if not _RUN.fullmatch(run):
        raise FunctionInputError("event", f"run: {run[:80]!r} is not an execution name")
    bucket, topic = os.environ["RESULTS_BUCKET"], os.environ["ALERTS_TOPIC_ARN"]
    s3, sns = _client("s3"), _client("sns")
    report = collect(s3, bucket, run)
    body = json.dumps(report, indent=2).encode()
    for key in (f"runs/{run}/fleet.json", "latest.json"):
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    message_id = notify_on_change(s3, sns, bucket, topic, report)
    LOG.info("fleet run %s: %s, notified=%s", run, report["summary"], message_id is not None)
    return {"run": run, "summary": report["summary"], "exit_code": report["exit_code"], "message_id": message_id}

"""Drift notifications: tell people when an environment's drift *changes* (new, different, resolved), once.

The last notified state (status and a fingerprint of the drift) is kept next to the environment's state — in
the state bucket beside the tfstate, or beside the local state — so a scheduled job on a fresh CI machine
knows what it said last night and stays silent when nothing changed.

Targets (`--notify`, repeatable): a Slack-compatible `{"text": ...}` for hooks.slack.com and Teams-style
webhook hosts (or any URL written `slack:https://...`), the drift JSON for any other https URL, and
`sns:<topic ARN>` to publish to an SNS topic (the stack's own alert topic). `--github-issue` keeps one issue
per drifted environment: opened when drift appears, commented when it changes, closed when it is resolved.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from provisioner.errors import InputError, ProvisionError
from provisioner.functions.fleet.merge import drift_fingerprint
from provisioner.spec import iso_utc

if TYPE_CHECKING:
    from provisioner.drift.model import EnvironmentDrift
    from provisioner.spec import EnvironmentSpec
    from provisioner.ui import UI

Change = Literal["new", "changed", "resolved"]
STATE_FILE = "drift-notified.json"
_TEXT_HOSTS = ("hooks.slack.com",)
_TEXT_HOST_SUFFIXES = (".webhook.office.com", "outlook.office.com", ".logic.azure.com")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Target:
    kind: Literal["text", "json", "sns"]
    address: str  # a URL, or a topic ARN

    def label(self) -> str:
        if self.kind == "sns":
            return f"sns:{self.address}"
        return urllib.parse.urlsplit(self.address).netloc  # the path of a webhook URL is its secret


def parse_target(given: str) -> Target:
    """A --notify value; bad ones are input errors that name the value without its secret path."""
    if given.startswith("sns:"):
        arn = given.removeprefix("sns:")
        parts = arn.split(":")
        if len(parts) != 6 or parts[:3] != ["arn", parts[1], "sns"] or not parts[3] or not parts[5]:
            raise InputError(f"--notify {given}: expected sns:arn:aws:sns:REGION:ACCOUNT:TOPIC")
        return Target("sns", arn)
    forced = given.startswith("slack:")
    url = given.removeprefix("slack:")
    parts_url = urllib.parse.urlsplit(url)
    host = parts_url.hostname or ""
    if parts_url.scheme != "https" and not (parts_url.scheme == "http" and host in _LOOPBACK):
        # Never the path: a webhook URL's path is its secret.
        shown = f"{parts_url.scheme}://{parts_url.netloc}" if parts_url.netloc else url.split("/")[0]
        raise InputError(f"--notify {shown}/...: expected an https URL (http only to localhost) or sns:TOPIC_ARN")
    texty = forced or host in _TEXT_HOSTS or host.endswith(_TEXT_HOST_SUFFIXES)
    return Target("text" if texty else "json", url)


def fingerprint(env: EnvironmentDrift) -> str:
    """What the drift is, without when or how long it took: equal fingerprints mean nothing new to say (the
    fleet's aggregation judges with the same function)."""
    return drift_fingerprint(env.to_json())


def change_of(previous: dict[str, Any] | None, env: EnvironmentDrift) -> Change | None:
    """None when there is nothing to say: still clean, the same drift, or not checked (error)."""
    last = previous or {}
    was_drift = last.get("status") == "drift"
    if env.status == "clean":
        return "resolved" if was_drift else None
    if env.status != "drift":
        return None
    if not was_drift:
        return "new"
    return None if last.get("fingerprint") == fingerprint(env) else "changed"


# -- where the last notified state lives -------------------------------------------------------------------


@dataclass(frozen=True)
class StateStore:
    """Beside the environment's Terraform state: s3://bucket/<state key dir>/drift-notified.json, or the
    rendered root (the local backend keeps terraform.tfstate there)."""

    spec: EnvironmentSpec
    work_dir: Path

    @property
    def s3_key(self) -> str:
        return self.spec.state_key().rsplit("/", 1)[0] + "/" + STATE_FILE

    def where(self) -> str:
        if self.spec.backend.type == "s3":
            return f"s3://{self.spec.backend_bucket()}/{self.s3_key}"
        return str(self.work_dir / STATE_FILE)

    def load(self) -> dict[str, Any] | None:
        raw = self._read()
        if raw is None:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None  # unreadable: treated as never notified (at worst one repeated notification)
        return data if isinstance(data, dict) else None

    def _read(self) -> bytes | None:
        if self.spec.backend.type != "s3":
            path = self.work_dir / STATE_FILE
            return path.read_bytes() if path.is_file() else None
        from botocore.exceptions import ClientError

        from provisioner.aws import aws_error, client

        try:
            body = client("s3", self.spec.region).get_object(Bucket=self.spec.backend_bucket(), Key=self.s3_key)
            return bytes(body["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None  # never notified
            raise aws_error(f"reading {self.where()}", exc) from None
        except Exception as exc:  # unreachable bucket, no credentials
            raise aws_error(f"reading {self.where()}", exc) from None

    def save(self, record: dict[str, Any]) -> None:
        body = (json.dumps(record, indent=2, sort_keys=True) + "\n").encode()
        if self.spec.backend.type != "s3":
            self.work_dir.mkdir(parents=True, exist_ok=True)
            (self.work_dir / STATE_FILE).write_bytes(body)
            return
        from provisioner.aws import aws_error, client

        try:
            client("s3", self.spec.region).put_object(
                Bucket=self.spec.backend_bucket(), Key=self.s3_key, Body=body, ContentType="application/json"
            )
        except Exception as exc:
            raise aws_error(f"writing {self.where()}", exc) from None


# -- messages and delivery ---------------------------------------------------------------------------------


def _run_url() -> str | None:
    server, repo, run = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None


def headline(change: Change, env: EnvironmentDrift) -> str:
    c = env.counts()
    what = {"new": "drift detected", "changed": "drift changed", "resolved": "drift resolved"}[change]
    if change == "resolved":
        return f"{env.name}: {what} (the environment matches its code again)"
    return (
        f"{env.name}: {what}: {c['changed_outside']} changed outside Terraform, {c['pending']} pending, "
        f"{c['posture']} posture finding(s), {c['unmanaged']} unmanaged, {c['opensearch']} OpenSearch object(s)"
    )


def message_text(change: Change, env: EnvironmentDrift) -> str:
    from provisioner.report.drift import env_text

    run = _run_url()
    lines = [headline(change, env)]
    if change != "resolved":
        lines += env_text(env)[1:]
    return "\n".join(lines + ([f"run: {run}"] if run else []))


def payload(target: Target, change: Change, env: EnvironmentDrift) -> dict[str, Any]:
    if target.kind == "text":
        return {"text": message_text(change, env)}
    return {
        "event": "provision.drift",
        "change": change,
        "fingerprint": fingerprint(env),
        "run_url": _run_url(),
        "environment": env.to_json(),
    }


def _post(url: str, body: dict[str, Any], label: str) -> None:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("User-Agent", "provision")
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            resp.read()
    except urllib.error.HTTPError as exc:
        raise ProvisionError(f"--notify {label}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ProvisionError(f"--notify {label}: {getattr(exc, 'reason', exc)}") from None


def _publish_sns(arn: str, change: Change, env: EnvironmentDrift) -> None:
    from provisioner.aws import aws_error, client

    try:
        client("sns", arn.split(":")[3]).publish(
            TopicArn=arn, Subject=f"provision: drift {change} in {env.name}"[:100], Message=message_text(change, env)
        )
    except Exception as exc:
        raise aws_error(f"--notify sns:{arn}", exc) from None


def deliver(target: Target, change: Change, env: EnvironmentDrift) -> str:
    if target.kind == "sns":
        _publish_sns(target.address, change, env)
    else:
        _post(target.address, payload(target, change, env), target.label())
    return f"{change} drift -> {target.label()}"


def track_issue(change: Change, env: EnvironmentDrift) -> str:
    """One GitHub issue per drifted environment: opened, commented on change, closed when resolved."""
    from provisioner.github import GitHub, marker
    from provisioner.report.drift import env_markdown

    github = GitHub.from_env(permission="issues: write")
    hidden = marker("drift:", env.name)
    details = "\n".join(env_markdown(env)).strip()
    run = _run_url()
    body = f"{hidden}\n**{headline(change, env)}**\n\n{details}" + (f"\n\nRun: {run}" if run else "")
    issue = github.find_open_issue(hidden)
    if issue is None:
        if change == "resolved":
            return "no open issue to close"
        created = github.create_issue(f"Drift in {env.name}", body)
        return f"opened issue #{created.get('number')}"
    github.comment(int(issue["number"]), body)
    if change == "resolved":
        github.close_issue(int(issue["number"]))
        return f"closed issue #{issue['number']}"
    return f"commented on issue #{issue['number']}"


@dataclass(frozen=True)
class Notifier:
    targets: Sequence[Target]
    github_issue: bool = False

    @classmethod
    def from_options(cls, notify: Sequence[str], github_issue: bool) -> Notifier:
        """--notify/--github-issue checked before any environment is: bad input stops the run at once."""
        if github_issue:
            from provisioner.github import GitHub

            GitHub.from_env(permission="issues: write")  # GITHUB_REPOSITORY and GITHUB_TOKEN must be set
        return cls([parse_target(given) for given in notify], github_issue)

    @property
    def active(self) -> bool:
        return bool(self.targets) or self.github_issue

    def notify(self, env: EnvironmentDrift, store: StateStore, ui: UI) -> bool:
        """Notify on a change and remember it; False when some delivery failed (then nothing is remembered,
        so the next run tries again)."""
        previous = store.load()
        change = change_of(previous, env)
        if change is None:
            ui.info(f"[{env.name}] notify: nothing new ({env.status}; last notified: {_last(previous)})")
            return True
        sent = [_attempt(env, ui, partial(deliver, target, change, env)) for target in self.targets]
        if self.github_issue:
            sent.append(_attempt(env, ui, partial(track_issue, change, env)))
        if all(sent):
            now = iso_utc(datetime.now(UTC))
            store.save({"status": env.status, "fingerprint": fingerprint(env), "notified_at": now})
        return all(sent)


def _attempt(env: EnvironmentDrift, ui: UI, send: Callable[[], str]) -> bool:
    try:
        ui.info(f"[{env.name}] notify: {send()}")
    except ProvisionError as exc:
        ui.warn(f"[{env.name}] notify: {exc.message}")
        return False
    return True


def _last(previous: dict[str, Any] | None) -> str:
    if not previous:
        return "never"
    return f"{previous.get('status')} at {previous.get('notified_at')}"

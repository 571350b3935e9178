"""Drift notifications: only when an environment's drift changes (new, different, resolved), remembered beside
the state so a fresh CI machine stays silent about drift it already reported.

Real parts: `provision drift` with real terraform and the null provider (local backend: the notified state
beside terraform.tfstate); the S3 backend's state bucket and the SNS topic on a moto server; webhooks and the
GitHub API as local HTTP servers on 127.0.0.1 (tests/github_api.py for GitHub).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from provisioner.cli import app
from provisioner.drift.model import EnvironmentDrift
from provisioner.drift.notify import STATE_FILE, Notifier, StateStore, parse_target
from provisioner.errors import InputError, ProvisionError
from provisioner.plan import DriftResult
from provisioner.project import Project, WorkspaceRef
from provisioner.ui import UI
from provisioner.workspace import load_spec
from tests import test_drift as applied
from tests.github_api import FakeGitHub, actions_env, fake_github
from tests.webhook import Receiver

PLANS = Path(__file__).parent / "data" / "plans"


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    hooks = Receiver()
    yield hooks
    hooks.server.shutdown()
    hooks.server.server_close()


# -- `provision drift --notify` end to end: real terraform, local backend ----------------------------------


@pytest.fixture(scope="module")
def applied_project(tmp_path_factory: pytest.TempPathFactory, plugin_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("notify") / "project"
    shutil.copytree(applied.FIXTURE, root)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("TF_CLI_CONFIG_FILE", raising=False)
        mp.delenv("TF_PLUGIN_CACHE_DIR", raising=False)
        applied.apply(root, "dev", plugin_dir)
    return root


def drift(project: Path, plugin_dir: Path, receiver: Receiver) -> Result:
    hooks = ["--notify", f"slack:{receiver.url}/chat", "--notify", f"{receiver.url}/json"]
    return CliRunner().invoke(
        app,
        [
            "--project",
            str(project),
            "drift",
            "--env",
            "dev",
            "--no-aws-checks",
            "--plugin-dir",
            str(plugin_dir),
            *hooks,
        ],
    )


def test_drift_notifies_new_changed_and_resolved_only(
    applied_project: Path, plugin_dir: Path, receiver: Receiver, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(applied_project, project, symlinks=True)
    state = applied.state_path(project)
    clean_state = state.read_text()
    remembered = state.parent / STATE_FILE

    first = drift(project, plugin_dir, receiver)
    assert first.exit_code == 0, first.output
    assert receiver.take() == [] and not remembered.exists()  # clean and never notified: nothing to say

    applied.delete_behind_terraforms_back(project, 1)
    new = drift(project, plugin_dir, receiver)
    assert new.exit_code == 2, new.output
    (chat, chat_body), (hook, hook_body) = sorted(receiver.take())
    assert (chat, hook) == ("/chat", "/json")
    assert set(chat_body) == {"text"}
    assert chat_body["text"].startswith("dev: drift detected: 1 changed outside Terraform")
    assert "module.marker.null_resource.marker[1]" in chat_body["text"]
    assert (hook_body["event"], hook_body["change"]) == ("provision.drift", "new")
    assert hook_body["environment"]["status"] == "drift"
    assert json.loads(remembered.read_text())["status"] == "drift"

    same = drift(project, plugin_dir, receiver)
    assert same.exit_code == 2
    assert receiver.take() == []
    assert "notify: nothing new (drift" in same.output

    applied.delete_behind_terraforms_back(project, 0)
    changed = drift(project, plugin_dir, receiver)
    assert changed.exit_code == 2
    assert sorted(body.get("change", "text") for _, body in receiver.take()) == ["changed", "text"]

    state.write_text(clean_state)
    resolved = drift(project, plugin_dir, receiver)
    assert resolved.exit_code == 0, resolved.output
    posts = dict(receiver.take())
    assert posts["/chat"]["text"].startswith("dev: drift resolved")
    assert posts["/json"]["change"] == "resolved"
    assert json.loads(remembered.read_text())["status"] == "clean"

    again = drift(project, plugin_dir, receiver)
    assert again.exit_code == 0 and receiver.take() == []


def test_bad_notify_target_is_refused_before_any_check(fixture_project: Path, plugin_dir: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["--project", str(fixture_project), "drift", "--env", "dev", "--notify", "ftp://hooks.example/T0/secret-path"],
    )
    assert result.exit_code == 1  # drift's bad input: 1, so it cannot read as the drift verdict 2
    (line,) = result.output.strip().splitlines()
    assert (
        line
        == "error: --notify ftp://hooks.example/...: expected an https URL (http only to localhost) or sns:TOPIC_ARN"
    )
    assert not (fixture_project / ".provision").exists()
    outside_actions = CliRunner().invoke(
        app,
        ["--project", str(fixture_project), "drift", "--env", "dev", "--github-issue"],
        env={"GITHUB_REPOSITORY": "", "GITHUB_TOKEN": ""},
    )
    assert outside_actions.exit_code == 1
    assert outside_actions.output.startswith("error: GITHUB_REPOSITORY, GITHUB_TOKEN: not set")
    assert not (fixture_project / ".provision").exists()


def test_payload_kind_follows_the_url() -> None:
    assert parse_target("https://hooks.slack.com/services/T0/B0/x").kind == "text"
    assert parse_target("https://contoso.webhook.office.com/webhookb2/x").kind == "text"
    assert parse_target("slack:https://chat.example.org/hooks/x").kind == "text"
    assert parse_target("https://events.example.org/drift").kind == "json"
    sns = parse_target("sns:arn:aws:sns:eu-west-1:123456789012:alerts")
    assert (sns.kind, sns.address) == ("sns", "arn:aws:sns:eu-west-1:123456789012:alerts")
    assert parse_target("https://hooks.slack.com/services/T0/B0/secret").label() == "hooks.slack.com"
    for bad in ("http://hooks.example/x", "sns:arn:aws:s3:::bucket", "hooks.slack.com/x"):
        with pytest.raises(InputError):
            parse_target(bad)


# -- the S3 backend (moto): a fresh machine knows what was said; SNS; failed delivery ----------------------


def drifted(refresh: str = "drift_refresh", plan: str = "drift_plan") -> EnvironmentDrift:
    result = DriftResult.from_plans(
        json.loads((PLANS / f"{refresh}.json").read_text()), json.loads((PLANS / f"{plan}.json").read_text())
    )
    return EnvironmentDrift(environment="remote", workspace="remote", region="eu-west-1", terraform=result)


def clean() -> EnvironmentDrift:
    return EnvironmentDrift("remote", "remote", "eu-west-1", terraform=DriftResult((), ()), duration=3.0)


def fresh_store(project: Path, tmp_path: Path, machine: str) -> StateStore:
    """What a new CI runner builds: the spec, and a work dir that has never existed."""
    return StateStore(
        load_spec(Project(project), WorkspaceRef.parse("remote")), tmp_path / machine / ".provision" / "remote"
    )


def test_state_bucket_remembers_across_machines_and_sns_gets_changes(
    fixture_project: Path, aws: str, receiver: Receiver, tmp_path: Path
) -> None:
    import boto3

    s3 = boto3.client("s3", region_name="eu-west-1")
    bucket = "fixture-tfstate-123456789012-eu-west-1"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    sns = boto3.client("sns", region_name="eu-west-1")
    topic = sns.create_topic(Name="provision-alerts")["TopicArn"]
    sqs = boto3.client("sqs", region_name="eu-west-1")
    queue = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    notifier = Notifier([parse_target(f"{receiver.url}/json"), parse_target(f"sns:{topic}")])
    ui = UI()

    assert notifier.notify(drifted(), fresh_store(fixture_project, tmp_path, "runner-1"), ui)
    assert [body["change"] for _, body in receiver.take()] == ["new"]
    key = "provision/fixture/remote/drift-notified.json"  # beside provision/fixture/remote/terraform.tfstate
    assert json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())["status"] == "drift"

    # The next night, another runner: same drift (another duration), nothing said.
    same = drifted()
    same.duration = 42.0
    assert notifier.notify(same, fresh_store(fixture_project, tmp_path, "runner-2"), ui)
    assert receiver.take() == []

    assert notifier.notify(clean(), fresh_store(fixture_project, tmp_path, "runner-3"), ui)
    assert [body["change"] for _, body in receiver.take()] == ["resolved"]
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    bodies = sorted((json.loads(m["Body"]) for m in messages), key=lambda b: str(b["Subject"]))
    assert [b["Subject"] for b in bodies] == ["provision: drift new in remote", "provision: drift resolved in remote"]
    assert bodies[0]["Message"].startswith("remote: drift detected: 1 changed outside Terraform, 1 pending")
    assert bodies[1]["Message"] == "remote: drift resolved (the environment matches its code again)"


def test_failed_delivery_is_retried_next_run(
    fixture_project: Path, aws: str, receiver: Receiver, tmp_path: Path
) -> None:
    store = fresh_store(fixture_project, tmp_path, "runner")
    with pytest.raises(ProvisionError, match=r"^reading s3://fixture-tfstate-123456789012-eu-west-1/provision/"):
        Notifier([parse_target(f"{receiver.url}/json")]).notify(drifted(), store, UI())  # no state bucket yet
    assert receiver.take() == []
    import boto3

    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="fixture-tfstate-123456789012-eu-west-1", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    broken = Notifier([parse_target(f"{receiver.url}/json"), parse_target(f"{receiver.url}/down")])
    assert not broken.notify(drifted(), store, UI())
    assert store.load() is None  # not remembered: the next run says it again
    working = Notifier([parse_target(f"{receiver.url}/json")])
    receiver.take()
    assert working.notify(drifted(), store, UI())
    assert [body["change"] for _, body in receiver.take()] == ["new"]


# -- --github-issue: one issue per drifted environment -----------------------------------------------------


def test_github_issue_opened_commented_and_closed(
    fixture_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = StateStore(load_spec(Project(fixture_project), WorkspaceRef.parse("dev")), tmp_path / "work")
    notifier = Notifier([], github_issue=True)
    with fake_github() as api:
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"schedule": "41 5 * * *"}))
        for name, value in actions_env(api, str(event)).items():
            monkeypatch.setenv(name, value)
        api.add_issue("An unrelated bug", "text")
        api.add_issue("A pull request", "<!-- provision:drift:dev -->", pull_request=True)

        def dev(result: EnvironmentDrift) -> EnvironmentDrift:
            result.environment = result.workspace = "dev"  # type: ignore[misc]
            return result

        assert notifier.notify(dev(drifted()), store, UI())
        (issue,) = [i for i in api.open_issues() if i["title"] == "Drift in dev"]
        assert issue["body"].startswith("<!-- provision:drift:dev -->\n**dev: drift detected")
        assert "run: " not in issue["body"] and "https://github.com/octo/infra/actions/runs/4242" in issue["body"]

        calls = len(api.requests)
        assert notifier.notify(dev(drifted()), store, UI())  # the same drift: GitHub is not even asked
        assert len(api.requests) == calls

        assert notifier.notify(dev(drifted("drift_refresh", "mixed")), store, UI())
        assert len(api.comments[issue["number"]]) == 1
        assert api.comments[issue["number"]][0]["body"].startswith("<!-- provision:drift:dev -->\n**dev: drift changed")

        assert notifier.notify(dev(clean()), store, UI())
        assert issue["state"] == "closed" and issue["state_reason"] == "completed"
        assert "drift resolved" in api.comments[issue["number"]][-1]["body"]
        assert [i["title"] for i in api.open_issues()] == ["An unrelated bug"]


def test_forbidden_issue_call_is_one_line_and_not_remembered(
    fixture_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = StateStore(load_spec(Project(fixture_project), WorkspaceRef.parse("dev")), tmp_path / "work")
    api: FakeGitHub
    with fake_github() as api:
        api.fail_with = "forbidden"
        for name, value in actions_env(api, "").items():
            monkeypatch.setenv(name, value)
        assert not Notifier([], github_issue=True).notify(drifted(), store, UI())
    assert store.load() is None
    assert "the token needs issues: write" in capsys.readouterr().err

"""`provision comment FILE --key KEY` against a local server that answers as GitHub's REST API documents
(tests/github_api.py): one comment per key updated in place, pagination, the 65,536-character limit, runs
outside a pull request, and one-line API errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from provisioner.cli import app
from provisioner.github import MAX_BODY
from tests.github_api import FakeGitHub, actions_env, fake_github

PR = 42


def event_file(tmp_path: Path, event: dict[str, object]) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return str(path)


def pr_event(tmp_path: Path) -> str:
    return event_file(tmp_path, {"action": "synchronize", "number": PR, "pull_request": {"number": PR}})


def comment(file: Path, key: str, env: dict[str, str]) -> Result:
    return CliRunner().invoke(app, ["comment", str(file), "--key", key], env=env)


@pytest.fixture()
def api() -> FakeGitHub:  # type: ignore[misc]
    with fake_github() as server:
        yield server


def test_same_key_updates_one_comment_another_key_adds_one(api: FakeGitHub, tmp_path: Path) -> None:
    for n in range(150):  # the PR's earlier conversation: provision's comment will be on the second page
        api.add_comment(PR, f"review remark {n}")
    env = actions_env(api, pr_event(tmp_path))
    summary = tmp_path / "plan-summary.md"
    summary.write_text("## Plan: 3 to add\n")

    first = comment(summary, "plan-dev", env)
    assert first.exit_code == 0, first.output
    summary.write_text("## Plan: 4 to add, 1 to change\n")
    second = comment(summary, "plan-dev", env)
    assert second.exit_code == 0, second.output
    assert "updated comment" in second.output

    ours = [c for c in api.comments[PR] if "<!-- provision:comment:plan-dev -->" in c["body"]]
    assert len(ours) == 1
    assert ours[0]["body"] == "<!-- provision:comment:plan-dev -->\n## Plan: 4 to add, 1 to change\n"
    assert len(api.comments[PR]) == 151
    listed_pages = [path for method, path in api.requests if method == "GET"]
    assert any("page=2" in path for path in listed_pages)  # followed the Link header

    prod = comment(summary, "plan-prod", env)
    assert prod.exit_code == 0, prod.output
    assert len(api.comments[PR]) == 152
    assert api.comments[PR][-1]["body"].startswith("<!-- provision:comment:plan-prod -->\n")


def test_a_200_kb_file_is_cut_below_the_limit_with_a_link_to_the_run(api: FakeGitHub, tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    lines = [f"| module.app.aws_s3_bucket.b{n} | create |" for n in range(6000)]
    big.write_text("## Plan\n" + "\n".join(lines) + "\n")
    assert len(big.read_text()) > 200_000

    result = comment(big, "plan-dev", actions_env(api, pr_event(tmp_path), run_id="987"))
    assert result.exit_code == 0, result.output
    (posted,) = api.comments[PR]
    body = posted["body"]
    assert len(body) <= MAX_BODY
    assert body.startswith("<!-- provision:comment:plan-dev -->\n## Plan\n| module.app.aws_s3_bucket.b0 | create |")
    kept = body.split("\n\n**Cut here:**")[0].splitlines()
    assert kept[-1].startswith("| module.app.aws_s3_bucket.b") and kept[-1].endswith("| create |")  # whole lines
    assert "https://github.com/octo/infra/actions/runs/987" in body
    assert f"{len(big.read_text()):,} characters" in body


def test_outside_a_pull_request_nothing_is_called(api: FakeGitHub, tmp_path: Path) -> None:
    summary = tmp_path / "s.md"
    summary.write_text("hello\n")
    push = event_file(tmp_path, {"ref": "refs/heads/main", "after": "abc"})
    result = comment(summary, "plan-dev", actions_env(api, push))
    assert result.exit_code == 0
    assert "not a pull-request run" in result.output
    not_actions = {k: v for k, v in actions_env(api, push).items() if k != "GITHUB_EVENT_PATH"}
    assert comment(summary, "plan-dev", {**not_actions, "GITHUB_EVENT_PATH": ""}).exit_code == 0
    assert api.requests == []


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        ("forbidden", "HTTP 403: Resource not accessible by integration: the token needs pull-requests: write"),
        ("rate_limit", "HTTP 403: rate limit exceeded (resets at epoch 1765112400)"),
    ],
)
def test_api_errors_are_one_line(api: FakeGitHub, tmp_path: Path, failure: str, expected: str) -> None:
    api.fail_with = failure
    summary = tmp_path / "s.md"
    summary.write_text("hello\n")
    result = comment(summary, "plan-dev", actions_env(api, pr_event(tmp_path)))
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: GitHub API GET ") and expected in line


def test_bad_input_is_exit_2_and_nothing_is_called(api: FakeGitHub, tmp_path: Path) -> None:
    summary = tmp_path / "s.md"
    summary.write_text("hello\n")
    env = actions_env(api, pr_event(tmp_path))
    no_token = comment(summary, "plan-dev", {**env, "GITHUB_TOKEN": ""})
    assert no_token.exit_code == 2
    assert no_token.output.startswith("error: GITHUB_TOKEN: not set")
    bad_key = comment(summary, "plan dev<!--", env)
    assert bad_key.exit_code == 2 and "--key" in bad_key.output
    missing = comment(tmp_path / "nope.md", "plan-dev", env)
    assert missing.exit_code == 2 and "nope.md: cannot read" in missing.output
    assert api.requests == []

"""`provision comment FILE --key KEY`: one pull-request comment per key, updated in place on every run.

Everything comes from what GitHub Actions provides: GITHUB_EVENT_PATH (the event JSON, which carries the PR
number), GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_TOKEN, and GITHUB_SERVER_URL/GITHUB_RUN_ID for the link
when the file is cut to GitHub's body limit.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from provisioner.errors import InputError
from provisioner.github import MAX_BODY, GitHub, fit, marker

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$")


def pull_request_number(env: Mapping[str, str]) -> int | None:
    """The PR of this run: `pull_request`/`pull_request_target` events, or a comment on a PR."""
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return None
    try:
        event: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"GITHUB_EVENT_PATH {path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InputError(f"GITHUB_EVENT_PATH {path}: not JSON: {exc}") from None
    if not isinstance(event, dict):
        return None
    pr = event.get("pull_request")
    if isinstance(pr, dict) and isinstance(pr.get("number"), int):
        return int(pr["number"])
    issue = event.get("issue")
    if isinstance(issue, dict) and issue.get("pull_request") and isinstance(issue.get("number"), int):
        return int(issue["number"])
    return None


def comment_body(text: str, key: str, env: Mapping[str, str]) -> str:
    """The marker line, then the file; over GitHub's limit its head, a note that it was cut, and the run."""
    hidden = marker("comment:", key)
    server, repo, run = env.get("GITHUB_SERVER_URL"), env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
    where = f"[the workflow run]({server}/{repo}/actions/runs/{run})" if server and repo and run else "the workflow run"
    notice = (
        f"**Cut here:** the full report is {len(text):,} characters, over GitHub's {MAX_BODY:,}-character "
        f"comment limit; see {where} for all of it."
    )
    return fit(f"{hidden}\n{text}", notice)


def post_comment(path: Path, key: str, env: Mapping[str, str], echo: Any = typer.echo) -> str:
    """Posts or updates the comment; returns what happened ("created", "updated" or "skipped")."""
    if not _KEY.match(key):
        raise InputError(f"--key {key!r}: use letters, digits and _.:/- (at most 100 characters)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    number = pull_request_number(env)
    if number is None:
        echo("not a pull-request run (no pull request in GITHUB_EVENT_PATH): nothing posted")
        return "skipped"
    github = GitHub.from_env(env)
    action, posted = github.upsert_comment(number, marker("comment:", key), comment_body(text, key, env))
    echo(f"{action} comment {posted.get('html_url') or posted.get('id')} on pull request #{number} (key {key})")
    return action


def comment(
    file: Annotated[Path, typer.Argument(help="Markdown to post (e.g. the plan summary from --report-dir).")],
    key: Annotated[str, typer.Option("--key", help="One comment per key, updated in place (e.g. plan-dev).")],
) -> None:
    """Post FILE as a comment on the run's pull request, or update the one posted before with the same --key."""
    post_comment(file, key, os.environ)

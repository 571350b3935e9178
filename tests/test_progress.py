"""Progress display fed with the event stream the runner captured from a real terraform apply."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from provisioner.progress import Progress, use_plain

EVENTS = Path(__file__).parent / "data" / "plans" / "apply_events.jsonl"
TOTAL = 5  # mixed.json: 2 creates, 2 replaces, 1 delete


def events() -> list[dict[str, Any]]:
    return [json.loads(line) for line in EVENTS.read_text().splitlines()]


def test_plain_mode_prints_one_line_per_resource_event() -> None:
    out = io.StringIO()
    with Progress(total=TOTAL, stream=out, plain=True) as progress:
        for event in events():
            progress(event)
    lines = out.getvalue().splitlines()
    resource_events = [e for e in events() if e["type"].startswith("apply_")]
    assert len(lines) == len(resource_events) + 1  # + Terraform's closing change summary
    assert lines[0].startswith("[0/5 00:00] null_resource.")
    assert lines[-1].startswith("[5/5 ")
    assert lines[-1].endswith("Apply complete! Resources: 4 added, 0 changed, 3 destroyed.")
    assert any("null_resource.swap: Destroying..." in line for line in lines)


def test_a_replace_counts_as_one_resource_done() -> None:
    progress = Progress(total=TOTAL, stream=io.StringIO(), plain=True)
    completes = 0
    for event in events():
        progress(event)
        completes += event["type"] == "apply_complete"
    assert completes == 7  # three deletes (two of them halves of replaces) and four creates
    assert len(progress.done) == TOTAL
    assert progress.current is None
    assert not progress.errored


def test_current_resource_is_the_one_in_flight() -> None:
    progress = Progress(total=TOTAL, stream=io.StringIO(), plain=True)
    stream = events()
    first_start = next(i for i, e in enumerate(stream) if e["type"] == "apply_start")
    for event in stream[: first_start + 1]:
        progress(event)
    assert progress.current == stream[first_start]["hook"]["resource"]["addr"]


def test_live_mode_renders_the_bar_and_the_log() -> None:
    out = io.StringIO()
    with Progress(total=TOTAL, stream=out, plain=False) as progress:
        for event in events():
            progress(event)
    text = out.getvalue()
    assert "5/5" in text
    assert "Apply complete! Resources: 4 added, 0 changed, 3 destroyed." in text
    assert "\x1b[" in text  # a live terminal display, not plain lines


def test_plain_is_chosen_off_a_terminal_and_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert use_plain(io.StringIO())
    leader, follower = os.openpty()
    with os.fdopen(follower, "w") as tty:
        try:
            assert not use_plain(tty)
            assert use_plain(tty, no_color=True)
            assert Progress(total=1, stream=tty).plain is False
            monkeypatch.setenv("CI", "true")
            assert use_plain(tty)
        finally:
            os.close(leader)


def test_no_values_reach_the_display() -> None:
    out = io.StringIO()
    with Progress(total=TOTAL, stream=out, plain=True) as progress:
        for event in events():
            progress(event)
    assert "s3cr3t" not in out.getvalue()
    outputs_event = next(e for e in events() if e["type"] == "outputs")
    assert all("value" not in meta for meta in outputs_event["outputs"].values())


def _domain_event(kind: str, message: str, action: str, elapsed: int | None = None) -> dict[str, Any]:
    """An apply event of the shape Terraform 1.0's `-json` UI gives (`hook.resource`, `hook.elapsed_seconds`)."""
    addr = "module.opensearch.aws_opensearch_domain.this"
    resource = {"addr": addr, "module": "module.opensearch", "resource_type": "aws_opensearch_domain"}
    hook: dict[str, Any] = {"resource": resource, "action": action}
    if elapsed is not None:
        hook["elapsed_seconds"] = elapsed
    return {"type": kind, "@message": f"{addr}: {message}", "hook": hook}


@pytest.mark.parametrize(
    ("action", "verb", "done"), [("create", "creating", "Creation"), ("delete", "destroying", "Destruction")]
)
def test_the_fixed_opensearch_wait_is_explained_with_the_time_left(action: str, verb: str, done: str) -> None:
    from provisioner.progress import WAIT_REASON

    out = io.StringIO()
    with Progress(total=1, stream=out, plain=True) as progress:
        progress(_domain_event("apply_start", f"{verb.capitalize()}...", action))
        for elapsed in range(10, 660, 10):  # Terraform reports every 10 s
            progress(_domain_event("apply_progress", f"Still {verb}... [{elapsed}s elapsed]", action, elapsed))
        progress(_domain_event("apply_complete", f"{done} complete after 11m0s", action))
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 + 10 + 1, "plain output: one still-line a minute, not one every 10 s"
    assert lines[0].endswith(f"{verb.capitalize()}... ({WAIT_REASON}: 10:00 left)")
    assert lines[1].endswith(f"Still {verb}... [60s elapsed] ({WAIT_REASON}: 09:00 left)")
    assert lines[9].endswith(f"[540s elapsed] ({WAIT_REASON}: 01:00 left)")
    assert lines[10].endswith(f"[600s elapsed] ({WAIT_REASON}: checking now)")
    assert WAIT_REASON not in lines[-1] and lines[-1].startswith("[1/1 ")

"""One streamed terraform process: stdout lines as events, stderr drained aside, Ctrl-C forwarded to it.

The process runs in a session of its own so that the terminal's Ctrl-C reaches Terraform once, through us: the
first Ctrl-C is forwarded (Terraform finishes the current resource, writes state, releases its lock), a second
one stops waiting and, after a grace period, kills the process group.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from provisioner.terraform.diagnostics import Diagnostic, lock_id_from, parse_plain_diagnostics

log = logging.getLogger(__name__)

# After the second Ctrl-C Terraform exits at once; this is how long it gets before the group is killed.
KILL_GRACE_SECONDS = 3.0

EventHandler = Callable[[dict[str, Any]], None]


def scrub(event: dict[str, Any]) -> dict[str, Any]:
    """Output values ride on the `outputs` event; progress and logs never need them."""
    if event.get("type") == "outputs" and isinstance(event.get("outputs"), dict):
        event = dict(event)
        event["outputs"] = {
            name: {k: v for k, v in (meta or {}).items() if k != "value"} for name, meta in event["outputs"].items()
        }
    return event


def as_event(line: str) -> dict[str, Any]:
    """A `-json` event as Terraform printed it; any other line as a `{"type": "log"}` event."""
    if line.startswith("{"):
        try:
            event = json.loads(line)
        except ValueError:
            pass
        else:
            if isinstance(event, dict):
                return event
    return {"type": "log", "@level": "info", "@message": line}


@dataclass
class ProcessRun:
    """One terraform process: state shared by the reader loop and the SIGINT handler, then what it left."""

    proc: subprocess.Popen[str]
    interrupts: int = 0
    lock_id: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    killer: threading.Timer | None = None
    callback_error: Exception | None = None
    returncode: int = 0
    stderr: str = ""

    def on_line(self, line: str, on_event: EventHandler | None) -> None:
        if not line.strip():
            return
        event = as_event(line)
        if event.get("type") == "diagnostic":
            diag = Diagnostic.from_json(event.get("diagnostic") or {})
            self.diagnostics.append(diag)
            self.lock_id = self.lock_id or lock_id_from([diag])
        if on_event is not None and self.callback_error is None:
            try:
                on_event(scrub(event))
            except Exception as exc:  # a broken display must not orphan a terraform holding a lock
                self.callback_error = exc

    def on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self.proc.poll() is not None:
            return  # terraform already exited: nothing left to stop
        self.interrupts += 1
        if self.interrupts == 1:
            log.warning("Ctrl-C: terraform stops after the current operation (Ctrl-C again to abort)")
        # To the whole group, as a terminal would: terraform 1.0's panicwrap parent ignores SIGINT and leaves
        # it to its worker child in the same group. A second one makes terraform exit at once; the timer
        # covers a terraform that does not.
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGINT)
        if self.interrupts == 2:
            self.killer = threading.Timer(KILL_GRACE_SECONDS, self.kill)
            self.killer.daemon = True
            self.killer.start()

    def kill(self) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def finish(self) -> None:
        """After an abort nothing graceful is left to wait for: reap plugins or provisioners left behind."""
        if self.killer is not None:
            self.killer.cancel()
        if self.interrupts >= 2:
            self.kill()


@contextmanager
def _sigint_forwarding(run: ProcessRun) -> Iterator[None]:
    """Route SIGINT to `run` while it lives; only the main thread may own signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, run.on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stream(argv: Sequence[str], env: Mapping[str, str], on_event: EventHandler | None) -> ProcessRun:
    """Runs argv, handing each stdout line to on_event as it arrives; collects diagnostics from the events and
    from stderr; owns Ctrl-C while it runs. The caller decides what an interrupt or a callback error means."""
    proc = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        bufsize=1,
        env=dict(env),
        start_new_session=True,
    )
    run = ProcessRun(proc)
    stderr_lines: list[str] = []
    drain = threading.Thread(target=_drain, args=(proc, stderr_lines), daemon=True)
    drain.start()
    with _sigint_forwarding(run):
        assert proc.stdout is not None
        for raw in proc.stdout:
            run.on_line(raw.rstrip("\n"), on_event)
        run.returncode = proc.wait()
        run.finish()
    drain.join(timeout=5)
    run.stderr = "".join(stderr_lines)
    run.diagnostics.extend(parse_plain_diagnostics(run.stderr))
    if run.stderr.strip():
        log.debug("terraform stderr: %s", run.stderr.strip())
    return run


def _drain(proc: subprocess.Popen[str], sink: list[str]) -> None:
    assert proc.stderr is not None
    for line in proc.stderr:
        sink.append(line)

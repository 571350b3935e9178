"""Live progress of an apply/destroy from Terraform's `-json` UI events.

On a terminal: a rich live line (spinner, bar, done/total, current resource, elapsed). Otherwise, with
`no_color`, or under CI: one plain line per resource event, and for a resource still in flight one line a
minute. Only Terraform's own messages and addresses are shown; provisioner output (`provision_progress`) and
output values are never printed. Where the provider waits a fixed time before it first checks a resource, the
line says so, with the time left, so a bar that does not move for minutes is explained.
"""

from __future__ import annotations

import math
import os
import sys
import time
from types import TracebackType
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

_RESOURCE_EVENTS = {"apply_start", "apply_progress", "apply_complete", "apply_errored"}
# hashicorp/aws (5.x and 6.x) creates and deletes an OpenSearch domain with `tfresource.WithDelay(10*time.Minute)`:
# no status check before 10 minutes have passed, on the emulator too.
FIXED_WAITS = {"aws_opensearch_domain": 600}
WAIT_REASON = "the aws provider waits a fixed 10 minutes before it first checks an OpenSearch domain"
PLAIN_STILL_EVERY = 60  # seconds between two plain "Still creating..." lines of one resource


def use_plain(stream: TextIO, no_color: bool = False) -> bool:
    """Plain lines unless writing to an interactive terminal outside CI."""
    return no_color or bool(os.environ.get("CI")) or not stream.isatty()


class Progress:
    """Pass an instance as `on_event` to `Terraform.apply`; use it as a context manager around the run."""

    def __init__(self, total: int, stream: TextIO | None = None, plain: bool | None = None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.plain = use_plain(self.stream) if plain is None else plain
        self.done: set[str] = set()
        self.active: dict[str, str] = {}  # address -> action in flight
        self.errored: list[str] = []
        self.waits: dict[str, tuple[int, float]] = {}  # address -> (fixed wait in seconds, when it started)
        self.started = time.monotonic()
        self._rich: RichProgress | None = None
        self._task: TaskID | None = None

    @property
    def current(self) -> str | None:
        return next(reversed(self.active), None)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def __enter__(self) -> Progress:
        self.started = time.monotonic()
        if not self.plain:
            console = Console(file=self.stream, force_terminal=True)  # plain=False: the caller wants it live
            self._rich = RichProgress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )
            self._task = self._rich.add_task("starting", total=max(self.total, 1))
            self._rich.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._rich is not None:
            self._refresh("finished" if exc_type is None and not self.errored else "stopped")
            self._rich.stop()
            self._rich = None

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind in _RESOURCE_EVENTS:
            self._resource_event(str(kind), event)
        elif kind == "diagnostic":
            diag = event.get("diagnostic") or {}
            self._show(f"{diag.get('severity', 'error')}: {diag.get('summary', '')}", True)
        elif kind == "change_summary":
            self._show(str(event.get("@message", "")), True)

    def _resource_event(self, kind: str, event: dict[str, Any]) -> None:
        hook = event.get("hook") or {}
        resource = hook.get("resource") or {}
        address = str(resource.get("addr", "?"))
        message = str(event.get("@message", address))
        if kind == "apply_start":
            self.done.discard(address)  # a replace starts the same address twice
            self.active[address] = action = str(hook.get("action", ""))
            wait = FIXED_WAITS.get(str(resource.get("resource_type", "")))
            if wait and action in ("create", "delete"):
                self.waits[address] = (wait, time.monotonic())
        elif kind == "apply_progress":
            elapsed = hook.get("elapsed_seconds")
            if self._rich is None and isinstance(elapsed, int) and elapsed % PLAIN_STILL_EVERY:
                return  # plain output: one "Still ..." line a minute per resource is enough
        else:
            self.active.pop(address, None)
            self.waits.pop(address, None)
            if kind == "apply_complete":
                self.done.add(address)
            else:
                self.errored.append(address)
        elapsed = hook.get("elapsed_seconds")
        waiting = self.wait_note(address, elapsed if isinstance(elapsed, int) else None)
        self._show(f"{message} ({waiting})" if waiting else message, kind != "apply_progress")

    def wait_note(self, address: str, elapsed: float | None = None) -> str | None:
        """Why a resource in a fixed provider wait shows no change, and for how much longer (from Terraform's
        own elapsed time when the event has it)."""
        if address not in self.waits:
            return None
        wait, since = self.waits[address]
        left = wait - (time.monotonic() - since if elapsed is None else elapsed)
        return f"{WAIT_REASON}: {_clock(math.ceil(left))} left" if left > 0 else f"{WAIT_REASON}: checking now"

    def status_line(self, message: str) -> str:
        return f"[{len(self.done)}/{self.total} {_clock(self.elapsed)}] {message}"

    def _show(self, message: str, log: bool) -> None:
        if self._rich is None:
            print(self.status_line(message), file=self.stream, flush=True)
            return
        if log:
            self._rich.console.print(message, markup=False, highlight=False)
        current = self.current
        note = self.wait_note(current) if current else None
        self._refresh(f"{current} ({note})" if note else current or "waiting")

    def _refresh(self, description: str) -> None:
        if self._rich is not None and self._task is not None:
            self._rich.update(self._task, completed=len(self.done), description=description)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"

"""Live progress of an apply/destroy from Terraform's `-json` UI events.

On a terminal: a rich live line (spinner, bar, done/total, current resource, elapsed). Otherwise, with
`no_color`, or under CI: one plain line per resource event. Only Terraform's own messages and addresses are
shown; provisioner output (`provision_progress`) and output values are never printed.
"""

from __future__ import annotations

import os
import sys
import time
from types import TracebackType
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

_RESOURCE_EVENTS = {"apply_start", "apply_progress", "apply_complete", "apply_errored"}


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
            hook = event.get("hook") or {}
            address = str((hook.get("resource") or {}).get("addr", "?"))
            if kind == "apply_start":
                self.done.discard(address)  # a replace starts the same address twice
                self.active[address] = str(hook.get("action", ""))
            elif kind == "apply_complete":
                self.active.pop(address, None)
                self.done.add(address)
            elif kind == "apply_errored":
                self.active.pop(address, None)
                self.errored.append(address)
            self._show(str(event.get("@message", address)), kind != "apply_progress")
        elif kind == "diagnostic":
            diag = event.get("diagnostic") or {}
            self._show(f"{diag.get('severity', 'error')}: {diag.get('summary', '')}", True)
        elif kind == "change_summary":
            self._show(str(event.get("@message", "")), True)

    def status_line(self, message: str) -> str:
        return f"[{len(self.done)}/{self.total} {_clock(self.elapsed)}] {message}"

    def _show(self, message: str, log: bool) -> None:
        if self._rich is None:
            print(self.status_line(message), file=self.stream, flush=True)
            return
        if log:
            self._rich.console.print(message, markup=False, highlight=False)
        self._refresh(self.current or "waiting")

    def _refresh(self, description: str) -> None:
        if self._rich is not None and self._task is not None:
            self._rich.update(self._task, completed=len(self.done), description=description)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"

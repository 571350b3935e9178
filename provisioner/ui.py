"""How core code talks to the operator: steps, warnings, confirmations. Core modules never print directly."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class UI:
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    color: bool = False
    interactive: bool = False
    verbose: bool = False  # -v: plan summaries with every changed attribute

    @classmethod
    def create(cls, *, no_color: bool = False, verbose: bool = False) -> UI:
        tty = sys.stdout.isatty()
        ci = bool(os.environ.get("CI"))
        color = tty and not no_color and not ci and "NO_COLOR" not in os.environ
        return cls(color=color, interactive=sys.stdin.isatty() and not ci, verbose=verbose)

    @property
    def plain(self) -> bool:
        return not self.color

    def _style(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def step(self, message: str) -> None:
        print(self._style(f"==> {message}", "1"), file=self.out, flush=True)

    def info(self, message: str) -> None:
        print(message, file=self.out, flush=True)

    def success(self, message: str) -> None:
        print(self._style(message, "32"), file=self.out, flush=True)

    def warn(self, message: str) -> None:
        print(self._style(f"warning: {message}", "33"), file=self.err, flush=True)

    def error(self, message: str) -> None:
        print(self._style(message, "31"), file=self.err, flush=True)

    def confirm(self, prompt: str, *, expected: str = "yes") -> bool:
        """Ask the operator to type `expected`; without a terminal the answer is no."""
        if not self.interactive:
            return False
        print(f"{prompt} Type {expected!r} to continue: ", end="", file=self.out, flush=True)
        try:
            answer = sys.stdin.readline()
        except (EOFError, OSError):
            return False
        return answer.strip() == expected

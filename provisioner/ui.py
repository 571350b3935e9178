"""How core code talks to the operator: steps, warnings, confirmations. Core modules never print directly."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from typing import TextIO

# Characters a terminal acts on instead of printing (ESC sequences clear the screen, retitle the window or
# recolour what follows; CR and backspace overwrite a line; bidi controls reorder it): C0 but newline and tab,
# DEL, C1, and the Unicode bidi embeddings/overrides/isolates.
_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)] if c not in (0x09, 0x0A)}
_CONTROL.update({c: f"\\u{c:04x}" for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]})
_CONTROL_ONE_LINE = {**_CONTROL, 0x09: "\\t", 0x0A: "\\n"}
_JSON_UNSAFE = {c: f"\\u{c:04x}" for c in [*range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


_SGR = re.compile(r"(\x1b\[[0-9;]*m)")


def terminal_safe(text: str) -> str:
    """Text for a terminal: every control character but newline and tab shown as an escape (`\\x1b`). Colour
    (SGR) sequences, which the plan summary paints itself, pass: they cannot move the cursor or clear anything."""
    parts = _SGR.split(text)
    return "".join(part if n % 2 else part.translate(_CONTROL) for n, part in enumerate(parts))


def printable(text: str) -> str:
    """Like terminal_safe, colour sequences included (for files: XML 1.0 forbids those characters)."""
    return text.translate(_CONTROL)


def one_line(text: str) -> str:
    """A field from a report, finding or log on one line: newlines and tabs escaped too (no fake lines)."""
    return text.translate(_CONTROL_ONE_LINE)


def json_safe(text: str) -> str:
    """JSON text (as json.dumps writes it, which escapes only C0) with DEL, C1 and bidi controls escaped as
    well; they can only occur inside strings, where `\\u00XX` means the same character."""
    return text.translate(_JSON_UNSAFE)


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
        print(self._style(f"==> {terminal_safe(message)}", "1"), file=self.out, flush=True)

    def info(self, message: str) -> None:
        print(terminal_safe(message), file=self.out, flush=True)

    def success(self, message: str) -> None:
        print(self._style(terminal_safe(message), "32"), file=self.out, flush=True)

    def warn(self, message: str) -> None:
        print(self._style(f"warning: {terminal_safe(message)}", "33"), file=self.err, flush=True)

    def error(self, message: str) -> None:
        print(self._style(terminal_safe(message), "31"), file=self.err, flush=True)

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

"""Terraform diagnostics: from `-json` events, from the human (`-no-color`) output, and the lock ID in them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Diagnostic:
    """One Terraform diagnostic; `filename`/`line` are set when Terraform gave a source range."""

    severity: str
    summary: str
    detail: str = ""
    filename: str | None = None
    line: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Diagnostic:
        rng = data.get("range") or {}
        start = rng.get("start") or {}
        return cls(
            severity=str(data.get("severity", "error")),
            summary=str(data.get("summary", "")).strip(),
            detail=str(data.get("detail") or "").strip(),
            filename=rng.get("filename"),
            line=start.get("line"),
        )

    @property
    def location(self) -> str | None:
        if self.filename is None:
            return None
        return f"{self.filename}:{self.line}" if self.line is not None else self.filename

    def __str__(self) -> str:
        text = f"{self.location}: {self.summary}" if self.location else self.summary
        return f"{text}: {self.detail}" if self.detail else text


_PLAIN_DIAG = re.compile(r"^(Error|Warning): (.*)$")
_PLAIN_RANGE = re.compile(r"^\s+on (\S+) line (\d+)")
_SNIPPET_LINE = re.compile(r"^\s+(\d+:|\(source code not available\))")
_LOCK_ID = re.compile(r"Lock Info:.*?\bID:\s+(\S+)", re.DOTALL)


def parse_plain_diagnostics(text: str) -> list[Diagnostic]:
    """Diagnostics from Terraform's human output (`-no-color`), for commands without `-json`."""
    found: list[Diagnostic] = []
    block: list[str] = []
    head: re.Match[str] | None = None

    def flush() -> None:
        if head is None:
            return
        filename: str | None = None
        line: int | None = None
        detail: list[str] = []
        for raw in block:
            rng = _PLAIN_RANGE.match(raw)
            if rng and filename is None:
                filename, line = rng[1], int(rng[2])
            elif not _SNIPPET_LINE.match(raw):
                detail.append(raw.strip())
        found.append(
            Diagnostic(
                severity=head[1].lower(),
                summary=head[2].strip(),
                detail=" ".join(part for part in detail if part),
                filename=filename,
                line=line,
            )
        )

    for raw in text.splitlines():
        raw = raw.lstrip("│╷╵ ") if raw[:1] in "│╷╵" else raw
        match = _PLAIN_DIAG.match(raw)
        if match:
            flush()
            head, block = match, []
        elif head is not None:
            block.append(raw)
    flush()
    return found


def lock_id_from(diagnostics: Sequence[Diagnostic]) -> str | None:
    for diag in diagnostics:
        match = _LOCK_ID.search(diag.detail) or _LOCK_ID.search(diag.summary)
        if match:
            return match[1]
    return None

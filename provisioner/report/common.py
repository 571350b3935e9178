"""Helpers every format shares: value display, Markdown escaping, indentation, writing a report file."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from provisioner.errors import ProvisionError
from provisioner.ui import one_line

SENSITIVE = "(sensitive)"
UNKNOWN = "(known after apply)"


def show_value(value: Any) -> str:
    """A (masked) attribute value as one line: labels as they are, everything else as JSON."""
    if value in (SENSITIVE, UNKNOWN):
        return str(value)
    return json.dumps(value, sort_keys=True)


def md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return one_line(text.replace("|", "\\|").replace("\n", " "))


def indent(lines: Iterable[str], width: int) -> list[str]:
    return [" " * width + line for line in lines]


def write_output(path: Path, text: str, *, option: str = "--output") -> None:
    """Write a report file, creating its directory; a failure is one line naming the option and path."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as exc:
        raise ProvisionError(f"{option} {path}: cannot write: {exc.strerror}") from None

"""Files the user names on the command line: inputs read with a cap, output directories checked before writing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from provisioner.errors import InputError

# Reports and log files the user names: far above any real one, far below what exhausts memory.
MAX_INPUT_BYTES = 256 * 1024 * 1024


def read_input(path: Path) -> bytes:
    """A file the user named on the command line, at most MAX_INPUT_BYTES (a pipe is read with that cap, so
    one that never ends is refused, not a MemoryError); a failure is one line naming it."""
    too_large = InputError(f"{path}: larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB: not a report or log file")
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if not (stat.S_ISREG(info.st_mode) or stat.S_ISFIFO(info.st_mode)):  # `<(zcat …)` is a pipe
                raise InputError(f"{path}: not a regular file")
            if info.st_size > MAX_INPUT_BYTES:
                raise too_large
            data = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise too_large
    return data

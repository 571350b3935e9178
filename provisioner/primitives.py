"""Host-only primitives, one helper each (the Lambda-safe ones live in `functions/common.py`): replacing a file
in one step, and the "did you mean" suggestion of every error message."""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomic(path: Path, data: bytes | str) -> None:
    """Replace `path` in one step: a reader (or a crash) sees the old content or the new, never half of it.
    The file is the owner's only (mkstemp's 0600): several hold configuration or plan values."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp: 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_if_changed(path: Path, data: bytes) -> bool:
    """`write_atomic`, leaving an identical file untouched (its mtime stays, which Terraform and caches like);
    whether it wrote."""
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return False
    write_atomic(path, data)
    return True


def did_you_mean(word: str, choices: Iterable[str], *, quote: str = "'", cutoff: float = 0.6) -> str:
    """` (did you mean 'x'?)` for the closest choice, or "" when none is close; HCL messages quote with `"`."""
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return f" (did you mean {quote}{found[0]}{quote}?)" if found else ""

"""Files the user names on the command line: inputs read with a cap, output directories checked before writing."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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


def check_output_file(path: Path | None, option: str) -> None:
    """A report file the command will write: its directory as check_output_dir checks it, and not a directory."""
    if path is not None and path.is_dir():
        raise InputError(f"{option} {path}: is a directory where a file is to be written")
    if path is not None:
        check_output_dir(path.parent, option)


def check_output_dir(path: Path, option: str, names: Iterable[str] = ()) -> None:
    """Before anything is written: `path` is (or can be made) a directory we can write in, and none of the file
    `names` (relative, possibly with subdirectories) collides with a directory or a non-directory parent there.
    InputError names the option, the path and the reason."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():  # a dangling link: writing would follow it somewhere else
            raise InputError(f"{option} {existing}: a dangling symbolic link")
        existing = existing.parent
    if not existing.is_dir():
        where = "is a file" if existing == path else f"is under {existing}, which is not a directory"
        raise InputError(f"{option} {path}: {where}")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot write in {existing}: {exc.strerror or exc}") from None
    for name in names:
        relative = Path(name)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise InputError(f"{option} {path}: refusing to write {name!r} outside the directory")
        target = path / relative
        for parent in list(reversed(relative.parents))[1:]:
            if (path / parent).exists() and not (path / parent).is_dir():
                raise InputError(f"{option} {path}: {path / parent} is a file where a directory is needed")
        if target.is_dir():
            raise InputError(f"{option} {path}: {target} is a directory where a file is to be written")


@contextmanager
def writing(path: Path, option: str) -> Iterator[None]:
    """A write that fails after the checks (disk full, a race) is still one line, not a traceback."""
    try:
        yield
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot write: {exc.strerror or exc}") from None

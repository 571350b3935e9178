"""The emulator's record: `.provision/emulator.json` = {pid, port, endpoint, started_at, moto_version, log}."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from provisioner.errors import InputError
from provisioner.primitives import write_atomic
from provisioner.project import Project

RECORD_FILE = "emulator.json"
LOG_FILE = "emulator.log"


@dataclass(frozen=True)
class EmulatorRecord:
    pid: int
    port: int
    started_at: str
    moto_version: str

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def record_path(project: Project) -> Path:
    return project.work_root / RECORD_FILE


def log_path(project: Project) -> Path:
    return project.work_root / LOG_FILE


def load(project: Project) -> EmulatorRecord | None:
    """The record, None when there is none; a record that is not ours to read is bad input (exit 2)."""
    path = record_path(project)
    if not path.exists():
        return None
    shown = project.relative(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return EmulatorRecord(
            pid=int(data["pid"]),
            port=int(data["port"]),
            started_at=str(data["started_at"]),
            moto_version=str(data["moto_version"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"{shown}: unreadable emulator record ({type(exc).__name__}: {exc}); "
            f"delete it (and stop any moto server it named) and run `provision emulator start`"
        ) from None


def save(project: Project, record: EmulatorRecord) -> None:
    path = record_path(project)
    write_atomic(path, json.dumps(asdict(record), indent=2, sort_keys=True) + "\n")


def remove(project: Project) -> None:
    record_path(project).unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers kill(0): treat it as dead.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"

"""Start, reuse, inspect and stop the emulator process; its record lives in `.provision/emulator.json`."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

from provisioner.emulator import MOTO_VERSION
from provisioner.emulator.record import EmulatorRecord, load, log_path, pid_alive, record_path, remove, save
from provisioner.errors import InputError, ProvisionError
from provisioner.functions.common import iso_utc
from provisioner.project import Project

READY_TIMEOUT = 60.0


def answers(endpoint: str, timeout: float = 2.0) -> bool:
    """True when an HTTP server answers on `endpoint`. Any status counts: `/moto-api/data.json` answers 500
    once some resources exist, and a busy emulator must never be mistaken for a dead one."""
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(
                    f"--port {port}: 127.0.0.1:{port} is already in use by another process; "
                    "pick another port or leave --port out to use a free one"
                ) from None
            raise InputError(f"--port {port}: cannot listen on 127.0.0.1:{port} ({exc.strerror})") from None


def status(project: Project) -> tuple[EmulatorRecord | None, bool]:
    """(record, running): running means the recorded process is alive and answers on its port."""
    record = load(project)
    if record is None:
        return None, False
    return record, pid_alive(record.pid) and answers(record.endpoint)


def ensure_running(project: Project, port: int | None = None) -> EmulatorRecord:
    """Reuse the recorded emulator when it answers; otherwise (no record, dead pid) start a new one."""
    record, running = status(project)
    if record is not None and not running and pid_alive(record.pid) and _is_emulator(record.pid):
        running = _wait_for(record.endpoint, READY_TIMEOUT)  # alive but busy: never thrown away with its state
        if not running:
            raise ProvisionError(
                f"the emulator (pid {record.pid}) runs but does not answer on {record.endpoint}",
                hint=f"see {project.relative(log_path(project))}; `provision emulator stop` discards it and its state",
            )
    if record is not None and running:
        if port is not None and port != record.port:
            raise InputError(
                f"--port {port}: the emulator already runs on port {record.port} "
                f"({project.relative(record_path(project))}); stop it first with `provision emulator stop`"
            )
        return record
    if record is not None:
        remove(project)  # a stale record: its process is gone
    return _start(project, port)


def _wait_for(endpoint: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if answers(endpoint, timeout=5.0):
            return True
        time.sleep(0.5)
    return False


def _start(project: Project, port: int | None) -> EmulatorRecord:
    if port is not None:
        _check_port_free(port)
    chosen = port or free_port()
    log = log_path(project)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "provisioner.emulator.server", "--port", str(chosen)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives `provision`; Ctrl-C in the terminal does not reach it
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    record = EmulatorRecord(
        pid=proc.pid,
        port=chosen,
        started_at=iso_utc(datetime.now(UTC)),
        moto_version=MOTO_VERSION,
    )
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ProvisionError(
                f"the emulator exited with code {proc.returncode} before answering on port {chosen}",
                hint=f"see {project.relative(log)}",
            )
        if answers(record.endpoint, timeout=1.0):
            save(project, record)
            return record
        time.sleep(0.2)
    _terminate(proc.pid)
    raise ProvisionError(
        f"the emulator did not answer on {record.endpoint} within {READY_TIMEOUT:.0f}s",
        hint=f"see {project.relative(log)}",
    )


def stop(project: Project) -> EmulatorRecord | None:
    """Stop the recorded emulator (its state is lost); None when nothing was running."""
    record = load(project)
    if record is None:
        return None
    alive = pid_alive(record.pid)
    if alive:
        _terminate(record.pid)
    remove(project)
    return record if alive else None


def _is_emulator(pid: int) -> bool:
    """Only a process running our server module is ever signalled (a recorded pid may have been reused)."""
    try:
        cmdline = open(f"/proc/{pid}/cmdline", "rb").read()  # noqa: SIM115 - one read
    except OSError:
        return False
    return b"provisioner.emulator.server" in cmdline


def _terminate(pid: int, wait: float = 10.0) -> None:
    """SIGTERM the emulator's process group, then SIGKILL if it lingers."""
    if not _is_emulator(pid):
        return
    for sig, grace in ((signal.SIGTERM, wait), (signal.SIGKILL, 2.0)):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return
            except ChildProcessError:
                pass
            if not pid_alive(pid):
                return
            time.sleep(0.1)

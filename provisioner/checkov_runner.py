"""Runs Checkov from its own virtualenv: one long-lived worker per run, or one CLI process per scan.

The worker (`checkov_worker.py`, run by the Python of Checkov's venv) imports Checkov once and forks a child per
scan, so a `plan` pays one Checkov start-up for two scans and can start it before Terraform needs the CPU.
A `checkov` that is not a Python script (or a platform without fork) falls back to one CLI process per scan,
with the same arguments. Both run in a process group of their own: the terminal's Ctrl-C reaches provision
only, and `close()` stops every Checkov process of the run (no strays, whatever ended it).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from provisioner.errors import ProvisionError, ToolMissingError

WORKER_SCRIPT = Path(__file__).with_name("checkov_worker.py")
# Arguments every scan gets: JSON report on stdout, no guideline download, no code blocks in the report.
COMMON_ARGS = ("-o", "json", "--skip-download", "--compact")


def find_checkov() -> Path:
    """PROVISION_CHECKOV, else the isolated venv `make install` creates, else `checkov` on PATH."""
    explicit = os.environ.get("PROVISION_CHECKOV")
    if explicit:
        path = Path(explicit)
        if not path.exists():
            raise ToolMissingError(f"PROVISION_CHECKOV={explicit}: no such file")
        return path
    bundled = Path(sys.prefix) / "opt" / "checkov" / "bin" / "checkov"
    if bundled.exists():
        return bundled
    found = shutil.which("checkov")
    if found:
        return Path(found)
    raise ToolMissingError(
        "checkov not found",
        hint="run `make install` (installs it in .venv/opt/checkov) or set PROVISION_CHECKOV to a checkov binary",
    )


def checkov_python(checkov: Path) -> Path | None:
    """The interpreter of a `checkov` console script (its shebang), or None when it is not one."""
    try:
        with checkov.open("rb") as handle:
            first = handle.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    interpreter = Path(first[2:].decode(errors="replace").strip().split()[0])
    return interpreter if "python" in interpreter.name and interpreter.exists() else None


def checkov_version_id(checkov: Path) -> str | None:
    """Checkov's installed distribution (name-version plus a digest of its RECORD), read without starting it.

    Used as part of the scan cache key; None (no reuse) when it cannot be told for sure."""
    import hashlib

    python = checkov_python(checkov)
    if python is None:
        return None
    prefix = python.parent.parent
    found = sorted(prefix.glob("lib/python*/site-packages/checkov-*.dist-info/RECORD"))
    if len(found) != 1:
        return None
    return f"{found[0].parent.name}:{hashlib.sha256(found[0].read_bytes()).hexdigest()[:16]}"


def checkov_env() -> dict[str, str]:
    env = dict(os.environ)
    # No outbound calls: no guideline download, no update check, no vendor API.
    env.update(
        {
            "BC_SKIP_MAPPING": "TRUE",
            "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
            "CHECKOV_SKIP_PACKAGE_UPDATE_CHECK": "true",
            "LOG_LEVEL": "ERROR",
            "ANSI_COLORS_DISABLED": "1",
        }
    )
    for key in ("BC_API_KEY", "PRISMA_API_URL"):
        env.pop(key, None)
    return env


def parse_output(stdout: str, stderr: str, returncode: int) -> list[dict[str, Any]]:
    """Checkov's JSON report: exit 0 (passed) or 1 (failed checks); anything else is a tool failure."""
    if returncode not in (0, 1):
        tail = (stderr or stdout).strip().splitlines()[-1:] or ["no output"]
        raise ProvisionError(f"checkov failed (exit {returncode}): {tail[0]}")
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError:
        raise ProvisionError(f"checkov printed no JSON report (exit {returncode})") from None
    # One framework gives a dict, several a list; an empty scan gives a summary-only dict.
    return data if isinstance(data, list) else [data]


def _kill_group(proc: subprocess.Popen[Any]) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


class CheckovRunner:
    """Starts scans (`submit`) and collects them (`wait`); `close()` ends every process it started."""

    def __init__(self, *, use_worker: bool | None = None) -> None:
        self.checkov = find_checkov()
        if use_worker is None:  # PROVISION_CHECKOV_WORKER=0: one CLI process per scan (debugging, benchmarks)
            use_worker = os.environ.get("PROVISION_CHECKOV_WORKER", "1") != "0"
        self.python = checkov_python(self.checkov) if use_worker and hasattr(os, "fork") else None
        self._tmp = Path(tempfile.mkdtemp(prefix="provision-checkov-"))  # 0700: plan reports hold values
        self._worker: subprocess.Popen[bytes] | None = None
        self._worker_out: IO[bytes] | None = None
        self._done: dict[str, int] = {}
        self._cli: dict[str, subprocess.Popen[bytes]] = {}
        self._cwd: dict[str, Path] = {}
        self.version: str | None = None
        if self.python is not None:
            with (self._tmp / "worker.err").open("wb") as stderr:
                self._worker = subprocess.Popen(
                    [str(self.python), "-I", str(WORKER_SCRIPT)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    bufsize=0,
                    env=checkov_env(),
                    start_new_session=True,
                )
            self._worker_out = self._worker.stdout

    @property
    def mode(self) -> str:
        return "worker" if self._worker is not None else "cli"

    def submit(self, scan_id: str, args: Sequence[str], cwd: Path) -> None:
        out = self._tmp / f"{scan_id}.json"
        argv = [*args, *COMMON_ARGS]
        self._cwd[scan_id] = cwd
        if self._worker is not None:
            assert self._worker.stdin is not None
            request = {"id": scan_id, "argv": argv, "cwd": str(cwd), "out": str(out)}
            try:
                self._worker.stdin.write((json.dumps(request) + "\n").encode())
                self._worker.stdin.flush()
            except BrokenPipeError:
                raise ProvisionError(f"the checkov worker stopped: {self._worker_error()}") from None
            return
        with out.open("wb") as stdout, Path(f"{out}.err").open("wb") as stderr:
            self._cli[scan_id] = subprocess.Popen(
                [str(self.checkov), *argv],
                cwd=cwd,
                env=checkov_env(),
                stdout=stdout,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def wait(self, scan_id: str) -> list[dict[str, Any]]:
        """Blocks until scan `scan_id` ends; its parsed JSON report (the output file is removed)."""
        returncode = self._wait_worker(scan_id) if self._worker is not None else self._cli.pop(scan_id).wait()
        out = self._tmp / f"{scan_id}.json"
        err = Path(f"{out}.err")
        try:
            stdout = out.read_text(encoding="utf-8", errors="replace") if out.exists() else ""
            stderr = err.read_text(encoding="utf-8", errors="replace") if err.exists() else ""
        finally:
            out.unlink(missing_ok=True)
            err.unlink(missing_ok=True)
        return parse_output(stdout, stderr, returncode)

    def finished(self, scan_id: str) -> bool:
        """Whether scan `scan_id` has ended, without blocking (a dead worker counts as ended)."""
        if self._worker is None:
            return self._cli[scan_id].poll() is not None
        assert self._worker_out is not None
        while scan_id not in self._done and select.select([self._worker_out], [], [], 0)[0]:
            if not self._read_message():
                return True
        return scan_id in self._done

    def _wait_worker(self, scan_id: str) -> int:
        while scan_id not in self._done:
            if not self._read_message():
                raise ProvisionError(f"the checkov worker stopped: {self._worker_error()}")
        return self._done.pop(scan_id)

    def _read_message(self) -> bool:
        """Reads one line of the worker (unbuffered, so `select` tells the truth); False at its end."""
        assert self._worker_out is not None
        line = self._worker_out.readline()
        if not line:
            return False
        message = json.loads(line)
        if message.get("ready"):
            self.version = str(message.get("version"))
        elif "id" in message:
            self._done[str(message["id"])] = int(message["rc"])
        return True

    def _worker_error(self) -> str:
        text = (self._tmp / "worker.err").read_text(errors="replace").strip() if self._tmp.exists() else ""
        return text.splitlines()[-1] if text else "no error output"

    def pids(self) -> list[int]:
        """The process ids this runner started (worker or CLI processes), for tests and diagnostics."""
        procs = [self._worker] if self._worker is not None else list(self._cli.values())
        return [p.pid for p in procs if p is not None]

    def close(self) -> None:
        """Stops the worker and every scan still running (their whole process groups); idempotent."""
        if self._worker is not None:
            with suppress(OSError):
                if self._worker.stdin is not None:
                    self._worker.stdin.close()
            _kill_group(self._worker)
            if self._worker_out is not None:
                self._worker_out.close()
        for proc in self._cli.values():
            _kill_group(proc)
        self._cli.clear()
        shutil.rmtree(self._tmp, ignore_errors=True)

"""A long-lived Checkov worker, run by the Python of Checkov's own virtualenv (never imported by provision).

It pays Checkov's start-up (importing `checkov.main`, 1.3-1.8 s) once, then runs each scan it is sent in a
forked child: every scan starts from the same freshly imported state, exactly like a new `checkov` process,
so results match the CLI (Checkov keeps module-level runner state that a second in-process run would reuse).
Scans overlap freely (the configuration scan may still run when the plan scan arrives).

Protocol, one JSON object per line. stdin: `{"id", "argv", "cwd", "out"}`; the child writes Checkov's stdout
to `out` and its stderr to `out + ".err"`. stdout: `{"ready": true, "version"}` once imported, then
`{"id", "rc"}` per finished scan. EOF on stdin ends the worker and any scan still running.
Imports only the standard library and checkov: it runs where python-hcl2 and provision are not installed.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import sys
import traceback
import warnings
from typing import Any


def _child(request: dict[str, Any]) -> int:
    """Runs one scan in the forked child; returns Checkov's exit code (as the `checkov` script would)."""
    from checkov.main import Checkov

    out = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err = os.open(request["out"] + ".err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.chdir(request["cwd"])
    argv = [str(a) for a in request["argv"]]
    sys.argv = ["checkov", *argv]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=SyntaxWarning)
            code = Checkov(argv).run()
    except SystemExit as exc:  # argparse errors and Checkov's own exits
        code = exc.code if isinstance(exc.code, int) else 2
    except BaseException:
        traceback.print_exc()
        code = 2
    sys.stdout.flush()
    sys.stderr.flush()
    return int(code or 0)


def _start(request: dict[str, Any]) -> int:
    pid = os.fork()
    if pid == 0:
        code = 2
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            code = _child(request)
        finally:
            os._exit(code)
    return pid


def _send(message: dict[str, Any]) -> None:
    os.write(1, (json.dumps(message) + "\n").encode())


def _reap(children: dict[int, str], block: bool) -> None:
    while children:
        pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
        if pid == 0:
            return
        request_id = children.pop(pid, None)
        if request_id is not None:
            _send({"id": request_id, "rc": os.waitstatus_to_exitcode(status)})
        block = False


def _stop(children: dict[int, str]) -> None:
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in list(children):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def main() -> int:
    # Terminal Ctrl-C is provision's to handle: it stops this worker (and its scans) itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import checkov.main  # noqa: F401  (the start-up every scan shares)
    from checkov.version import version

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # checkov.main installs its own SIGINT handler on import
    _send({"ready": True, "version": version})
    children: dict[int, str] = {}
    pending = b""
    try:
        while True:
            readable, _, _ = select.select([0], [], [], 0.02 if children else None)
            if readable:
                chunk = os.read(0, 65536)
                if not chunk:
                    return 0
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if line.strip():
                        request = json.loads(line)
                        children[_start(request)] = str(request["id"])
            _reap(children, block=False)
    finally:
        _stop(children)


if __name__ == "__main__":
    sys.exit(main())

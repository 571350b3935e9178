"""One error family for the whole tool, and the one boundary that turns any exception into an exit code.

Exit codes: 0 ok; 1 refused or failed (a gate said no, AWS or Terraform failed); 2 bad input (a flag, spec or
file the user gave) — except for commands whose exit code 2 is a verdict (`drift`: 2 = drift), where bad input
exits 1 so it cannot read as a verdict; 3 a bug in provision (an unexpected exception; the traceback goes to a
file, named in the message); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import os
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1  # refused, failed, or a gate said no
EXIT_BAD_INPUT = 2  # the user's input (spec, flags, files) is wrong
EXIT_DRIFT = 2  # `provision drift`: drift found (documented alongside the command)
EXIT_BUG = 3  # an unexpected exception: a defect in provision, not the user's doing
EXIT_INTERRUPTED = 130


class ProvisionError(Exception):
    """A fatal, user-facing error: its message is one line, printed without a traceback."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(ProvisionError):
    """Bad input: a spec, a flag, or a file the user gave. Exit 2, nothing written."""

    exit_code = EXIT_BAD_INPUT


class SpecError(InputError):
    """An environment spec is invalid; the message names the file, key path and reason."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        where = f"{file}: {key}: " if key else f"{file}: "
        super().__init__(f"{where}{reason}")
        self.file = file
        self.key = key
        self.reason = reason


class ToolMissingError(ProvisionError):
    """A required external tool (terraform, checkov) is missing or too old."""


class TerraformError(ProvisionError):
    """Terraform failed; carries its diagnostics (summary lines) and exit code."""

    def __init__(
        self,
        message: str,
        *,
        diagnostics: list[str] | None = None,
        returncode: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.diagnostics = diagnostics or []
        self.returncode = returncode


class GateFailed(ProvisionError):
    """A safety gate (Checkov, plan hash, account check, protection) refused to go on."""


class Interrupted(ProvisionError):
    """The user pressed Ctrl-C; exit 130."""

    exit_code = EXIT_INTERRUPTED


@dataclass(frozen=True)
class ExitPolicy:
    """How a command reports bad input: 2, unless 2 is one of the command's verdicts."""

    bad_input: int = EXIT_BAD_INPUT


DEFAULT_POLICY = ExitPolicy()
VERDICT_POLICY = ExitPolicy(bad_input=EXIT_FAILED)


def _is_usage_error(exc: BaseException) -> bool:
    # Typer's (or Click's) usage errors: recognised by shape, so no private Typer module is imported.
    return callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int)


def _crash_file(exc: BaseException) -> Path:
    handle, name = tempfile.mkstemp(prefix="provision-crash-", suffix=".log")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write("".join(traceback.format_exception(exc)))
    return Path(name)


def exit_code_for(exc: BaseException, policy: ExitPolicy, echo: Callable[[str], None]) -> int:
    """The boundary: report `exc` on stderr through `echo` and return the exit code."""
    if isinstance(exc, KeyboardInterrupt):
        echo("error: interrupted")
        return EXIT_INTERRUPTED
    if isinstance(exc, ProvisionError):
        echo(f"error: {exc.message}")
        if exc.hint:
            echo(f"hint: {exc.hint}")
        return policy.bad_input if isinstance(exc, InputError) else exc.exit_code
    if _is_usage_error(exc):
        exc.show()  # type: ignore[attr-defined]
        code = int(exc.exit_code)  # type: ignore[attr-defined]
        return policy.bad_input if code == EXIT_BAD_INPUT else code
    if type(exc).__name__ == "Abort":  # Typer's Abort: the prompt was left with Ctrl-C/Ctrl-D
        echo("error: interrupted")
        return EXIT_INTERRUPTED
    crash = _crash_file(exc)
    echo(f"error: internal error (a bug in provision, not in your input): {type(exc).__name__}: {exc}")
    echo(f"hint: the traceback is in {crash}; please report it with that file")
    return EXIT_BUG

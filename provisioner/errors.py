"""One error family for the whole tool; the CLI maps it to exit codes in one place."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # refused, failed, or a gate said no
EXIT_BAD_INPUT = 2  # the user's input (spec, flags, files) is wrong
EXIT_DRIFT = 2  # `provision drift`: drift found (documented alongside the command)
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

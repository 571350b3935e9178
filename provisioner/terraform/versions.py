"""Which Terraform-compatible CLI a `version -json` output comes from, and the oldest release of each we support.

Terraform and OpenTofu both print `terraform_version`; only Terraform prints `terraform_outdated` (its upgrade
check, which OpenTofu removed: `internal/command/views/version.go` in opentofu has no such field). That key, not
the binary's file name, tells them apart: a `tofu` renamed or symlinked to `terraform` is still OpenTofu.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

TERRAFORM = "terraform"
OPENTOFU = "OpenTofu"

# Terraform 1.5: `check` and `import` blocks and the S3 backend our modules and template rely on; OpenTofu forked
# from 1.5 and released 1.6 first.
MINIMUM: dict[str, tuple[int, int, int]] = {TERRAFORM: (1, 5, 0), OPENTOFU: (1, 6, 0)}


@dataclass(frozen=True)
class CliVersion:
    product: str
    version: tuple[int, int, int]

    @property
    def text(self) -> str:
        return ".".join(str(part) for part in self.version)

    @property
    def minimum(self) -> tuple[int, int, int]:
        return MINIMUM[self.product]

    @property
    def supported(self) -> bool:
        return self.version >= self.minimum


def parse_version_json(output: str) -> CliVersion | None:
    """The product and version in `terraform version -json` / `tofu version -json` output; None if it is neither
    (before 0.13 `version -json` printed plain text: such a Terraform is reported by its version, too old)."""
    try:
        data = json.loads(output)
    except ValueError:
        data = None
    if isinstance(data, dict):
        text = str(data.get("terraform_version", ""))
        product = TERRAFORM if "terraform_outdated" in data else OPENTOFU
        if product == OPENTOFU and not text.startswith("1."):
            product = TERRAFORM  # Terraform 0.13-0.15 (`terraform_outdated` came later); OpenTofu began at 1.6
    else:
        text, product = output, (OPENTOFU if "OpenTofu" in output else TERRAFORM)
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    if match is None:
        return None
    return CliVersion(product, (int(match[1]), int(match[2]), int(match[3])))

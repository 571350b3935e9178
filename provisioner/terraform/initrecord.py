"""Which terraform initialised a work dir: written after every successful `init`, read before the next one.

Terraform keeps the backend's configuration in `.terraform/` in its own version's form: a work dir initialised
by 1.0.3 and then used by 1.11.4 fails with "Backend configuration changed ... -migrate-state" (the S3 backend
gained settings in between). With the binary and version that made `.terraform/` on record, a different one
re-initialises with `-reconfigure` (the state stays where it is; nothing migrates), and a plan saved by one is
never handed to another.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from provisioner.terraform.binary import TerraformBinary

RECORD_FILE = "terraform-init.json"  # in the work dir, next to .terraform/


@dataclass(frozen=True)
class InitRecord:
    path: str
    version: str

    @classmethod
    def of(cls, binary: TerraformBinary) -> InitRecord:
        return cls(str(binary.path), binary.version_text)

    def __str__(self) -> str:
        return f"terraform {self.version} ({self.path})"


def read_record(work_dir: Path) -> InitRecord | None:
    """The record, or None when provision never initialised this work dir (or the file is unreadable)."""
    try:
        data = json.loads((work_dir / RECORD_FILE).read_text(encoding="utf-8"))
        return InitRecord(str(data["path"]), str(data["version"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_record(work_dir: Path, binary: TerraformBinary) -> None:
    record = InitRecord.of(binary)
    text = json.dumps({"path": record.path, "version": record.version}, indent=2) + "\n"
    (work_dir / RECORD_FILE).write_text(text, encoding="utf-8")


def binary_change(work_dir: Path, binary: TerraformBinary) -> InitRecord | None:
    """The record of a different terraform (path or version) that initialised `work_dir`; None if the same."""
    previous = read_record(work_dir)
    if previous is None or previous == InitRecord.of(binary):
        return None
    return previous

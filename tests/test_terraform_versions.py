"""Terraform or OpenTofu, and which version, from `version -json` outputs (recorded; OpenTofu's built from its
source: it cannot be installed here, see tests/data/SOURCES.md)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provisioner.errors import ToolMissingError
from provisioner.terraform import find_terraform
from provisioner.terraform.versions import OPENTOFU, TERRAFORM, parse_version_json

VERSIONS = Path(__file__).parent / "data" / "terraform-versions"


@pytest.mark.parametrize(
    ("name", "product", "version", "supported"),
    [
        ("terraform-1.0.3.json", TERRAFORM, (1, 0, 3), False),
        ("terraform-1.11.4.json", TERRAFORM, (1, 11, 4), True),
        ("terraform-1.15.5.json", TERRAFORM, (1, 15, 5), True),
        ("tofu-1.6.2.json", OPENTOFU, (1, 6, 2), True),
        ("tofu-1.10.7.json", OPENTOFU, (1, 10, 7), True),
    ],
)
def test_product_and_version_from_version_json(
    name: str, product: str, version: tuple[int, int, int], supported: bool
) -> None:
    found = parse_version_json((VERSIONS / name).read_text())
    assert found is not None
    assert (found.product, found.version, found.supported) == (product, version, supported)


def test_plain_text_and_garbage() -> None:
    old = parse_version_json("Terraform v0.12.31\n")  # before 0.13 `version -json` printed text
    assert old is not None and (old.product, old.version, old.supported) == (TERRAFORM, (0, 12, 31), False)
    assert parse_version_json("OpenTofu v1.7.0\non linux_amd64\n") is not None
    assert parse_version_json('{"platform": "linux_amd64"}') is None
    assert parse_version_json("") is None


def _fake_cli(tmp_path: Path, recorded: str, name: str = "terraform") -> Path:
    """A stand-in that prints a recorded `version -json` output; only find_terraform's version check runs it."""
    cli = tmp_path / name
    cli.write_text(f"#!/bin/sh\ncat '{VERSIONS / recorded}'\n")
    cli.chmod(0o755)
    return cli


def test_terraform_older_than_1_5_is_refused_in_one_line(tmp_path: Path) -> None:
    old = _fake_cli(tmp_path, "terraform-1.0.3.json")
    with pytest.raises(ToolMissingError, match=r"is terraform 1\.0\.3; provision needs >= 1\.5\.0$") as err:
        find_terraform({"PROVISION_TERRAFORM": str(old), "PATH": os.environ["PATH"]})
    assert "\n" not in str(err.value)
    assert err.value.hint is not None and "PROVISION_TERRAFORM" in err.value.hint


def test_opentofu_is_accepted_and_named(tmp_path: Path) -> None:
    # Named `terraform` on purpose: the product comes from the output, not the file name.
    tofu = _fake_cli(tmp_path, "tofu-1.6.2.json")
    found = find_terraform({"PROVISION_TERRAFORM": str(tofu), "PATH": os.environ["PATH"]})
    assert (found.product, found.version_text, found.label) == (OPENTOFU, "1.6.2", "OpenTofu 1.6.2")


SYSTEM_TERRAFORM = Path("/usr/local/bin/terraform")  # 1.11.4 on machines of this kind (TOOLCHAIN.md)


def test_the_system_terraform_is_accepted() -> None:
    if not SYSTEM_TERRAFORM.is_file():
        pytest.fail(f"{SYSTEM_TERRAFORM} missing: this test needs the machine's second terraform")
    found = find_terraform({"PROVISION_TERRAFORM": str(SYSTEM_TERRAFORM), "PATH": os.environ["PATH"]})
    assert found.product == TERRAFORM and found.version >= (1, 5, 0)

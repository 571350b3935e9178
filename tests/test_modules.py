"""House rules every module of the stack follows, checked on all of them with the one HCL loader
(`tests/hcl_modules.py`); component-specific security properties are in test_modules_cicd.py and
test_modules_monitoring.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.hcl_modules import MODULES, REPO, module, module_names

KMS_ARN_CHECK = 'can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))'


def test_terraform_fmt_is_clean(terraform_bin: Path) -> None:
    result = subprocess.run(
        [str(terraform_bin), "fmt", "-check", "-recursive", "-diff", str(MODULES)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", module_names())
def test_module_pins_terraform_and_admits_aws_5_100_and_6(name: str) -> None:
    (terraform,) = module(name).terraform
    assert terraform["required_version"] == ">= 1.0"
    (providers,) = terraform["required_providers"]
    assert providers == {"aws": {"source": "hashicorp/aws", "version": ">= 5.100, < 7"}}, "aws 5.100 and 6.x"
    assert (MODULES / name / "README.md").is_file()


@pytest.mark.parametrize("name", module_names())
def test_variables_are_typed_and_described_and_outputs_described(name: str) -> None:
    mod = module(name)
    assert "tags" in mod.variables or name == "secure_bucket" or "tags" in mod.variables
    for var, body in mod.variables.items():
        assert body.get("type"), f"{name}: variable {var} has no type"
        assert body.get("description"), f"{name}: variable {var} has no description"
    for out, body in mod.outputs.items():
        assert body.get("description"), f"{name}: output {out} has no description"


@pytest.mark.parametrize("name", [n for n in module_names() if "kms_key_arn" in module(n).variables])
def test_the_stack_key_is_validated_the_same_way_everywhere(name: str) -> None:
    validations = module(name).variables["kms_key_arn"].get("validation", [])
    assert [v["condition"] for v in validations] == ["${" + KMS_ARN_CHECK + "}"], name

"""House rules every module of the stack follows, checked on all of them with the one HCL loader
(`tests/hcl_modules.py`); component-specific security properties are in test_modules_cicd.py and
test_modules_monitoring.py."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.hcl_modules import MODULES, REPO, module, module_names

KMS_ARN_CHECK = 'can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))'


SYSTEM_TERRAFORM = Path("/usr/local/bin/terraform")  # 1.11.4 on machines of this kind (TOOLCHAIN.md)


@pytest.mark.parametrize("which", ["default", "system"])
def test_terraform_fmt_is_clean(which: str, terraform_bin: Path) -> None:
    """Both terraforms of the version matrix parse every module and agree it is formatted (no 1.5 binary exists
    here: modules use nothing newer than 1.7's `terraform test` files, which only `terraform test` reads)."""
    binary = terraform_bin if which == "default" else SYSTEM_TERRAFORM
    if not binary.is_file():
        pytest.fail(f"{binary} missing: this test needs the machine's second terraform")
    result = subprocess.run(
        [str(binary), "fmt", "-check", "-recursive", "-diff", str(MODULES)],
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
    assert terraform["required_version"] == ">= 1.5"
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


@pytest.mark.parametrize("name", module_names())
def test_the_region_comes_one_way(name: str) -> None:
    """From the provider (`data.aws_region.current.name`, both in aws 5.100 and 6.x), never from a variable."""
    mod = module(name)
    assert "region" not in mod.variables, f"{name}: takes the region as a variable"
    text = mod.text()
    assert "data.aws_region.current.region" not in text, f"{name}: .region exists only in aws 6.x"
    if "aws_region" in text:
        assert mod.locals.get("region") == "${data.aws_region.current.name}", name


_REFERENCE = re.compile(r"\b(var|local|module|data\.[a-z0-9_]+|aws_[a-z0-9_]+)\.([a-z0-9_]+)\b")


@pytest.mark.parametrize("name", module_names())
def test_references_resolve(name: str) -> None:
    """Every var./local./module./data./resource reference names something the module declares."""
    parsed = module(name)
    declared: dict[str, set[str]] = {
        "var": set(parsed["variable"]),
        "local": set(parsed["locals"]),
        "module": set(parsed["module"]),
    }
    for type_name, named in parsed["data"].items():
        declared[f"data.{type_name}"] = set(named)
    for type_name, named in parsed["resource"].items():
        declared[type_name] = set(named)
    for path in sorted((MODULES / name).glob("*.tf")):
        text = re.sub(r"^\s*(#|description|error_message).*$", "", path.read_text(), flags=re.M)
        for kind, label in _REFERENCE.findall(text):
            if kind.startswith("aws_") and kind not in declared and not re.search(rf'"{kind}"', text):
                continue  # an attribute path such as aws:SourceArn text, not a resource reference
            assert label in declared.get(kind, set()), f"{path.name}: {kind}.{label} is not declared"
        for call, output in re.findall(r"\bmodule\.([a-z0-9_]+)\.([a-z0-9_]+)", text):
            child = (MODULES / name / parsed["module"][call]["source"]).resolve().relative_to(MODULES)
            assert output in module(str(child))["output"], f"{path.name}: module.{call}.{output} is not an output"

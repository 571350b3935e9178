"""Each module's own `terraform test` (modules/*/tests/*.tftest.hcl): a plan against a mocked AWS provider
(`mock_provider`, Terraform >= 1.7) asserting its security properties, run with the default terraform and the
machine's offline aws provider mirror. The Python property tests (test_modules*.py) keep the house rules."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from provisioner.emulator.target import find_aws_mirror
from tests.hcl_modules import MODULES, module_names


@pytest.fixture(scope="module")
def mirror() -> Path:
    found = find_aws_mirror()
    if found is None:
        pytest.fail("no hashicorp/aws provider mirror (e.g. /opt/tf-plugins): `terraform test` needs its schema")
    return found


def _run(terraform_bin: Path, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(terraform_bin), *args], cwd=workdir, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("name", module_names())
def test_module_passes_its_terraform_test(name: str, terraform_bin: Path, mirror: Path, tmp_path: Path) -> None:
    tests = sorted((MODULES / name / "tests").glob("*.tftest.hcl"))
    assert tests, f"modules/{name}/tests/ has no *.tftest.hcl"
    # A copy of all modules (shared calls ../secure_bucket): init would leave .terraform/ and a lock file.
    shutil.copytree(MODULES, tmp_path / "modules", ignore=shutil.ignore_patterns(".terraform*"))
    workdir = tmp_path / "modules" / name
    init = _run(terraform_bin, workdir, "init", "-input=false", "-no-color", f"-plugin-dir={mirror}")
    assert init.returncode == 0, init.stdout + init.stderr
    result = _run(terraform_bin, workdir, "test", "-no-color")
    assert result.returncode == 0, result.stdout + result.stderr
    summary = re.search(r"Success! (\d+) passed, 0 failed\.", result.stdout)
    assert summary is not None and int(summary[1]) >= 2, result.stdout

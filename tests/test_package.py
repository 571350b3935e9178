"""Deterministic Lambda zips: byte-identical builds, Terraform's hash, and only allowed imports inside."""

from __future__ import annotations

import ast
import base64
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

from provisioner.package import LAMBDA_FUNCTIONS, build_lambda_packages

ALLOWED_TOP = {"boto3", "botocore", "provisioner"} | set(sys.stdlib_module_names)


def test_builds_are_byte_identical_and_hashed_like_filebase64sha256(tmp_path: Path) -> None:
    first = build_lambda_packages(tmp_path / "a")
    second = build_lambda_packages(tmp_path / "b")
    assert (
        set(first)
        == set(LAMBDA_FUNCTIONS)
        == {
            "findings_importer",
            "cloudtrail_normalizer",
            "waf_normalizer",
            "guardduty_normalizer",
            "opensearch_configurator",
            "guardduty_response",
            "fleet_aggregator",
        }
    )
    for name, package in first.items():
        data = package.filename.read_bytes()
        assert data == second[name].filename.read_bytes()
        assert package.filename == tmp_path / "a" / f"{name}.zip"
        assert package.source_code_hash == base64.b64encode(hashlib.sha256(data).digest()).decode()
        assert package.handler == LAMBDA_FUNCTIONS[name]


def test_zip_entries_are_sorted_fixed_and_limited_to_the_functions(tmp_path: Path) -> None:
    package = build_lambda_packages(tmp_path)["findings_importer"]
    with zipfile.ZipFile(package.filename) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert names[0] == "provisioner/__init__.py"
    assert all(n == "provisioner/__init__.py" or n.startswith("provisioner/functions/") for n in names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o644}


def test_an_identical_zip_is_not_rewritten(tmp_path: Path) -> None:
    package = build_lambda_packages(tmp_path)["waf_normalizer"]
    before = package.filename.stat().st_mtime_ns
    package.filename.touch()
    touched = package.filename.stat().st_mtime_ns
    build_lambda_packages(tmp_path)
    assert package.filename.stat().st_mtime_ns == touched != 0 and before <= touched


def test_zip_code_imports_only_stdlib_boto_and_itself(tmp_path: Path) -> None:
    package = build_lambda_packages(tmp_path)["cloudtrail_normalizer"]
    with zipfile.ZipFile(package.filename) as archive:
        for name in archive.namelist():
            tree = ast.parse(archive.read(name))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    tops = {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module:
                    tops = {node.module.split(".")[0]}
                    if tops == {"provisioner"}:
                        assert node.module.startswith("provisioner.functions"), (name, node.module)
                else:
                    continue
                assert tops <= ALLOWED_TOP, (name, tops)


def test_every_handler_imports_from_the_extracted_zip(tmp_path: Path) -> None:
    package = build_lambda_packages(tmp_path / "build")["guardduty_normalizer"]
    root = tmp_path / "task"
    with zipfile.ZipFile(package.filename) as archive:
        archive.extractall(root)
    targets = [tuple(h.rsplit(".", 1)) for h in LAMBDA_FUNCTIONS.values()]
    checks = "; ".join(f"assert callable(getattr(importlib.import_module({m!r}), {f!r}))" for m, f in targets)
    where = str(root)
    code = (
        f"import importlib, sys; sys.path.insert(0, {where!r}); {checks}; "
        f"import provisioner; assert provisioner.__file__.startswith({where!r})"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, timeout=60)

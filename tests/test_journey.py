"""The README's journey, as a newcomer walks it: a fresh copy of the repository, the README's first command
(`make up`), then every `provision ...` command that `up` prints under "Next:", parsed from its own output and
run as printed the way the README says (`.venv/bin/provision ...` from a plain shell), ending with the printed
`down`. Nothing a newcomer would not have: no PROVISION_* variables, no AWS credentials, the machine's own PATH
(not the suite's venv), the `local` environment exactly as `make up` uses it (the real OpenSearch module, so the
aws provider's fixed 10-minute waits on the domain's create and delete are part of it: ~30 minutes in all).

The copy is the repository's tracked and new, not ignored files as they are in the working tree (`git ls-files
--cached --others --exclude-standard`), so a change is tested before it is committed; nothing else (no .venv,
no .provision) comes along. The faster lifecycle with the OpenSearch stand-in is tests/test_local_e2e.py."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
# Taken when pytest imports this file, before tests/conftest.py's autouse fixture sets PROVISION_TERRAFORM etc.
MACHINE_ENV = dict(os.environ)
RUN_AS = ".venv/bin/provision"  # how the README says to run what `up` prints
PROGRESS_LINE = re.compile(r"^\[\d+/\d+ \d\d:\d\d\] ")
UP_LINE_BUDGET = 150  # `provision up`'s own lines besides progress lines (issue: fit a screen or two)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]


@dataclass
class Step:
    command: str
    code: int
    out: str
    seconds: float


def newcomer_env() -> dict[str, str]:
    """The machine's environment without provision's or AWS's variables, the suite's venv or make's state."""
    venv_bin = (Path(sys.prefix) / "bin").resolve()
    env = {k: v for k, v in MACHINE_ENV.items() if not k.startswith(("AWS_", "PROVISION_", "PYTEST_"))}
    for name in ("VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PYTHONPATH"):
        env.pop(name, None)
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != venv_bin]
    env["PATH"] = os.pathsep.join(path)
    return env


def fresh_copy(dest: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = fresh_copy(tmp_path_factory.mktemp("journey") / "provision")
    yield root
    provision = root / RUN_AS
    if provision.exists():
        subprocess.run([str(provision), "emulator", "stop"], cwd=root, env=newcomer_env(), check=False)


def run(clone: Path, command: str, timeout: float = 2700) -> Step:
    started = time.monotonic()
    proc = subprocess.run(
        command, shell=True, cwd=clone, env=newcomer_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=timeout, check=False,
    )  # fmt: skip
    return Step(command, proc.returncode, proc.stdout, time.monotonic() - started)


def next_steps(up_output: str) -> list[str]:
    """Every `provision ...` command under "Next:", as printed (comments after `#` dropped)."""
    lines = up_output.splitlines()
    start = lines.index("Next:")
    commands = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        command = line.split("#", 1)[0].strip()
        if command.startswith("provision "):
            commands.append(command)
    return commands


def provision_part(make_output: str) -> list[str]:
    """What `provision up` printed: everything after make's echo of that command (install output aside)."""
    lines = make_output.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith(".venv/bin/provision up "))
    return lines[start + 1 :]


def emulator_client(clone: Path, service: str) -> Any:
    import boto3

    status = json.loads(run(clone, f"{RUN_AS} emulator status --format json").out)
    assert status["running"], status
    return boto3.client(
        service, region_name="eu-west-1", endpoint_url=status["endpoint"],
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip


def leftovers(clone: Path) -> dict[str, list[str]]:
    """What is still on the emulator besides the state backend: the state's resources and a few services."""
    s3 = emulator_client(clone, "s3")
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    state_bucket = next(name for name in buckets if "tfstate" in name)
    state = json.loads(
        s3.get_object(Bucket=state_bucket, Key="provision/devsecops/local/terraform.tfstate")["Body"].read()
    )
    ec2 = emulator_client(clone, "ec2")
    return {
        "state": [r["type"] + "." + r["name"] for r in state.get("resources", []) if r.get("mode") == "managed"],
        "buckets": [name for name in buckets if name != state_bucket],
        "vpcs": [v["VpcId"] for v in ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["false"]}])["Vpcs"]],
        "opensearch": [
            d["DomainName"] for d in emulator_client(clone, "opensearch").list_domain_names()["DomainNames"]
        ],
        "lambda": [f["FunctionName"] for f in emulator_client(clone, "lambda").list_functions()["Functions"]],
    }


def test_the_readme_journey(clone: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = (clone / "README.md").read_text()
    first = re.search(r"```sh\n(\S[^#\n]*?)\s*#", readme)
    assert first is not None and first.group(1) == "make up", "the README's first command"

    up = run(clone, "make up")
    assert up.code == 0, up.out[-5000:]
    said = provision_part(up.out)
    budget = [line for line in said if not PROGRESS_LINE.match(line)]
    assert len(budget) <= UP_LINE_BUDGET, "\n".join(budget)
    commands = next_steps(up.out)
    assert commands and commands[-1].startswith("provision down "), commands
    steps = [up]
    for command in commands:
        assert f"`{RUN_AS} {command.removeprefix('provision ')}`" in readme, f"the README shows {command}"
        step = run(clone, f"{RUN_AS} {command.removeprefix('provision ')}")
        steps.append(step)
        assert step.code == 0, step.out[-5000:]
        if command.startswith("provision demo attack "):  # exit 0 means an alert fired (the command's contract)
            assert "ALERT " in step.out, step.out[-3000:]
        if command.startswith("provision drift "):
            assert "No drift" in step.out and "1 clean, 0 drift, 0 error (exit 0)" in step.out, step.out[-3000:]
    assert "none left" in steps[-1].out, steps[-1].out[-3000:]
    assert leftovers(clone) == {"state": [], "buckets": [], "vpcs": [], "opensearch": [], "lambda": []}
    with capsys.disabled():
        print(f"\njourney: up {len(said)} lines ({len(budget)} besides progress)")
        for step in steps:
            print(f"  {step.command}: exit {step.code}, {step.seconds / 60:.1f} min")

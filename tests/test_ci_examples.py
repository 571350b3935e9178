"""The CI examples are real: the GitHub workflows pass actionlint (the binary `make lint` runs) and call only
commands and options the CLI has; the CodeBuild buildspecs match the schema written from the AWS buildspec
reference (ci/schema/buildspec.schema.json)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
import typer.main
import yaml

from provisioner.cli import app

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
BUILDSPECS = sorted(
    [*(REPO / "ci" / "codebuild").glob("*.yml"), *(REPO / "modules" / "pipeline" / "buildspecs").glob("*.yml")]
)
BUILDSPEC_SCHEMA = json.loads((REPO / "ci" / "schema" / "buildspec.schema.json").read_text())


def actionlint() -> str:
    found = Path(sys.executable).parent / "actionlint"
    if not found.exists():
        found = Path(shutil.which("actionlint") or "")
    if not found.is_file():
        pytest.fail("actionlint missing: run `make install` (dev dependency)")
    return str(found)


def test_workflows_pass_actionlint() -> None:
    assert {w.name for w in WORKFLOWS} >= {"plan-on-pr.yml", "drift.yml"}
    result = subprocess.run([actionlint(), *map(str, WORKFLOWS)], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The lint is not a rubber stamp: an untrusted PR title in a script and a missing job are reported."""
    broken = (REPO / ".github" / "workflows" / "plan-on-pr.yml").read_text()
    broken = broken.replace("run: make install", 'run: echo "${{ github.event.pull_request.title }}"')
    broken = broken.replace("    timeout-minutes: 30\n", "    timeout-minutes: 30\n    needs: [build]\n", 1)
    path = tmp_path / "plan-on-pr.yml"
    path.write_text(broken)
    result = subprocess.run([actionlint(), str(path)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "potentially untrusted" in result.stdout
    assert 'needs job "build" which does not exist' in result.stdout


def _provision_calls(workflow: Path) -> list[list[str]]:
    """Every `provision ...` command line in the workflow's run: blocks (continuation lines joined)."""
    calls = []
    for job in yaml.safe_load(workflow.read_text())["jobs"].values():
        for step in job["steps"]:
            script = re.sub(r"\\\n\s*", " ", step.get("run", ""))
            for line in script.splitlines():
                found = re.search(r"(?:^|[\s/])provision ((?:[a-z]+)(?: .*)?)$", line.strip())
                if found:
                    calls.append(shlex.split(found.group(1).split("||")[0], comments=True))
    return calls


def test_workflows_call_existing_commands_and_options() -> None:
    root: Any = typer.main.get_command(app)
    seen = set()
    for workflow in WORKFLOWS:
        for argv in _provision_calls(workflow):
            command = root.commands[argv[0]]
            if isinstance(command, click.Group):
                command, argv = command.commands[argv[1]], argv[1:]
            known = {opt for param in command.params for opt in param.opts}
            used = {arg for arg in argv[1:] if arg.startswith("--")}
            assert used <= known, f"{workflow.name}: provision {argv[0]}: unknown {sorted(used - known)}"
            seen.add(argv[0])
    assert {"plan", "comment", "drift"} <= seen
    plan_on_pr = (REPO / ".github" / "workflows" / "plan-on-pr.yml").read_text()
    assert "github/codeql-action/upload-sarif@" in plan_on_pr and "checkov.sarif" in plan_on_pr
    assert "GITHUB_STEP_SUMMARY" in plan_on_pr
    drift = (REPO / ".github" / "workflows" / "drift.yml").read_text()
    assert "--notify" in drift and "--github-issue" in drift and "matrix" in drift


@pytest.mark.parametrize("path", BUILDSPECS, ids=lambda p: str(p.relative_to(REPO)))
def test_buildspecs_match_the_documented_schema(path: Path) -> None:
    jsonschema.Draft202012Validator(BUILDSPEC_SCHEMA).validate(yaml.safe_load(path.read_text()))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b["phases"].update({"biuld": b["phases"].pop("build")}), "'biuld' was unexpected"),
        (lambda b: b.update({"version": 0.1}), "0.2 was expected"),
        (lambda b: b["phases"]["build"].update({"commands": "make"}), "is not of type 'array'"),
        (lambda b: b["phases"]["build"].update({"on-failure": "IGNORE"}), "does not match"),
        (lambda b: b.update({"reports": {"drift": {"files": ["x.xml"], "file-format": "JUNIT"}}}), "is not one of"),
        (lambda b: b["env"].update({"varaibles": {}}), "'varaibles' was unexpected"),
    ],
)
def test_buildspec_schema_rejects_what_codebuild_would(change: Any, message: str) -> None:
    spec = yaml.safe_load((REPO / "ci" / "codebuild" / "drift-buildspec.yml").read_text())
    change(spec)
    errors = [e.message for e in jsonschema.Draft202012Validator(BUILDSPEC_SCHEMA).iter_errors(spec)]
    assert any(message in e for e in errors), errors

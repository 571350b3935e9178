"""The real AWS stack, applied end to end against a local AWS emulator (moto server on 127.0.0.1).

Needs the hashicorp/aws provider, which cannot be installed on a machine without access to the Terraform
registry (or a provider mirror). Deselected by default; run where the provider is reachable with
`make test-all`, or `pytest -m aws_provider` (set PROVISION_PLUGIN_DIR for a local provider mirror).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from provisioner.cli import app

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.aws_provider


@pytest.fixture()
def stack_project(tmp_path: Path) -> Path:
    """The repo's modules and environments, with dev pointed at moto's account and a local state file."""
    root = tmp_path / "stack"
    shutil.copytree(REPO / "modules", root / "modules")
    shutil.copytree(REPO / "environments", root / "environments")
    shutil.copytree(REPO / "rules", root / "rules")  # the detection catalogue the OpenSearch content compiles
    dev = root / "environments" / "dev.yaml"
    data = yaml.safe_load(dev.read_text())
    data["account_ids"] = ["123456789012"]
    data["backend"] = {"type": "local"}
    dev.write_text(yaml.safe_dump(data))
    return root


def test_up_applies_the_full_stack_and_second_up_has_no_changes(stack_project: Path, aws: str) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["--project", str(stack_project), "up", "--env", "dev", "--auto-approve"])
    assert first.exit_code == 0, first.output
    assert "applied dev" in first.output
    state = json.loads((stack_project / ".provision" / "dev" / "terraform.tfstate").read_text())
    types = {r["type"] for r in state["resources"]}
    assert {"aws_wafv2_web_acl", "aws_cloudtrail", "aws_guardduty_detector", "aws_opensearch_domain"} <= types
    second = runner.invoke(app, ["--project", str(stack_project), "up", "--env", "dev", "--auto-approve"])
    assert second.exit_code == 0, second.output
    assert "no changes" in second.output

"""The Checkov gate as SARIF 2.1.0: `provision scan --format sarif` and `checkov.sarif` in --report-dir.

Real parts: Checkov from its own venv on the fixture project; the output is validated against the OASIS SARIF
2.1.0 JSON schema (tests/data/sarif, source in tests/data/SOURCES.md). The plan scan's SARIF run (real aws
provider, moto) is checked in tests/test_scan.py::test_insecure_plan_is_refused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from typer.testing import CliRunner

from provisioner.cli import app
from provisioner.report.sarif import Locator

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text())
SKIP_REASON = "The fixture bucket holds nothing: access logs would only record the test itself"


def assert_valid_sarif(log: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(SCHEMA).validate(log)


def resource_line(path: Path, kind: str, name: str) -> int:
    """The line of `resource "kind" "name"` in a module file, read independently of the code under test."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if re.match(rf'resource\s+"{kind}"\s+"{name}"', line):
            return number
    raise AssertionError(f"{kind}.{name} not in {path}")


def test_scan_sarif_has_rules_results_locations_and_suppressions(fixture_project: Path, tmp_path: Path) -> None:
    spec = fixture_project / "environments" / "insecure.yaml"
    data = yaml.safe_load(spec.read_text())
    data["checkov"] = {"skip": [{"id": "CKV_AWS_18", "reason": SKIP_REASON}]}
    spec.write_text(yaml.safe_dump(data))

    result = CliRunner().invoke(
        app, ["--project", str(fixture_project), "scan", "--env", "insecure", "--format", "sarif"]
    )
    assert result.exit_code == 1, result.output  # the gate still fails: SARIF does not change the verdict
    log = json.loads(result.stdout)
    assert_valid_sarif(log)

    (run,) = log["runs"]
    assert run["automationDetails"]["id"] == "checkov-config/insecure/"
    assert run["tool"]["driver"]["name"] == "Checkov"
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert {"CKV_AWS_24", "CKV_AWS_18", "CKV2_AWS_6"} <= set(rules)
    assert rules["CKV_AWS_24"]["helpUri"].startswith("https://")
    by_rule = {r["ruleId"]: r for r in run["results"]}
    module = fixture_project / "modules" / "insecure_bucket" / "main.tf"

    ssh = by_rule["CKV_AWS_24"]
    assert run["tool"]["driver"]["rules"][ssh["ruleIndex"]]["id"] == "CKV_AWS_24"
    location = ssh["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "modules/insecure_bucket/main.tf"
    assert location["physicalLocation"]["region"]["startLine"] == resource_line(
        module, "aws_security_group_rule", "ssh_from_anywhere"
    )
    assert location["logicalLocations"][0]["fullyQualifiedName"] == (
        "module.insecure_bucket.aws_security_group_rule.ssh_from_anywhere"
    )
    assert "suppressions" not in ssh

    skipped = by_rule["CKV_AWS_18"]
    assert skipped["suppressions"] == [{"kind": "external", "status": "accepted", "justification": SKIP_REASON}]
    assert skipped["locations"][0]["physicalLocation"]["region"]["startLine"] == resource_line(
        module, "aws_s3_bucket", "open"
    )

    # -o FILE writes the same log (the stored configuration report is reused) and says where it went.
    out = tmp_path / "gate.sarif"
    again = CliRunner().invoke(
        app, ["--project", str(fixture_project), "scan", "--env", "insecure", "--format", "sarif", "-o", str(out)]
    )
    assert again.exit_code == 1
    assert f"sarif written to {out}" in again.stdout
    assert json.loads(out.read_text()) == log


def test_locator_traces_plan_addresses_to_the_module_file(fixture_project: Path) -> None:
    """Plan-scan results name the resource address; the locator follows module blocks from the rendered root to
    the `resource` block a reviewer would change (indexes and nested modules included)."""
    root = fixture_project / ".provision" / "demo"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(
        'module "trust" {\n  source = "../../modules/account_trust"\n}\n\nmodule "remote" {\n'
        '  source = "registry.example/x/y"\n}\n'
    )
    locator = Locator(root, fixture_project)
    module = fixture_project / "modules" / "account_trust" / "main.tf"
    expected = ("modules/account_trust/main.tf", resource_line(module, "aws_iam_role", "account_trust"))
    assert locator.locate("module.trust.aws_iam_role.account_trust") == expected
    assert locator.locate('module.trust["a"].aws_iam_role.account_trust[0]') == expected
    assert locator.locate("module.remote.aws_iam_role.account_trust") is None  # not a local module
    assert locator.locate("module.trust.aws_iam_role.missing") is None
    assert locator.locate("module.trust.data.aws_caller_identity.current") is None

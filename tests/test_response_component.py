"""The `response` component outside the Lambda: `provision respond`, spec-time checks, the module's HCL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2 import SerializationOptions
from typer.testing import CliRunner

from provisioner.cli import app
from provisioner.functions.response.policy import DEFAULT_POLICY

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "tests" / "data" / "guardduty" / "response"
runner = CliRunner()


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A copy of this repository's modules and environments (specs may be edited freely)."""
    dest = tmp_path / "project"
    shutil.copytree(REPO / "modules", dest / "modules")
    shutil.copytree(REPO / "environments", dest / "environments")
    shutil.copytree(REPO / "rules", dest / "rules")  # the detection catalogue the OpenSearch content compiles
    return dest


def _event(tmp_path: Path, name: str = "ec2-backdoor-dos-tcp.json", **changes: Any) -> Path:
    finding = json.loads((SAMPLES / name).read_text())
    finding["service"]["additionalInfo"]["sample"] = False
    finding.update(changes)
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": finding}))
    return path


def test_respond_json_has_the_documented_shape(tmp_path: Path) -> None:
    result = runner.invoke(app, ["respond", "--finding", str(_event(tmp_path)), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {"finding", "actions", "skipped_reason"}
    assert report["finding"] == {
        "id": "04bf27df0ab8316b79d3f5ca5534b6f3",
        "type": "Backdoor:EC2/DenialOfService.Tcp",
        "severity": 8.0,
    }
    assert [(a["action"], a["resource"], a["status"]) for a in report["actions"]] == [
        (step, "i-99999999", "dry_run")  # built-in policy: dry_run true
        for step in ("isolate_network", "protect_termination", "snapshot_volumes", "tag_instance")
    ]
    assert all({"action", "resource", "status"} <= set(a) for a in report["actions"])
    assert report["skipped_reason"] is None


def test_respond_uses_the_environment_policy_and_dry_run_overrides_it(project: Path, tmp_path: Path) -> None:
    dev = project / "environments" / "dev.yaml"
    dev.write_text(dev.read_text() + "components:\n  response:\n    inputs:\n      policy: {dry_run: false}\n")
    event = str(_event(tmp_path, accountId="111111111111", region="eu-west-1"))  # dev's account and region
    live = runner.invoke(app, ["--project", str(project), "respond", "--finding", event, "--env", "dev"])
    assert live.exit_code == 0, live.output
    assert "isolate_network      i-99999999  planned" in live.stdout
    rehearsal = runner.invoke(
        app, ["--project", str(project), "respond", "--finding", event, "--env", "dev", "--dry-run"]
    )
    assert "isolate_network      i-99999999  dry_run  (policy dry_run is true)" in rehearsal.stdout


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"accountId": "999999999999"}, "finding of account 999999999999, not of this account (111111111111)"),
        ({"region": "us-east-1"}, "finding of region us-east-1, not of this region (eu-west-1)"),
    ],
)
def test_respond_plans_nothing_for_a_finding_of_another_account_or_region(
    project: Path, tmp_path: Path, changes: dict[str, str], reason: str
) -> None:
    # Before: a member account's finding (GuardDuty administrator account) planned isolation here.
    dev = project / "environments" / "dev.yaml"
    dev.write_text(dev.read_text() + "components:\n  response:\n    inputs:\n      policy: {dry_run: false}\n")
    event = _event(tmp_path, **({"accountId": "111111111111", "region": "eu-west-1"} | changes))
    args = ["--project", str(project), "respond", "--finding", str(event), "--env", "dev", "--format", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["actions"] == []
    assert report["skipped_reason"] == f"{reason}: reported only"


def test_respond_text_reports_no_action_reasons(tmp_path: Path) -> None:
    low = runner.invoke(app, ["respond", "--finding", str(_event(tmp_path, severity=2))])
    assert low.exit_code == 0
    assert low.stdout.splitlines()[-1] == "no action: severity 2 is below the threshold of every applicable action"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{", "invalid JSON at line 1"),
        ('{"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": {"id": "x"}}', "malformed event"),
    ],
)
def test_respond_bad_finding_file_is_one_line_exit_2(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = runner.invoke(app, ["respond", "--finding", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}: ") and reason in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _render(project: Path) -> Any:
    return runner.invoke(app, ["--project", str(project), "render", "--env", "dev"])


def test_policy_errors_name_file_and_key(project: Path) -> None:
    dev = project / "environments" / "dev.yaml"
    dev.write_text(
        dev.read_text() + "components:\n  response:\n    inputs:\n      policy:\n"
        "        actions: {isolate_instance: {min_severity: 12}}\n"
    )
    result = _render(project)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: environments/dev.yaml: components.response.inputs.policy.actions.isolate_instance.min_severity: "
        "12.0 is outside GuardDuty's 0-10 severity range"
    )
    assert not (project / ".provision").exists()


@pytest.mark.parametrize(
    ("lines", "where", "reason"),
    [
        ("203.0.113.0/24\n10.0.0.300\n", "line 2", "'10.0.0.300' is not an IPv4 address or CIDR"),
        ("203.0.113.1/24\n", "line 1", "has host bits set"),
        ("# office\n", "line 1", "is not an IPv4 address or CIDR"),
        ("0.0.0.0/4\n", "line 1", "/8 or smaller"),
    ],
)
def test_ip_list_format_is_checked_when_the_spec_loads(project: Path, lines: str, where: str, reason: str) -> None:
    (project / "environments" / "ip-lists" / "trusted.txt").write_text(lines)
    result = _render(project)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: environments/ip-lists/trusted.txt: {where}: "), result.stderr
    assert reason in result.stderr


def test_ip_list_paths_must_stay_inside_the_project(project: Path) -> None:
    dev = project / "environments" / "dev.yaml"
    dev.write_text(dev.read_text() + "components:\n  guardduty:\n    inputs: {trusted_ip_list_file: ../outside.txt}\n")
    (project.parent / "outside.txt").write_text("203.0.113.0/24\n")
    result = _render(project)
    assert result.exit_code == 2
    assert "components.guardduty.inputs.trusted_ip_list_file: '../outside.txt' must be a path inside the project" in (
        result.stderr
    )


def test_repo_lists_load_and_render_into_tfvars(project: Path) -> None:
    result = _render(project)
    assert result.exit_code == 0, result.output
    tfvars = json.loads((project / ".provision" / "dev" / "provision.auto.tfvars.json").read_text())
    assert tfvars["guardduty"]["trusted_ip_list_file"] == "environments/ip-lists/trusted.txt"
    assert tfvars["response"]["policy"]["dry_run"] is True
    main = (project / ".provision" / "dev" / "main.tf").read_text()
    assert "blocked_ip_set_arn = module.waf.blocked_ip_set_arn" in main
    assert 'package            = var.lambda_packages["guardduty_response"]' in main


# ---------------------------------------------------------------- the module's HCL

_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)


def _module() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted((REPO / "modules" / "response").glob("*.tf")):
        for kind, entries in hcl2.loads(path.read_text(), serialization_options=_OPTIONS).items():
            merged.setdefault(kind, []).extend(entries)
    return merged


def _statements() -> dict[str, dict[str, Any]]:
    """The role's permission table (`local.permissions`): sid -> enabled, effect, actions, resources, conditions."""
    (table,) = [entry["permissions"] for entry in _module()["locals"] if "permissions" in entry]
    return dict(table)


def test_module_defaults_gate_permissions_like_the_lambda_policy() -> None:
    locals_ = {k: v for entry in _module()["locals"] for k, v in entry.items()}
    defaults = DEFAULT_POLICY["actions"]
    for local_name, action in (
        ("isolate_enabled", "isolate_instance"),
        ("key_enabled", "deactivate_access_key"),
        ("revoke_enabled", "revoke_role_sessions"),
        ("block_enabled", "block_remote_ip"),
    ):
        expected = "true" if defaults[action]["enabled"] else "false"
        assert f"var.policy.actions.{action}.enabled, {expected})" in locals_[local_name], local_name
    statements = _statements()
    assert statements["DeactivateUserAccessKeys"]["enabled"] == "${local.key_enabled}"
    assert statements["TagUsersWithResponseKeys"]["enabled"] == "${local.key_enabled}"
    assert "iam:UpdateAccessKey" in statements["DeactivateUserAccessKeys"]["actions"]


def test_interfaces_can_only_be_moved_into_the_quarantine_groups() -> None:
    statement = _statements()["MoveInterfacesToQuarantineOnly"]
    resources = statement["resources"]
    assert "aws_security_group.quarantine" in resources and "security-group/${sg.id}" in resources
    assert "security-group/*" not in resources
    for sid, body in _statements().items():
        writes = [a for a in body["actions"] if not a.split(":")[1].startswith(("Describe", "Get", "List"))]
        if writes and body["effect"] != "Deny":
            assert body["resources"] != ["*"], sid


def test_role_policies_are_written_only_on_listed_or_tagged_roles() -> None:
    # Before: PutRolePolicy on role/* with no condition (a finding could name any role of the account).
    for sid, body in _statements().items():
        if "iam:PutRolePolicy" in body["actions"] and body["effect"] == "Allow":
            listed = "local.revocable_roles" in str(body["resources"])
            assert listed or body["conditions"] == ["${local.revocable_tag}"], sid
    locals_ = {k: v for entry in _module()["locals"] for k, v in entry.items()}
    assert locals_["revocable_tag"]["variable"] == "aws:ResourceTag/SecurityResponseRevocable"
    only = _statements()["OnlyTerminationProtection"]
    assert only["effect"] == "Deny" and only["actions"] == ["ec2:ModifyInstanceAttribute"]


def test_quarantine_group_has_no_rules() -> None:
    (group,) = [r["aws_security_group"]["quarantine"] for r in _module()["resource"] if "aws_security_group" in r]
    assert "ingress" not in group and "egress" not in group
    rules = [r for r in _module()["resource"] if any(k.startswith("aws_vpc_security_group") for k in r)]
    assert rules == []

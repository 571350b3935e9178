"""Fast lane: up / plan / apply over fake Terraform and Checkov (tests/fakes.py), injected through the workspace.

The same use-case code as tests/test_lifecycle.py, which drives the real binaries; here each test takes
milliseconds, so orchestration changes get feedback in seconds.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from provisioner import instances, lifecycle
from provisioner.errors import GateFailed, InputError, Interrupted, ProvisionError, TerraformError
from provisioner.project import Project
from tests.fakes import recorded_checkov_failures
from tests.usecase_support import UP_STEPS, Run, in_order, type_answer

CREATED = ["null_resource.gone", "null_resource.keep", "null_resource.secret", "null_resource.swap"]
SECRET = "s3cr3t-test-value"  # in the recorded plan's variables: never shown


def test_up_runs_the_gate_in_order_then_applies_exactly_the_scanned_plan(run: Run) -> None:
    lifecycle.up(run.workspace(), auto_approve=True)
    out = run.output
    assert in_order(out, UP_STEPS), out
    assert "AWS account 123456789012" in out and "terraform 1.15.5" in out
    assert SECRET not in out
    assert run.state() == CREATED
    assert run.cloud.commands() == ["fmt", "fmt", "init", "plan", "show", "apply", "plan -refresh-only", "apply"]
    assert [scan_id for scan_id, _ in run.checkov.submitted] == ["config-1", "plan-2"]
    assert run.checkov.closed == 1


def test_second_up_reports_no_changes_and_applies_nothing(run: Run) -> None:
    lifecycle.up(run.workspace(), auto_approve=True)
    run.cloud.calls.clear()
    lifecycle.up(run.workspace(), auto_approve=True)
    assert "no changes: dev is up to date" in run.output
    assert "apply" not in run.cloud.commands()


def test_the_applied_plan_and_its_json_are_gone_afterwards(run: Run) -> None:
    ws = run.workspace()
    lifecycle.up(ws, auto_approve=True)
    assert not ws.plans.plan_file.exists() and not ws.plans.plan_json.exists()


def test_a_failed_configuration_scan_stops_before_the_plan(run: Run) -> None:
    run.checkov.config_failures = recorded_checkov_failures("config")
    with pytest.raises(GateFailed, match=re.escape("configuration scan failed (1 failed check")):
        lifecycle.up(run.workspace(), auto_approve=True)
    assert "CKV_AWS_272" in run.output
    assert "plan" not in run.cloud.commands() and run.state() == []
    assert run.checkov.closed == 1


def test_a_failed_plan_scan_refuses_to_apply(run: Run) -> None:
    run.checkov.plan_failures = recorded_checkov_failures("plan", 2)
    with pytest.raises(GateFailed, match=re.escape("plan scan failed (2 failed check")):
        lifecycle.up(run.workspace(), auto_approve=True)
    assert "apply" not in run.cloud.commands() and run.state() == []


def test_a_policy_skip_with_a_reason_passes_and_is_reported(run: Run) -> None:
    failure = recorded_checkov_failures("config")
    run.checkov.config_failures = failure
    run.edit_spec("dev", checkov={"skip": [{"id": failure[0]["check_id"], "reason": "code signing: not yet"}]})
    lifecycle.up(run.workspace(), auto_approve=True)
    assert failure[0]["check_id"] in run.output  # the reason is in the reports and with -v
    assert run.state() == CREATED


def test_an_unused_skip_is_flagged(run: Run) -> None:
    run.edit_spec(
        "dev", checkov={"skip": [{"id": "CKV_AWS_1", "reason": "kept for a module that is not deployed yet"}]}
    )
    lifecycle.up(run.workspace(), auto_approve=True)
    assert "policy skip CKV_AWS_1 matched nothing" in run.output


def test_report_dir_gets_every_report(run: Run, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    lifecycle.plan_environment(run.workspace(), report_dir=reports)
    names = sorted(p.name for p in reports.iterdir())
    assert names == ["checkov.json", "checkov.junit.xml", "checkov.sarif", "plan-summary.json", "plan-summary.md"]
    summary = json.loads((reports / "plan-summary.json").read_text())
    assert summary["counts"]["create"] == 4 and summary["addresses"]["create"] == CREATED
    assert SECRET not in (reports / "plan-summary.json").read_text()


def test_reports_are_written_even_when_the_gate_refuses(run: Run, tmp_path: Path) -> None:
    run.checkov.config_failures = recorded_checkov_failures("config")
    with pytest.raises(GateFailed):
        lifecycle.plan_environment(run.workspace(), report_dir=tmp_path / "r")
    report = json.loads((tmp_path / "r" / "checkov.json").read_text())
    assert [scan["target"] for scan in report] == ["config"]
    assert report[0]["failed"][0]["check_id"] == "CKV_AWS_272"


def test_without_a_terminal_up_needs_auto_approve_and_keeps_the_plan(run: Run) -> None:
    ws = run.workspace()
    with pytest.raises(GateFailed, match="no terminal to confirm on") as refused:
        lifecycle.up(ws)
    assert "provision apply --env dev" in (refused.value.hint or "")
    assert ws.plans.plan_file.exists() and run.state() == []


def test_typing_yes_applies(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    type_answer(monkeypatch, "yes")
    lifecycle.up(run.workspace(interactive=True))
    assert run.state() == CREATED


def test_typing_anything_else_applies_nothing(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    type_answer(monkeypatch, "y")
    with pytest.raises(GateFailed, match="not confirmed"):
        lifecycle.up(run.workspace(interactive=True))
    assert run.state() == []


def test_plan_then_apply_applies_the_kept_plan(run: Run) -> None:
    scanned = lifecycle.plan_environment(run.workspace())
    assert scanned.has_changes and scanned.total_changes == 4
    assert "plan kept at .provision/dev/plan/tfplan" in run.output
    lifecycle.apply_saved_plan(run.workspace(), auto_approve=True)
    assert run.state() == CREATED


def test_apply_without_a_plan_says_how_to_make_one(run: Run) -> None:
    with pytest.raises(GateFailed, match="no scanned plan for dev") as refused:
        lifecycle.apply_saved_plan(run.workspace(), auto_approve=True)
    assert "provision plan --env dev" in (refused.value.hint or "")


def test_apply_refuses_a_plan_file_that_is_not_the_scanned_one(run: Run) -> None:
    scanned = lifecycle.plan_environment(run.workspace())
    scanned.plan_file.write_text(scanned.plan_file.read_text() + " ")
    with pytest.raises(GateFailed, match="not the one that was scanned"):
        lifecycle.apply_saved_plan(run.workspace(), auto_approve=True)
    assert run.state() == []


def test_apply_refuses_when_the_configuration_changed_since_the_scan(run: Run) -> None:
    lifecycle.plan_environment(run.workspace())
    run.edit_spec("dev", components={"marker": {"inputs": {"count_of_markers": 5}}})
    with pytest.raises(GateFailed):
        lifecycle.apply_saved_plan(run.workspace(), auto_approve=True)
    assert run.state() == []


def test_apply_of_a_plan_without_changes_changes_nothing(run: Run) -> None:
    lifecycle.up(run.workspace(), auto_approve=True)
    lifecycle.plan_environment(run.workspace())
    run.cloud.calls.clear()
    lifecycle.apply_saved_plan(run.workspace(), auto_approve=True)
    assert "no changes: dev matches the configuration" in run.output
    assert "apply" not in run.cloud.commands()


def test_a_wrong_account_is_refused_before_any_terraform_call(run: Run) -> None:
    run.edit_spec("dev", account_ids=["999999999999"])
    with pytest.raises(ProvisionError, match="123456789012"):
        lifecycle.up(run.workspace(), auto_approve=True)
    assert run.cloud.calls == [] and run.checkov.submitted == []


def test_an_unreachable_registry_is_reported_as_offline(run: Run) -> None:
    run.cloud.fail["init"] = TerraformError(
        "terraform init failed", diagnostics=["Failed to query available provider packages"]
    )
    with pytest.raises(ProvisionError, match="offline: render, validate and the Checkov scan passed") as caught:
        lifecycle.up(run.workspace(), auto_approve=True)
    assert "--plugin-dir" in (caught.value.hint or "")
    assert run.checkov.closed == 1


def test_a_failed_configuration_scan_is_reported_before_a_terraform_error(run: Run) -> None:
    run.checkov.config_failures = recorded_checkov_failures("config")
    run.cloud.fail["plan"] = TerraformError("terraform plan failed")
    with pytest.raises(GateFailed, match="configuration scan failed"):
        lifecycle.up(run.workspace(), auto_approve=True)


def test_a_terraform_error_with_a_clean_scan_is_the_terraform_error(run: Run) -> None:
    run.cloud.fail["plan"] = TerraformError("terraform plan failed: Invalid reference")
    with pytest.raises(TerraformError, match="Invalid reference"):
        lifecycle.up(run.workspace(), auto_approve=True)
    assert run.checkov.closed == 1


def test_unformatted_files_fail_validation_before_init(run: Run) -> None:
    run.cloud.unformatted = ["main.tf"]
    with pytest.raises(GateFailed, match="validation failed"):
        lifecycle.up(run.workspace(), auto_approve=True)
    assert "not formatted (run `terraform fmt`)" in run.output
    assert "init" not in run.cloud.commands()


def test_ctrl_c_during_apply_is_an_interruption_and_keeps_what_was_done(run: Run) -> None:
    run.cloud.interrupt_apply_after = 2
    with pytest.raises(Interrupted):
        lifecycle.up(run.workspace(), auto_approve=True)
    assert len(run.state()) == 2
    assert run.checkov.closed == 1


def test_up_name_records_the_instance_and_applies_into_its_own_work_dir(run: Run) -> None:
    lifecycle.up(run.workspace("demo"), instance="pr-7", ttl="2h", auto_approve=True)
    record = instances.load(run.project, "demo", "pr-7")
    assert record is not None and record.expires_at - record.created_at <= timedelta(hours=2)
    assert run.state("demo--pr-7") == CREATED and run.state("demo") == []
    assert "instance demo--pr-7: expires" in run.output and "applied demo--pr-7" in run.output


def test_up_loads_the_spec_once_and_makes_one_terraform_for_the_instance_only(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    import provisioner.spec

    loads: list[str] = []
    original = provisioner.spec.load_environment

    def counting(project: Project, name: str, **kwargs: Any) -> Any:
        loads.append(name)
        return original(project, name, **kwargs)

    monkeypatch.setattr(provisioner.spec, "load_environment", counting)
    lifecycle.up(run.workspace("demo"), instance="pr-7", auto_approve=True)
    assert loads == ["demo"]
    assert run.cloud.built == [str(run.project.work_root / "demo--pr-7")]


def test_up_name_again_keeps_the_instance_created_at(run: Run) -> None:
    lifecycle.up(run.workspace("demo"), instance="pr-7", auto_approve=True)
    first = instances.load(run.project, "demo", "pr-7")
    lifecycle.up(run.workspace("demo"), instance="pr-7", auto_approve=True)
    again = instances.load(run.project, "demo", "pr-7")
    assert first is not None and again is not None and again.created_at == first.created_at


def test_ttl_needs_a_name(run: Run) -> None:
    with pytest.raises(InputError, match="--ttl needs --name"):
        lifecycle.up(run.workspace(), ttl="1h", auto_approve=True)
    assert run.cloud.calls == []


def test_name_needs_a_template_environment(run: Run) -> None:
    with pytest.raises(InputError, match=re.escape("ephemeral.template: is false; --name needs a template")):
        lifecycle.up(run.workspace(), instance="pr-1", auto_approve=True)
    assert run.cloud.calls == [] and instances.list_local(run.project) == []


def test_a_ttl_beyond_the_templates_maximum_is_refused_before_any_record(run: Run) -> None:
    with pytest.raises(InputError, match=re.escape("longer than ephemeral.max_ttl 7d")):
        lifecycle.up(run.workspace("demo"), instance="pr-1", ttl="30d", auto_approve=True)
    assert instances.list_local(run.project) == [] and run.cloud.calls == []


def test_the_refresh_after_apply_records_state_without_changing_anything(run: Run) -> None:
    lifecycle.up(run.workspace(), auto_approve=True)
    assert run.cloud.commands()[-2:] == ["plan -refresh-only", "apply"]
    assert "terraform apply -refresh-only" in run.output

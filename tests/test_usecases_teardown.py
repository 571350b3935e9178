"""Fast lane: drift, down, reap and envs over fake Terraform and Checkov (tests/fakes.py).

The real-binary versions are tests/test_drift.py and tests/test_teardown.py; these run the same use-case code
in milliseconds per test.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from provisioner import instances, lifecycle, teardown
from provisioner.drift import DriftReport, DriftRequest, check_drift
from provisioner.envs import list_environments
from provisioner.errors import GateFailed, InputError, Interrupted, ProvisionError, TerraformError
from tests.usecase_support import Run, type_answer

CREATED = ["null_resource.gone", "null_resource.keep", "null_resource.secret", "null_resource.swap"]


def _up(run: Run, env: str = "dev", instance: str | None = None) -> None:
    lifecycle.up(run.workspace(env), instance=instance, auto_approve=True)


def _drift(run: Run, *envs: str, all_envs: bool = False, parallel: int = 4, aws_checks: bool = False) -> DriftReport:
    request = DriftRequest(envs=envs, all_envs=all_envs, parallel=parallel, aws_checks=aws_checks, tools=run.tools)
    return check_drift(run.project, request, ui=run.ui())


# -- drift ----------------------------------------------------------------------------------------------------


def test_drift_right_after_up_is_clean(run: Run) -> None:
    _up(run)
    report = _drift(run, "dev")
    assert report.exit_code == 0
    [env] = report.environments
    assert env.status == "clean" and env.workspace == "dev" and env.region == "eu-west-1"
    assert run.cloud.commands()[-4:] == ["plan -refresh-only", "show", "plan", "show"]


def test_a_change_outside_terraform_is_drift_with_the_address(run: Run) -> None:
    _up(run)
    run.cloud.drifted.add("dev")
    report = _drift(run, "dev")
    assert report.exit_code == 2
    [env] = report.environments
    assert env.terraform is not None
    assert [c.address for c in env.terraform.changed_outside] == ["null_resource.secret"]


def test_a_change_waiting_to_be_applied_is_drift(run: Run) -> None:
    report = _drift(run, "dev")  # never applied: the plan would create everything
    [env] = report.environments
    assert report.exit_code == 2 and env.terraform is not None
    assert sorted(c.address for c in env.terraform.pending) == CREATED


def test_one_broken_environment_does_not_hide_the_others(run: Run) -> None:
    _up(run)
    run.cloud.drifted.add("dev")
    report = _drift(run, "dev", "nosuch", parallel=2)
    by_name = {e.environment: e for e in report.environments}
    assert by_name["dev"].status == "drift"
    assert by_name["nosuch"].status == "error" and "nosuch" in by_name["nosuch"].errors[0]
    assert report.exit_code == 1


def test_a_terraform_failure_is_that_environments_error(run: Run) -> None:
    run.cloud.fail["plan -refresh-only"] = TerraformError("terraform plan failed: state locked")
    report = _drift(run, "dev")
    assert report.exit_code == 1
    assert "state locked" in report.environments[0].errors[0]


def test_drift_all_checks_environments_and_instances_but_not_templates(run: Run) -> None:
    _up(run, "demo", "pr-3")
    report = _drift(run, all_envs=True)
    names = {e.environment for e in report.environments}
    assert "demo--pr-3" in names and "demo" not in names and "dev" in names
    instance = next(e for e in report.environments if e.environment == "demo--pr-3")
    assert instance.terraform is not None and not instance.terraform.has_drift


def test_drift_with_aws_checks_reads_posture_and_inventory(run: Run) -> None:
    _up(run)
    report = _drift(run, "dev", aws_checks=True)
    [env] = report.environments
    assert env.posture is not None and env.unmanaged == []
    assert report.exit_code == 0, json.dumps(report.to_json(), indent=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"parallel": 0}, "--parallel 0: must be at least 1"), ({"all_envs": True}, "not both")],
)
def test_drift_usage_errors(run: Run, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        _drift(run, "dev", **kwargs)  # type: ignore[arg-type]
    assert run.cloud.calls == []


# -- down -----------------------------------------------------------------------------------------------------


def test_down_destroys_everything_and_checks_the_state_is_empty(run: Run) -> None:
    _up(run)
    result = teardown.down(run.workspace(), yes=True)
    assert result.destroyed == 4 and result.leftovers == []
    assert run.state() == []
    assert run.cloud.commands()[-5:] == ["init", "plan -destroy", "show", "apply", "state list"]
    assert "destroyed dev: 4 resource(s); the state is empty" in run.output


def test_down_is_never_scanned(run: Run) -> None:
    _up(run)
    submitted = list(run.checkov.submitted)
    teardown.down(run.workspace(), yes=True)
    assert run.checkov.submitted == submitted


def test_down_of_an_empty_state_has_nothing_to_destroy(run: Run) -> None:
    result = teardown.down(run.workspace(), yes=True)
    assert result.destroyed == 0
    assert "nothing to destroy: the state holds no resources" in run.output
    assert "apply" not in run.cloud.commands()


def test_down_without_a_terminal_needs_yes(run: Run) -> None:
    _up(run)
    with pytest.raises(GateFailed, match="no terminal to type 'dev' on"):
        teardown.down(run.workspace())
    assert run.state() == CREATED


def test_down_asks_for_the_name_typed_back(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    _up(run)
    type_answer(monkeypatch, "yes")
    with pytest.raises(GateFailed, match="the name typed was not 'dev'"):
        teardown.down(run.workspace(interactive=True))
    assert run.state() == CREATED
    type_answer(monkeypatch, "dev")
    teardown.down(run.workspace(interactive=True))
    assert run.state() == []


def test_a_protected_environment_needs_the_spec_and_the_operator(run: Run) -> None:
    _up(run, "prod")
    with pytest.raises(GateFailed, match="prod is destroy-protected") as refused:
        teardown.down(run.workspace("prod"), yes=True)
    assert "protection.allow_destroy: true" in (refused.value.hint or "")
    run.edit_spec("prod", protection={"destroy_protected": True, "allow_destroy": True})
    with pytest.raises(GateFailed, match="--yes is not enough"):
        teardown.down(run.workspace("prod"), yes=True)
    assert run.state("prod") != []
    teardown.down(run.workspace("prod"), confirm_protected="prod")
    assert run.state("prod") == []


def test_confirm_protected_must_name_the_environment(run: Run) -> None:
    with pytest.raises(InputError, match="does not name the environment being destroyed"):
        teardown.down(run.workspace(), confirm_protected="prod")
    assert run.cloud.calls == []


def test_an_interrupted_destroy_is_finished_by_running_down_again(run: Run) -> None:
    _up(run)
    run.cloud.interrupt_apply_after = 1
    with pytest.raises(Interrupted) as stopped:
        teardown.down(run.workspace(), yes=True)
    assert "re-run `provision down --env dev` to finish the destroy" in (stopped.value.hint or "")
    assert len(run.state()) == 3
    result = teardown.down(run.workspace(), yes=True)
    assert result.destroyed == 3 and run.state() == []


def test_a_failed_destroy_says_what_remains(run: Run) -> None:
    _up(run)
    run.cloud.fail["apply"] = TerraformError("terraform apply failed: DependencyViolation")
    with pytest.raises(TerraformError, match=re.escape("destroy of dev failed part-way (4 resource(s) remain")):
        teardown.down(run.workspace(), yes=True)


def test_down_of_an_instance_forgets_its_record(run: Run) -> None:
    _up(run, "demo", "pr-5")
    teardown.down(run.workspace("demo", instance="pr-5"), yes=True)
    assert instances.load(run.project, "demo", "pr-5") is None
    assert run.state("demo--pr-5") == []


def test_down_of_an_unknown_instance_says_how_to_create_it(run: Run) -> None:
    with pytest.raises(InputError, match="no instance 'pr-404' of environment 'demo'"):
        run.workspace("demo", instance="pr-404")


# -- reap and envs --------------------------------------------------------------------------------------------


def _expire(run: Run, name: str, hours: float) -> None:
    record = instances.load(run.project, "demo", name)
    assert record is not None
    now = instances.utcnow()
    instances.save(run.project, instances.Instance("demo", name, record.created_at, now + timedelta(hours=hours)))


def test_reap_is_a_dry_run_until_yes(run: Run) -> None:
    _up(run, "demo", "pr-1")
    _expire(run, "pr-1", -1)
    result = teardown.reap(run.project, ui=run.ui(), tools=run.tools)
    assert [r.workspace for r in result.expired] == ["demo--pr-1"] and result.destroyed == []
    assert "dry run: nothing was destroyed" in run.output
    assert run.state("demo--pr-1") == CREATED


def test_reap_destroys_the_expired_keeps_the_rest_and_goes_on_after_a_failure(run: Run) -> None:
    for name in ("pr-1", "pr-2"):
        _up(run, "demo", name)
    _expire(run, "pr-1", -1)
    now = instances.utcnow()
    instances.save(run.project, instances.Instance("gone", "pr-9", now - timedelta(days=2), now - timedelta(days=1)))
    with pytest.raises(ProvisionError, match=re.escape("reap: 1 failure(s): gone--pr-9")):
        teardown.reap(run.project, yes=True, ui=run.ui(), tools=run.tools)
    assert "1 destroyed, 1 failed, 1 not expired" in run.output
    assert run.state("demo--pr-1") == [] and run.state("demo--pr-2") == CREATED
    assert instances.load(run.project, "demo", "pr-1") is None


def test_envs_lists_environments_and_instances_with_expiry(run: Run) -> None:
    _up(run, "demo", "pr-1")
    _expire(run, "pr-1", -2)
    rows = json.loads(list_environments(run.project, fmt="json", ui=run.ui()))
    by_name = {row["name"]: row for row in rows}
    assert by_name["demo"]["template"] is True and by_name["prod"]["protected"] is True
    assert by_name["demo--pr-1"]["instance_of"] == "demo" and by_name["demo--pr-1"]["expired"] is True

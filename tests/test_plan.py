"""The plan model against plan JSON written by the real terraform 1.0.3 (tests/data/plans/regenerate.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from provisioner.errors import TerraformError
from provisioner.plan import SENSITIVE, UNKNOWN, DriftResult, Plan, State, action_of
from provisioner.report.plan import drift_markdown, drift_text, headline, summary_markdown, summary_text

DATA = Path(__file__).parent / "data" / "plans"
SECRET = "s3cr3t-test-value"  # the made-up secret regenerate.py puts in the roots


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


def rendered(obj: Any) -> list[str]:
    """Every renderer's output, to check none leaks the secret."""
    if isinstance(obj, DriftResult):
        return [drift_text(obj), drift_text(obj, color=True), json.dumps(obj.to_json()), drift_markdown(obj)]
    return [summary_text(obj), summary_text(obj, color=True), json.dumps(obj.to_json()), summary_markdown(obj)]


def test_the_fixtures_really_hold_the_secret() -> None:
    # Otherwise the masking tests below would prove nothing.
    for name in ("create.json", "mixed.json", "drift_refresh.json", "drift_plan.json"):
        assert SECRET in (DATA / name).read_text()


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        (["create"], "create"),
        (["delete", "create"], "replace"),
        (["create", "delete"], "replace"),
        (["update"], "update"),
        (["read"], "read"),
        (["no-op"], "no-op"),
    ],
)
def test_action_of(actions: list[str], expected: str) -> None:
    assert action_of(actions) == expected


def test_unknown_actions_and_formats_are_refused() -> None:
    with pytest.raises(TerraformError, match="unknown terraform plan actions"):
        action_of(["create", "update"])
    with pytest.raises(TerraformError, match="format_version"):
        Plan.from_json({"format_version": "2.0"})


def test_create_plan_counts_and_addresses() -> None:
    summary = Plan.from_json(load("create.json")).summary()
    assert summary.counts == {"create": 4, "update": 0, "replace": 0, "delete": 0, "read": 0, "no-op": 0}
    assert summary.addresses["create"] == (
        "null_resource.gone",
        "null_resource.keep",
        "null_resource.secret",
        "null_resource.swap",
    )
    assert not summary.destructive
    assert summary.total == 4


def test_replace_counts_once_and_marks_the_plan_destructive() -> None:
    plan = Plan.from_json(load("mixed.json"))
    summary = plan.summary()
    assert summary.counts == {"create": 2, "update": 0, "replace": 2, "delete": 1, "read": 0, "no-op": 1}
    assert summary.addresses["replace"] == ("null_resource.secret", "null_resource.swap")
    assert summary.addresses["delete"] == ("null_resource.gone",)
    assert summary.addresses["no-op"] == ("null_resource.keep",)
    assert summary.destructive
    assert summary.total == 5  # what an apply works through; the no-op is not one of them
    swap = next(rc for rc in plan.resource_changes if rc.address == "null_resource.swap")
    assert swap.actions == ("delete", "create")
    assert headline(summary) == "Plan: 2 to create, 0 to update, 2 to replace, 1 to delete (destructive)"


def test_attribute_diffs_show_plain_values_and_mask_sensitive_ones() -> None:
    plan = Plan.from_json(load("mixed.json"))
    by_address = {rc.address: rc for rc in plan.resource_changes}
    swap = {a.path: (a.before, a.after) for a in by_address["null_resource.swap"].attribute_changes()}
    assert swap["triggers.version"] == ("1", "2")
    assert swap["id"][1] == UNKNOWN
    secret = {a.path: (a.before, a.after) for a in by_address["null_resource.secret"].attribute_changes()}
    # The token was rotated: the change shows, its values do not; the unchanged plain trigger is not listed.
    assert secret["triggers.token"] == (SENSITIVE, SENSITIVE)
    assert "triggers.plain" not in secret
    created = {a.path: a.after for a in Plan.from_json(load("create.json")).resource_changes[2].attribute_changes()}
    assert created == {"id": UNKNOWN, "triggers.plain": "visible", "triggers.token": SENSITIVE}


def test_no_renderer_leaks_a_sensitive_value() -> None:
    for name in ("create.json", "mixed.json"):
        summary = Plan.from_json(load(name)).summary()
        for text in rendered(summary):
            assert SECRET not in text
            assert SENSITIVE in text
    outputs = {o.name: o for o in Plan.from_json(load("mixed.json")).summary().outputs}
    assert outputs["token"].sensitive
    assert (outputs["token"].before, outputs["token"].after) == (SENSITIVE, SENSITIVE)
    assert outputs["swap_id"].after == UNKNOWN


def test_text_and_markdown_renderers() -> None:
    summary = Plan.from_json(load("mixed.json")).summary()
    text = summary_text(summary, color=False)
    assert "-/+ null_resource.swap (replace)" in text
    assert '      triggers.version: "1" -> "2"' in text
    assert "\x1b[" not in text
    assert "\x1b[35m-/+\x1b[0m null_resource.swap" in summary_text(summary, color=True)
    markdown = summary_markdown(summary)
    assert "| replace | 2 |" in markdown
    assert "| replace | `null_resource.swap` |" in markdown


def test_json_shape_is_stable() -> None:
    data = Plan.from_json(load("mixed.json")).summary().to_json()
    assert set(data) == {"schema", "counts", "addresses", "destructive", "changes", "drift", "outputs"}
    assert data["schema"] == 1
    assert set(data["counts"]) == set(data["addresses"])
    change = next(c for c in data["changes"] if c["address"] == "null_resource.swap")
    assert set(change) == {
        "address",
        "module_address",
        "type",
        "name",
        "mode",
        "action",
        "actions",
        "attributes",
    }
    assert {"path": "triggers.version", "before": "1", "after": "2"} in change["attributes"]
    assert json.loads(json.dumps(data)) == data


def test_drift_from_a_real_refresh_only_plan() -> None:
    result = DriftResult.from_plans(load("drift_refresh.json"), load("drift_plan.json"))
    assert result.has_drift
    assert [(rc.address, rc.action) for rc in result.changed_outside] == [("null_resource.secret", "delete")]
    # The config still wants the object Terraform found gone: that is reported apart, as pending.
    assert [(rc.address, rc.action) for rc in result.pending] == [("null_resource.secret", "create")]
    gone = {a.path: (a.before, a.after) for a in result.changed_outside[0].attribute_changes()}
    assert gone["triggers.token"] == (SENSITIVE, None)
    assert gone["triggers.plain"] == ("visible", None)
    for text in rendered(result):
        assert SECRET not in text
    assert result.to_json()["has_drift"] is True
    # The normal plan also lists the drift it refreshed over.
    assert [rc.address for rc in Plan.from_json(load("drift_plan.json")).summary().drift] == ["null_resource.secret"]


def test_no_drift_when_neither_plan_has_changes() -> None:
    # A refresh-only plan of an unchanged object: what terraform 1.0 writes while exiting 2.
    quiet = {"format_version": "0.2", "terraform_version": "1.0.3", "planned_values": {}}
    create = load("create.json")
    nothing_pending = dict(create, resource_changes=[])
    result = DriftResult.from_plans(quiet, nothing_pending)
    assert not result.has_drift
    assert result.to_json() == {"schema": 1, "has_drift": False, "changed_outside": [], "pending": []}
    assert "No drift" in drift_text(result)
    pending = DriftResult.from_plans(quiet, create)
    assert pending.has_drift and not pending.changed_outside and len(pending.pending) == 4


def test_state_view_masks_sensitive_values() -> None:
    # The state half of a plan file (`prior_state`) has the same shape as `terraform show -json`.
    state = State.from_json(load("mixed.json")["prior_state"])
    assert state.addresses == [
        "null_resource.gone",
        "null_resource.keep",
        "null_resource.secret",
        "null_resource.swap",
    ]
    secret = next(r for r in state.resources if r.address == "null_resource.secret")
    assert secret.values["triggers"] == {"plain": "visible", "token": SENSITIVE}
    assert state.outputs["token"] == SENSITIVE
    assert SECRET not in repr(state)


def _dev_first_plan() -> dict[str, Any]:
    import gzip

    data: dict[str, Any] = json.loads(gzip.decompress((DATA / "dev-first-plan.json.gz").read_bytes()))
    return data


def test_the_brief_summary_of_the_whole_stack_fits_a_screen() -> None:
    """`up` prints the brief summary (the -v and report forms keep every attribute): the first real plan of
    dev, 188 creations and 35 reads, in a few dozen lines grouped by module with counts per resource type."""
    from provisioner.report.plan import DETAIL_NOTE, summary_brief

    summary = Plan.from_json(_dev_first_plan()).summary()
    lines = summary_brief(summary).splitlines()
    assert len(lines) <= 60, len(lines)
    assert max(len(line) for line in lines) <= 120
    assert lines[0] == "Plan: 188 to create, 0 to update, 0 to replace, 0 to delete, 35 to read"
    assert lines[-1] == DETAIL_NOTE
    modules = {rc.address.split(".")[1] for rc in summary.changes}
    for module in modules:
        assert any(line.startswith(f"  module.{module}: ") and " to create (" in line for line in lines), module
    start = lines.index(next(line for line in lines if line.startswith("  module.network: 35 to create (")))
    network = " ".join(lines[start : start + 3])  # wrapped onto continuation lines
    assert "aws_vpc_endpoint x10" in network
    assert "known after apply" not in "\n".join(lines) and "tags_all" not in "\n".join(lines)
    assert len(summary_text(summary).splitlines()) > 1000, "the verbose form still has every attribute"
    assert "tags_all" in summary_markdown(summary), "the report keeps the detail"


def test_every_delete_and_replace_has_its_own_line_however_many() -> None:
    from provisioner.report.plan import summary_brief

    mixed = summary_brief(Plan.from_json(load("mixed.json")).summary()).splitlines()
    assert "  -/+ null_resource.secret (replace)" in mixed
    assert "  -/+ null_resource.swap (replace)" in mixed
    assert "  - null_resource.gone (delete)" in mixed
    # The whole dev stack as a destroy: every one of the 188 deletions is named.
    destroy = _dev_first_plan()
    for rc in destroy["resource_changes"]:
        if rc["change"]["actions"] == ["create"]:
            rc["change"]["actions"] = ["delete"]
            rc["change"]["before"], rc["change"]["after"] = rc["change"]["after"], None
    lines = summary_brief(Plan.from_json(destroy).summary()).splitlines()
    deleted = [line for line in lines if line.startswith("  - ") and line.endswith(" (delete)")]
    assert len(deleted) == 188

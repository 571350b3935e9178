"""Use-cases `down` and `reap`: destroy an environment on purpose only, and tear down expired instances.

down: protection gate -> preflight -> render -> init -> plan -destroy -> summary -> typed confirmation ->
empty the environment's own versioned buckets -> apply with live progress -> state must be empty -> sweep
for tagged leftovers -> forget the instance record. Every step is safe to repeat, so an interrupted or partly
failed destroy is finished by running the same `provision down` again.

Like lifecycle, nothing here prints: the operator is reached through `UI`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from provisioner import instances
from provisioner.errors import GateFailed, InputError, Interrupted, ProvisionError, TerraformError
from provisioner.ownership import owner_tags
from provisioner.project import Project
from provisioner.ui import UI
from provisioner.workspace import Tools, Workspace, load_spec

if TYPE_CHECKING:
    from provisioner.aws.cleanup import BucketOutcome, SweepOutcome
    from provisioner.aws.inventory import TaggedResource
    from provisioner.plan import Plan
    from provisioner.spec import EnvironmentSpec
    from provisioner.terraform import Terraform


@dataclass
class DownResult:
    workspace: str
    destroyed: int = 0
    buckets: list[BucketOutcome] = field(default_factory=list)
    leftovers: list[TaggedResource] = field(default_factory=list)  # still tagged after the destroy
    gone: int = 0  # tagged, but already deleted or pending deletion: not left over
    swept: list[SweepOutcome] = field(default_factory=list)


@dataclass
class ReapResult:
    expired: list[instances.Instance]
    active: list[instances.Instance]
    dry_run: bool
    destroyed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # workspace (or record source) -> reason


# -- down -------------------------------------------------------------------------------------------------


def down(ws: Workspace, *, yes: bool = False, confirm_protected: str | None = None, sweep: bool = False) -> DownResult:
    """Destroy one environment (or instance); raises GateFailed when refused, Interrupted on Ctrl-C."""
    from provisioner.plan import Plan

    spec, ui = ws.spec, ws.ui
    _protection_gate(ws, confirm_protected)
    ws.preflight()
    tf = ws.terraform
    ui.step(f"Rendering {ws.name}")
    ws.init()
    result = DownResult(ws.name)
    with ws.plans.transient("destroy") as (plan_file,):
        ui.step("terraform plan -destroy")
        tf.plan(plan_file, destroy=True)
        plan = Plan.from_json(tf.show_json(plan_file))
        summary = plan.summary()
        if summary.total:
            from provisioner.report.plan import plan_text

            ui.step("Destroy plan summary")
            ui.info(plan_text(summary, color=ui.color, verbose=ui.verbose))
            _confirm(spec, summary.total, yes=yes or confirm_protected is not None, ui=ui)
            result.buckets = _empty_owned_buckets(spec, plan, ui)
            _destroy(ws, plan_file, summary.total)
            result.destroyed = summary.total
        else:
            ui.info("  nothing to destroy: the state holds no resources")
    _require_empty_state(ws)
    ws.plans.discard()  # a plan kept by `provision plan` was made against resources that no longer exist
    _sweep(ws, sweep, result)
    if spec.instance:
        instances.forget(ws.project, spec.name, spec.instance, remote_to=spec)  # the template's backend
    if result.destroyed:
        ui.success(f"destroyed {ws.name}: {result.destroyed} resource(s); the state is empty")
    else:
        ui.success(f"nothing to destroy: the state of {ws.name} is empty")
    return result


def _protection_gate(ws: Workspace, confirm_protected: str | None) -> None:
    spec = ws.spec
    if confirm_protected is not None and confirm_protected != spec.workspace:
        raise InputError(
            f"--confirm-protected {confirm_protected!r} does not name the environment being destroyed "
            f"({spec.workspace!r})"
        )
    if not spec.protection.destroy_protected:
        return
    spec_file = ws.spec_file
    unlock = f"`{ws.command('down')} --confirm-protected {spec.workspace}`"
    if not spec.protection.allow_destroy:
        raise GateFailed(
            f"refusing: {spec.workspace} is destroy-protected ({spec_file}: protection.destroy_protected: true)",
            hint=f"to destroy it on purpose, set protection.allow_destroy: true in {spec_file} (a reviewed "
            f"change), then run {unlock}",
        )
    if confirm_protected is None:
        raise GateFailed(
            f"refusing: {spec.workspace} is destroy-protected; its spec allows destroy, but the operator has "
            "not confirmed (--yes is not enough for a protected environment)",
            hint=f"run {unlock}",
        )


def _confirm(spec: EnvironmentSpec, total: int, *, yes: bool, ui: UI) -> None:
    if yes:
        return
    if not ui.interactive:
        raise GateFailed(
            f"not destroyed: no terminal to type {spec.workspace!r} on",
            hint="run it in a terminal, or pass --yes (CI; not accepted for protected environments)",
        )
    prompt = f"Destroy {total} resource(s) of {spec.workspace}? This cannot be undone."
    if not ui.confirm(prompt, expected=spec.workspace):
        raise GateFailed(f"not destroyed: the name typed was not {spec.workspace!r}")


def _empty_owned_buckets(spec: EnvironmentSpec, plan: Plan, ui: UI) -> list[BucketOutcome]:
    """Versioned buckets fail to delete while they hold versions; empty those the destroy plan deletes
    (i.e. in this environment's state) that also carry its tags."""
    from provisioner.aws.cleanup import empty_owned_buckets, stop_access_logging

    buckets = [
        str(rc.before["bucket"])
        for rc in plan.resource_changes
        if rc.mode == "managed"
        and rc.type == "aws_s3_bucket"
        and rc.action == "delete"
        and isinstance(rc.before, dict)
        and rc.before.get("bucket")
    ]
    if not buckets:
        return []
    ui.step(f"Emptying {len(buckets)} bucket(s) in the state before destroy")
    # Access logs of the emptying itself would land in the log sink again after it was emptied.
    for bucket in stop_access_logging(spec.region, buckets, owner_tags(spec)):
        ui.info(f"  s3://{bucket}: access logging stopped")
    outcomes = empty_owned_buckets(spec.region, buckets, owner_tags(spec))
    for outcome in outcomes:
        line = f"  s3://{outcome.bucket}: {outcome.detail}"
        if outcome.emptied:
            ui.info(line)
        else:
            ui.warn(line.strip())
    return outcomes


def _destroy(ws: Workspace, plan_file: Path, total: int) -> None:
    from provisioner.progress import Progress

    tf, ui = ws.terraform, ws.ui
    rerun = f"re-run `{ws.command('down')}` to finish the destroy"
    # The destroy plan is not Checkov-scanned: it only deletes, so there is no configuration to judge.
    ui.step("terraform apply (the destroy plan)")
    with Progress(total=total, stream=ui.out, plain=ui.plain) as progress:
        try:
            tf.apply(plan_file, on_event=progress)
        except Interrupted as exc:
            lock_hint = exc.hint if exc.hint and "force-unlock" in exc.hint else None
            raise Interrupted(exc.message, hint=f"{lock_hint}; then {rerun}" if lock_hint else rerun) from None
        except TerraformError as exc:
            left = _state_or_none(tf)
            count = "the state is unknown" if left is None else f"{len(left)} resource(s) remain in the state"
            raise TerraformError(
                f"destroy of {ws.name} failed part-way ({count}): {exc.message}",
                diagnostics=exc.diagnostics,
                returncode=exc.returncode,
                hint=f"fix the cause above, then {rerun}",
            ) from None


def _state_or_none(tf: Terraform) -> list[str] | None:
    try:
        return tf.state_list()
    except TerraformError:
        return None


def _require_empty_state(ws: Workspace) -> None:
    left = ws.terraform.state_list()
    if left:
        shown = ", ".join(left[:5]) + (f" (+{len(left) - 5} more)" if len(left) > 5 else "")
        raise ProvisionError(
            f"{ws.name}: the destroy finished, but {len(left)} resource(s) remain in the state: {shown}",
            hint=f"re-run `{ws.command('down')}`",
        )


def _sweep(ws: Workspace, delete: bool, result: DownResult) -> None:
    """Resources that still carry the environment's tags though the state is empty: created outside
    Terraform, or orphaned by an earlier failure. Reported; with --sweep, deleted where that is safe."""
    from provisioner.aws.cleanup import sweep
    from provisioner.aws.inventory import find_tagged_resources
    from provisioner.aws.liveness import split_dead
    from provisioner.ownership import owns

    spec, ui = ws.spec, ws.ui
    down = ws.command("down")
    owner = owner_tags(spec)
    ui.step("Sweep: resources still tagged " + ", ".join(f"{k}={v}" for k, v in owner.items()))
    tagged = [r for r in find_tagged_resources(spec.region, owner) if owns(r.tags, owner)]
    result.leftovers, dead = split_dead(spec.region, tagged)
    result.gone = len(dead)
    if dead:
        ui.info(f"  {len(dead)} already deleted or pending deletion (terminated, deleted, PendingDeletion): ignored")
    if not result.leftovers:
        ui.info("  none left")
        return
    remaining = [r.arn for r in result.leftovers]
    if delete:
        result.swept = sweep(spec.region, remaining, owner)
        for outcome in result.swept:
            ui.info(f"  {outcome.arn}: {outcome.detail}")
        remaining = [o.arn for o in result.swept if not o.deleted]
    else:
        for arn in remaining:
            ui.warn(f"left over: {arn}")
    if remaining:
        raise ProvisionError(
            f"{ws.name}: the state is empty, but {len(remaining)} resource(s) still carry its tags",
            hint=f"delete them by hand, then re-run `{down}`"
            if delete
            else f"`{down} --sweep` deletes left-over S3 buckets and log groups; anything else must be deleted by hand",
        )


# -- reap -------------------------------------------------------------------------------------------------


def reap(  # noqa: PLR0913 - keyword-only: the command's options, like its Typer signature
    project: Project,
    *,
    yes: bool = False,
    sweep: bool = False,
    plugin_dir: Path | None = None,
    ui: UI,
    tools: Tools | None = None,
) -> ReapResult:
    """Tear down every ephemeral instance past its expiry (a dry run unless `yes`); one failure does not stop
    the others. Raises ProvisionError at the end when any instance (or record store) failed."""
    found = instances.discover(project)
    now = instances.utcnow()
    result = ReapResult(
        expired=[r for r in found.records if r.expired(now)],
        active=[r for r in found.records if not r.expired(now)],
        dry_run=not yes,
    )
    for problem in found.problems:
        ui.error(f"cannot read instance records: {problem}")
        result.failed[f"record store #{len(result.failed) + 1}"] = problem
    _list_instances(result, len(found.records), now, ui)
    if not yes:
        ui.info("dry run: nothing was destroyed; `provision reap --yes` tears the expired instances down")

    def open_workspace(record: instances.Instance) -> Workspace:
        return Workspace(project, load_spec(project, record.ref, record), ui, plugin_dir, tools or Tools())

    for record in result.expired if yes else ():
        failure = _reap_one(record, open_workspace, sweep=sweep, ui=ui)
        if failure is None:
            result.destroyed.append(record.workspace)
        else:
            result.failed[record.workspace] = failure
    _summary(result, ui)
    return result


def _list_instances(result: ReapResult, total: int, now: datetime, ui: UI) -> None:
    ui.step(f"Reap: {len(result.expired)} of {total} ephemeral instance(s) past their expiry")
    for record in result.active:
        ui.info(f"  keep     {record.workspace:<28} expires {_iso(record)} (in {_hours(record.expires_at - now)})")
    verb = "would go" if result.dry_run else "expired "
    for record in result.expired:
        ui.info(f"  {verb} {record.workspace:<28} expired {_iso(record)} ({_hours(now - record.expires_at)} ago)")


def _reap_one(
    record: instances.Instance, open_workspace: Callable[[instances.Instance], Workspace], *, sweep: bool, ui: UI
) -> str | None:
    """Tear one expired instance down; the failure's message, or None."""
    ui.step(f"Reaping {record.workspace}")
    try:
        ws = open_workspace(record)
        if instances.load(ws.project, record.env, record.name) is None:
            instances.save(ws.project, record)  # found only in the state bucket
        down(ws, yes=True, sweep=sweep)
    except Interrupted:
        raise
    except ProvisionError as exc:
        ui.error(f"{record.workspace}: {exc.message}")
        return exc.message
    return None


def _summary(result: ReapResult, ui: UI) -> None:
    """The closing count; raises when anything failed, after the others were handled."""
    ui.step("Reap summary")
    counts = (
        [f"{len(result.expired)} to destroy (dry run)", f"{len(result.failed)} failed"]
        if result.dry_run
        else [f"{len(result.destroyed)} destroyed", f"{len(result.failed)} failed"]
    )
    ui.info("  " + ", ".join([*counts, f"{len(result.active)} not expired"]))
    if result.failed:
        names = ", ".join(sorted(result.failed))
        raise ProvisionError(
            f"reap: {len(result.failed)} failure(s): {names}",
            hint="the others were handled; fix the errors above and run `provision reap --yes` again",
        )


def _iso(record: instances.Instance) -> str:
    return record.to_json()["expires_at"]


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f}h"

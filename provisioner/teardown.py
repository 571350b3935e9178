"""Use-cases `down` and `reap`: destroy an environment on purpose only, and tear down expired instances.

down: protection gate -> preflight -> render -> init -> plan -destroy -> summary -> typed confirmation ->
empty the environment's own versioned buckets -> apply with live progress -> state must be empty -> sweep
for tagged leftovers -> forget the instance record. Every step is safe to repeat, so an interrupted or partly
failed destroy is finished by running the same `provision down` again.

Like lifecycle, nothing here prints: the operator is reached through `UI`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from provisioner import instances
from provisioner.errors import GateFailed, InputError, Interrupted, ProvisionError, TerraformError
from provisioner.lifecycle import (
    PLAN_DIR,
    PLAN_FILE,
    PLAN_JSON,
    PLAN_META,
    env_file,
    init_workdir,
    load_spec,
    preflight,
    terraform_for,
)
from provisioner.project import Project
from provisioner.ui import UI

if TYPE_CHECKING:
    from provisioner.aws.cleanup import BucketOutcome, SweepOutcome
    from provisioner.aws.inventory import TaggedResource
    from provisioner.plan import Plan
    from provisioner.spec import EnvironmentSpec
    from provisioner.terraform import Terraform

DESTROY_PLAN = "destroy.tfplan"


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


def ownership_tags(spec: EnvironmentSpec) -> dict[str, str]:
    """The tags that say "this environment made it"; owner and expiry tags are not identity."""
    tags = {"Project": spec.project, "Environment": spec.name, "ManagedBy": "provision"}
    if spec.instance:
        tags["Instance"] = spec.instance
    return tags


def down_command(spec: EnvironmentSpec) -> str:
    return f"provision down --env {spec.name}" + (f" --name {spec.instance}" if spec.instance else "")


# -- down -------------------------------------------------------------------------------------------------


def down(
    project: Project,
    env: str,
    *,
    instance: str | None = None,
    yes: bool = False,
    confirm_protected: str | None = None,
    sweep: bool = False,
    plugin_dir: Path | None = None,
    ui: UI,
) -> DownResult:
    """Destroy one environment (or instance); raises GateFailed when refused, Interrupted on Ctrl-C."""
    from provisioner.plan import Plan
    from provisioner.render import render

    spec = load_spec(project, env, instance)
    _protection_gate(project, spec, confirm_protected)
    preflight(project, spec, ui)
    ui.step(f"Rendering {spec.workspace}")
    rendered = render(project, spec)
    tf = terraform_for(rendered.work_dir, plugin_dir)
    init_workdir(tf, spec, ui)
    plan_dir = rendered.work_dir / PLAN_DIR
    plan_dir.mkdir(exist_ok=True)
    plan_file = plan_dir / DESTROY_PLAN
    result = DownResult(spec.workspace)
    try:
        ui.step("terraform plan -destroy")
        tf.plan(plan_file, destroy=True)
        plan = Plan.from_json(tf.show_json(plan_file))
        summary = plan.summary()
        if summary.total:
            ui.step("Destroy plan summary")
            ui.info(summary.to_text(color=ui.color))
            _confirm(spec, summary.total, yes=yes or confirm_protected is not None, ui=ui)
            result.buckets = _empty_owned_buckets(spec, plan, ui)
            _destroy(tf, plan_file, summary.total, spec, ui)
            result.destroyed = summary.total
        else:
            ui.info("  nothing to destroy: the state holds no resources")
    finally:
        plan_file.unlink(missing_ok=True)
    _require_empty_state(tf, spec)
    # A plan kept by `provision plan` was made against resources that no longer exist.
    for name in (PLAN_FILE, PLAN_JSON, PLAN_META):
        (plan_dir / name).unlink(missing_ok=True)
    _sweep(spec, sweep, result, ui)
    if spec.instance:
        instances.forget(project, spec.name, spec.instance)
    if result.destroyed:
        ui.success(f"destroyed {spec.workspace}: {result.destroyed} resource(s); the state is empty")
    else:
        ui.success(f"nothing to destroy: the state of {spec.workspace} is empty")
    return result


def _protection_gate(project: Project, spec: EnvironmentSpec, confirm_protected: str | None) -> None:
    if confirm_protected is not None and confirm_protected != spec.workspace:
        raise InputError(
            f"--confirm-protected {confirm_protected!r} does not name the environment being destroyed "
            f"({spec.workspace!r})"
        )
    if not spec.protection.destroy_protected:
        return
    spec_file = env_file(project, spec)
    unlock = f"`{down_command(spec)} --confirm-protected {spec.workspace}`"
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
    from provisioner.aws.cleanup import empty_owned_buckets

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
    from provisioner.aws.cleanup import stop_access_logging

    ui.step(f"Emptying {len(buckets)} bucket(s) in the state before destroy")
    # Access logs of the emptying itself would land in the log sink again after it was emptied.
    for bucket in stop_access_logging(spec.region, buckets, ownership_tags(spec)):
        ui.info(f"  s3://{bucket}: access logging stopped")
    outcomes = empty_owned_buckets(spec.region, buckets, ownership_tags(spec))
    for outcome in outcomes:
        line = f"  s3://{outcome.bucket}: {outcome.detail}"
        if outcome.emptied:
            ui.info(line)
        else:
            ui.warn(line.strip())
    return outcomes


def _destroy(tf: Terraform, plan_file: Path, total: int, spec: EnvironmentSpec, ui: UI) -> None:
    from provisioner.progress import Progress

    rerun = f"re-run `{down_command(spec)}` to finish the destroy"
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
                f"destroy of {spec.workspace} failed part-way ({count}): {exc.message}",
                diagnostics=exc.diagnostics,
                returncode=exc.returncode,
                hint=f"fix the cause above, then {rerun}",
            ) from None


def _state_or_none(tf: Terraform) -> list[str] | None:
    try:
        return tf.state_list()
    except TerraformError:
        return None


def _require_empty_state(tf: Terraform, spec: EnvironmentSpec) -> None:
    left = tf.state_list()
    if left:
        shown = ", ".join(left[:5]) + (f" (+{len(left) - 5} more)" if len(left) > 5 else "")
        raise ProvisionError(
            f"{spec.workspace}: the destroy finished, but {len(left)} resource(s) remain in the state: {shown}",
            hint=f"re-run `{down_command(spec)}`",
        )


def _sweep(spec: EnvironmentSpec, delete: bool, result: DownResult, ui: UI) -> None:
    """Resources that still carry the environment's tags though the state is empty: created outside
    Terraform, or orphaned by an earlier failure. Reported; with --sweep, deleted where that is safe."""
    from provisioner.aws.cleanup import owns, sweep
    from provisioner.aws.inventory import find_tagged_resources

    owner = ownership_tags(spec)
    ui.step("Sweep: resources still tagged " + ", ".join(f"{k}={v}" for k, v in owner.items()))
    from provisioner.aws.liveness import split_dead

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
            f"{spec.workspace}: the state is empty, but {len(remaining)} resource(s) still carry its tags",
            hint=f"delete them by hand, then re-run `{down_command(spec)}`"
            if delete
            else f"`{down_command(spec)} --sweep` deletes left-over S3 buckets and log groups; anything "
            "else must be deleted by hand",
        )


# -- reap -------------------------------------------------------------------------------------------------


def reap(
    project: Project,
    *,
    yes: bool = False,
    sweep: bool = False,
    plugin_dir: Path | None = None,
    ui: UI,
) -> ReapResult:
    """Tear down every ephemeral instance past its expiry (a dry run unless `yes`); one failure does not stop
    the others. Raises ProvisionError at the end when any instance (or record store) failed."""
    records = {r.workspace: r for r in instances.list_all(project)}
    remote, problems = instances.list_remote(project)
    for record in remote:
        known = records.get(record.workspace)
        # Two copies of one record: the later expiry wins, so nothing is reaped early.
        if known is None or record.expires_at > known.expires_at:
            records[record.workspace] = record
    now = instances.utcnow()
    ordered = sorted(records.values(), key=lambda r: (r.expires_at, r.workspace))
    result = ReapResult(
        expired=[r for r in ordered if r.expired(now)],
        active=[r for r in ordered if not r.expired(now)],
        dry_run=not yes,
    )
    for problem in problems:
        ui.error(f"cannot read instance records: {problem}")
        result.failed[f"record store #{len(result.failed) + 1}"] = problem

    ui.step(f"Reap: {len(result.expired)} of {len(records)} ephemeral instance(s) past their expiry")
    for record in result.active:
        left = _hours(record.expires_at - now)
        ui.info(f"  keep     {record.workspace:<28} expires {_iso(record)} (in {left})")
    for record in result.expired:
        verb = "expired " if yes else "would go"
        ago = _hours(now - record.expires_at)
        ui.info(f"  {verb} {record.workspace:<28} expired {_iso(record)} ({ago} ago)")
    if not yes:
        ui.info("dry run: nothing was destroyed; `provision reap --yes` tears the expired instances down")
    else:
        for record in result.expired:
            ui.step(f"Reaping {record.workspace}")
            try:
                if instances.load(project, record.env, record.name) is None:
                    instances.save(project, record, remote=False)  # found only in the state bucket
                down(
                    project,
                    record.env,
                    instance=record.name,
                    yes=True,
                    sweep=sweep,
                    plugin_dir=plugin_dir,
                    ui=ui,
                )
            except Interrupted:
                raise
            except ProvisionError as exc:
                ui.error(f"{record.workspace}: {exc.message}")
                result.failed[record.workspace] = exc.message
            else:
                result.destroyed.append(record.workspace)

    ui.step("Reap summary")
    counts = (
        [f"{len(result.destroyed)} destroyed", f"{len(result.failed)} failed"]
        if yes
        else [f"{len(result.expired)} to destroy (dry run)", f"{len(result.failed)} failed"]
    )
    ui.info("  " + ", ".join([*counts, f"{len(result.active)} not expired"]))
    if result.failed:
        names = ", ".join(sorted(result.failed))
        raise ProvisionError(
            f"reap: {len(result.failed)} failure(s): {names}",
            hint="the others were handled; fix the errors above and run `provision reap --yes` again",
        )
    return result


def _iso(record: instances.Instance) -> str:
    return record.to_json()["expires_at"]


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f}h"

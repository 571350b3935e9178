"""Use-cases: render, validate, scan, plan, apply, up, bootstrap — each one function over a `Workspace`.

Nothing here prints: progress and questions go through the workspace's `UI`, results are returned or raised.
The gate is structural: `_apply` only accepts a `ScannedPlan`, and the only ways to get one are
`_plan_and_scan`, which runs both Checkov scans and refuses on failure, and the plan store's verified load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioner.errors import GateFailed, InputError, Interrupted, ProvisionError
from provisioner.workspace import Workspace, require_template

if TYPE_CHECKING:
    from provisioner.planstore import ScannedPlan
    from provisioner.render import RenderResult
    from provisioner.scan import PendingScan, ScanReport
    from provisioner.terraform import PlanOutcome
    from provisioner.ui import UI


def render_environment(ws: Workspace) -> RenderResult:
    return ws.render()


def validate_environment(ws: Workspace) -> None:
    ws.validate()


def _check_report_dir(report_dir: Path | None) -> None:
    """A --report-dir that cannot receive the reports is refused before anything runs or is written."""
    from provisioner.report import REPORT_FILES
    from provisioner.user_files import check_output_dir

    if report_dir is not None:
        check_output_dir(report_dir, "--report-dir", REPORT_FILES)


def scan_environment(
    ws: Workspace, *, fmt: str = "text", report_dir: Path | None = None, output: Path | None = None
) -> int:
    """The configuration gate alone: 0 passed, 1 failed (2 for bad input comes from the error path)."""
    from provisioner.report.common import write_output
    from provisioner.scan import scan_config_reusing
    from provisioner.user_files import check_output_file

    _check_report_dir(report_dir)
    check_output_file(output, "--output")
    rendered = ws.render()
    report = scan_config_reusing(rendered.work_dir, rendered.config_hash, ws.spec.checkov, base=ws.project.root)
    if fmt == "sarif":
        text = _sarif(ws, [report]).rstrip("\n")
    else:
        text = json.dumps(report.to_json(), indent=2) if fmt == "json" else report.to_text()
    if output is not None:
        write_output(output, text)
        ws.ui.info(report.to_text().splitlines()[0] + f" ({fmt} written to {output})")
    else:
        ws.ui.info(text)
    if report_dir is not None:
        _write_scan_reports(ws, [report], report_dir)
    return 0 if report.ok else 1


def _sarif(ws: Workspace, reports: list[ScanReport]) -> str:
    from provisioner.checkov_runner import checkov_version_id, find_checkov
    from provisioner.report.sarif import Locator, to_sarif

    try:  # "checkov-3.3.30.dist-info:<digest>" -> "3.3.30"; also written when Checkov was never found
        found = checkov_version_id(find_checkov()) or ""
    except ProvisionError:
        found = ""
    version = found.split(":")[0].removeprefix("checkov-").removesuffix(".dist-info") or None
    return to_sarif(reports, Locator(ws.work_dir, ws.project.root), workspace=ws.name, version=version)


def _write_scan_reports(ws: Workspace, reports: list[ScanReport], directory: Path) -> None:
    """checkov.json, checkov.junit.xml and checkov.sarif (one SARIF run per scan)."""
    from provisioner.report.common import write_output
    from provisioner.scan import write_reports

    write_reports(reports, directory)
    write_output(directory / "checkov.sarif", _sarif(ws, reports), option="--report-dir")


def bootstrap_backend(ws: Workspace) -> None:
    from provisioner.aws.backend import bootstrap, lock_table
    from provisioner.aws.identity import require_account
    from provisioner.ownership import project_tags

    spec = ws.spec
    if spec.backend.type != "s3":
        raise InputError(f"{ws.spec_file}: backend.type: is {spec.backend.type!r}; only s3 is bootstrapped")
    require_account(spec.region, spec.account_ids, ws.spec_file)
    ws.ui.step(f"Bootstrapping state backend in {spec.region}")
    tags = project_tags(spec.project, spec.tags.as_aws_tags())
    # The lock table only where this terraform still needs one (before 1.10, or named in the spec).
    table = lock_table(spec, ws.terraform.binary.version)
    result = bootstrap(spec.backend_bucket(), table, spec.region, tags, kms_key=spec.backend.kms_key_alias)
    locking = f"lock table {table}" if table else "S3-native locking, no lock table"
    if result.changed:
        for change in result.changes:
            ws.ui.info(f"  {change}")
        ws.ui.success(f"backend ready: s3://{result.bucket} ({locking})")
    else:
        ws.ui.success(f"no changes: s3://{result.bucket} ({locking}) already as required")


# -- plan and apply ----------------------------------------------------------------------------------------


def _refuse_on_scan(report: ScanReport, what: str) -> None:
    if not report.ok:
        raise GateFailed(
            f"Checkov {what} scan failed ({len(report.failed)} failed check(s), "
            f"{len(report.parsing_errors)} parse error(s)): nothing was applied",
            hint="fix the resources listed above, or skip a check in the environment's checkov.skip with a reason",
        )


def _judge_config(pending: PendingScan, ui: UI) -> None:
    """Waits for the background configuration scan, shows it once, refuses when it failed."""
    shown = pending.collected
    report = pending.result()
    if not shown:
        ui.info(report.to_text(brief=not ui.verbose))
    _refuse_on_scan(report, "configuration")


def _terraform_plan(ws: Workspace, config_scan: PendingScan) -> tuple[PlanOutcome, dict[str, Any], Path]:
    """init, plan -out, show -json while the configuration scan runs; a scan that already failed stops it
    before the plan, and is reported before any Terraform error (it is the first thing to fix)."""
    tf, plans = ws.terraform, ws.plans
    try:
        ws.init()
        if config_scan.done():  # already finished: a failed scan stops before the plan
            _judge_config(config_scan, ws.ui)
        ws.ui.step("terraform plan")
        outcome = tf.plan(plans.new_plan())
        plan_data = tf.show_json(plans.plan_file)
        return outcome, plan_data, plans.write_json(plan_data)
    except Interrupted:
        raise
    except ProvisionError:
        _judge_config(config_scan, ws.ui)
        raise


def _plan_and_scan(ws: Workspace, *, report_dir: Path | None) -> ScannedPlan:
    """render -> validate -> [scan config | init -> plan -> show] -> scan plan -> summary; the plan is kept.

    One Checkov start-up serves both scans; it begins first, so Checkov imports while provision renders and
    validates, and the configuration scan runs alongside Terraform."""
    from provisioner.plan import Plan
    from provisioner.report.plan import plan_text, write_plan_summary

    _check_report_dir(report_dir)
    ui = ws.ui
    scans = ws.scan_session()
    reports: list[ScanReport] = []
    try:
        ui.step(f"Rendering {ws.name}")
        rendered = ws.render()
        ws.validate()
        ui.step("Checkov: scanning the rendered configuration (alongside terraform init and plan)")
        config_scan = scans.start_config_scan(rendered.work_dir, on_report=reports.append)
        outcome, plan_data, plan_json = _terraform_plan(ws, config_scan)
        plan_scan = scans.start_plan_scan(plan_json, rendered.work_dir)  # at once; judged after the config scan
        _judge_config(config_scan, ui)
        ui.step("Checkov: scanning the plan")
        reports.append(plan_scan.result(config=reports[0]))
        ui.info(reports[1].to_text(brief=not ui.verbose))
        _refuse_on_scan(reports[1], "plan")
        summary = Plan.from_json(plan_data).summary()
        ui.step("Plan summary")
        ui.info(plan_text(summary, color=ui.color, verbose=ui.verbose))
        if report_dir is not None:
            write_plan_summary(summary, report_dir)
    finally:
        scans.close()  # every Checkov process of the run ends here: success, refusal, error or Ctrl-C
        if report_dir is not None:
            _write_scan_reports(ws, reports, report_dir)
    return ws.plans.record_scanned(
        ws.name,
        config_hash=rendered.config_hash,
        has_changes=outcome.has_changes,
        total_changes=summary.total,
        scans=[r.ok for r in reports],
    )


def _apply(ws: Workspace, scanned: ScannedPlan) -> None:
    from provisioner.progress import Progress

    ws.ui.step("terraform apply (the scanned plan)")
    with Progress(total=scanned.total_changes, stream=ws.ui.out, plain=ws.ui.plain) as progress:
        ws.terraform.apply(scanned.plan_file, on_event=progress)
    ws.plans.discard()
    refresh_state(ws)
    ws.ui.success(f"applied {ws.name}")
    if ws.spec.target == "emulator":
        from provisioner.emulator.target import next_steps

        ws.ui.info(next_steps(ws.spec))


def refresh_state(ws: Workspace) -> None:
    """Record what was just created: attributes that sibling resources fill in after creation (a bucket's
    policy, a role's attachments) reach the state only on a refresh, so without this `drift` right after `up`
    reports them as changed outside Terraform. A refresh-only plan changes the state, never infrastructure."""
    ws.ui.step("terraform apply -refresh-only (the state records what the apply created)")
    with ws.plans.transient("refresh") as (refresh,):
        ws.terraform.plan(refresh, refresh_only=True)
        ws.terraform.apply(refresh)


def _confirm_apply(ws: Workspace, auto_approve: bool) -> None:
    if auto_approve:
        return
    if not ws.ui.interactive:
        raise GateFailed(
            "not applied: no terminal to confirm on",
            hint=f"review the plan above and re-run with --auto-approve, or `{ws.command('apply')}` to apply "
            "this scanned plan",
        )
    if not ws.ui.confirm(f"Apply these changes to {ws.name}?", expected="yes"):
        raise GateFailed("not applied: not confirmed; the plan is kept for `provision apply`")


def plan_environment(ws: Workspace, *, report_dir: Path | None = None) -> ScannedPlan:
    ws.preflight()
    scanned = _plan_and_scan(ws, report_dir=report_dir)
    ws.ui.info(f"plan kept at {ws.project.relative(scanned.plan_file)}; apply it with `{ws.command('apply')}`")
    return scanned


def apply_saved_plan(ws: Workspace, *, auto_approve: bool = False) -> None:
    """Apply the kept plan only if it is byte-for-byte the scanned one and the config is unchanged."""
    scanned = ws.plans.load_scanned(ws.name, ws.render().config_hash, plan_command=ws.command("plan"))
    ws.preflight()
    other = ws.terraform.initialised_by_other()
    if other is not None:  # Terraform refuses a plan file from another version; say which and what to do
        used = ws.terraform.binary
        raise GateFailed(
            f"refusing: the kept plan was made with {other}; this run uses terraform {used.version_text} ({used.path})",
            hint=f"plan again with this terraform (`{ws.command('plan')}`), or set PROVISION_TERRAFORM={other.path}",
        )
    if not scanned.has_changes:
        ws.ui.success(f"no changes: {ws.name} matches the configuration")
        return
    _confirm_apply(ws, auto_approve)
    _apply(ws, scanned)


def up(
    ws: Workspace,
    *,
    instance: str | None = None,
    ttl: str | None = None,
    auto_approve: bool = False,
    report_dir: Path | None = None,
) -> None:
    """preflight -> [instance record] -> render -> validate -> scan -> init -> plan -> scan plan -> confirm ->
    apply. `ws` is the environment's (the template's, for `--name`)."""
    from provisioner import instances

    if instance is None and ttl is not None:
        raise InputError("--ttl needs --name: only ephemeral instances expire")
    if instance is not None:
        require_template(ws.project, ws.spec)
    # The account check comes before anything is read from or written to AWS, instance records included.
    ws.preflight()
    if instance is not None:
        template = ws.spec
        record = instances.plan_instance(ws.project, template, instance, ttl)
        ws = ws.for_instance(record)
        instances.save(ws.project, record, remote_to=template)
        ws.ui.info(f"instance {record.workspace}: expires {record.to_json()['expires_at']}")
    scanned = _plan_and_scan(ws, report_dir=report_dir)
    if not scanned.has_changes:
        ws.ui.success(f"no changes: {ws.name} is up to date")
        return
    _confirm_apply(ws, auto_approve)
    _apply(ws, scanned)

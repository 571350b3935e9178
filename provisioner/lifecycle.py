"""Use-cases: render, validate, scan, plan, apply, up — composed from the single-purpose modules.

Nothing here prints: progress and questions go through `UI`, results are returned or raised.
The gate is structural: `_apply_plan` only accepts a `ScannedPlan`, and the only way to get one is
`_plan_and_scan`, which runs both Checkov scans and refuses on failure.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioner.errors import GateFailed, InputError, ProvisionError, TerraformError
from provisioner.project import Project, validate_instance_name
from provisioner.ui import UI

if TYPE_CHECKING:
    from provisioner.render import RenderResult
    from provisioner.scan import ScanReport
    from provisioner.spec import EnvironmentSpec
    from provisioner.terraform import Terraform

PLAN_DIR = "plan"
PLAN_FILE = "tfplan"
PLAN_JSON = "tfplan.json"
PLAN_META = "tfplan.meta.json"


# -- loading and rendering -------------------------------------------------------------------------------


def load_spec(project: Project, env: str, instance: str | None = None) -> EnvironmentSpec:
    """The environment spec, or for `--name` the instance stamped from that template (must exist)."""
    from provisioner import instances
    from provisioner.spec import load_environment

    template = load_environment(project, env)
    if instance is None:
        return template
    validate_instance_name(instance)
    if not template.ephemeral.template:
        raise InputError(f"{env_file(project, template)}: ephemeral.template: is false; --name needs a template")
    record = instances.load_any(project, template, instance)
    if record is None:
        raise InputError(
            f"no instance {instance!r} of environment {env!r}; create it with "
            f"`provision up --env {env} --name {instance} --ttl 24h`"
        )
    return load_environment(project, env, instance=instance, created_at=record.created_at, expires_at=record.expires_at)


def env_file(project: Project, spec: EnvironmentSpec) -> str:
    return project.relative(project.environment_file(spec.name))


def render_environment(project: Project, env: str, *, instance: str | None = None) -> RenderResult:
    from provisioner.render import render

    return render(project, load_spec(project, env, instance))


# -- validate ---------------------------------------------------------------------------------------------


def validate_rendered(project: Project, spec: EnvironmentSpec, result: RenderResult, tf: Terraform, ui: UI) -> None:
    from provisioner.validate import validate_tree

    ui.step("Validating (HCL parse, terraform fmt, AWS provider schema)")
    problems = [str(d) for d in validate_tree(result.work_dir, project.modules_dir, relative_to=project.root)]
    for path in (result.work_dir, project.modules_dir):
        for unformatted in tf.fmt_check([path]):
            shown = project.relative(
                (tf.workdir / unformatted).resolve() if not Path(unformatted).is_absolute() else Path(unformatted)
            )
            problems.append(f"{shown}: not formatted (run `terraform fmt`)")
    if problems:
        for line in problems:
            ui.error(line)
        raise GateFailed(f"validation failed: {len(problems)} problem(s) in the configuration")
    ui.info("  configuration is valid")


def validate_environment(project: Project, env: str, *, instance: str | None = None, ui: UI) -> None:
    from provisioner.render import render
    from provisioner.terraform import Terraform

    spec = load_spec(project, env, instance)
    result = render(project, spec)
    validate_rendered(project, spec, result, Terraform(result.work_dir), ui)


# -- scan -------------------------------------------------------------------------------------------------


def _scan_config(project: Project, spec: EnvironmentSpec, result: RenderResult, ui: UI) -> ScanReport:
    from provisioner.scan import scan_config

    ui.step("Checkov: scanning the rendered configuration")
    report = scan_config(result.work_dir, spec.checkov, base=project.root)
    ui.info(report.to_text())
    return report


def scan_environment(
    project: Project,
    env: str,
    *,
    instance: str | None = None,
    fmt: str = "text",
    report_dir: Path | None = None,
    ui: UI,
) -> int:
    """The configuration gate alone: 0 passed, 1 failed (2 for bad input comes from the error path)."""
    from provisioner.render import render
    from provisioner.scan import scan_config, write_reports

    spec = load_spec(project, env, instance)
    result = render(project, spec)
    report = scan_config(result.work_dir, spec.checkov, base=project.root)
    ui.info(json.dumps(report.to_json(), indent=2) if fmt == "json" else report.to_text())
    if report_dir is not None:
        write_reports([report], report_dir)
    return 0 if report.ok else 1


def _refuse_on_scan(report: ScanReport, what: str) -> None:
    if not report.ok:
        raise GateFailed(
            f"Checkov {what} scan failed ({len(report.failed)} failed check(s), "
            f"{len(report.parsing_errors)} parse error(s)): nothing was applied",
            hint="fix the resources listed above, or skip a check in the environment's checkov.skip with a reason",
        )


# -- preflight, bootstrap ----------------------------------------------------------------------------------


def preflight(project: Project, spec: EnvironmentSpec, ui: UI) -> None:
    from provisioner.aws.identity import require_account
    from provisioner.emulator.target import activate
    from provisioner.terraform import find_terraform

    ui.step("Preflight: terraform and AWS identity")
    target = activate(project, spec)
    if target.emulator:
        ui.info(f"  target: the embedded emulator at {target.endpoint} (provider: {target.plugin_dir or 'registry'})")
    binary = find_terraform()
    identity = require_account(spec.region, spec.account_ids, env_file(project, spec))
    ui.info(f"  terraform {binary.version_text}; AWS account {identity.account} ({identity.arn})")


def bootstrap_backend(project: Project, env: str, *, ui: UI) -> None:
    from provisioner.aws.backend import bootstrap
    from provisioner.aws.identity import require_account

    spec = load_spec(project, env)
    if spec.backend.type != "s3":
        raise InputError(f"{env_file(project, spec)}: backend.type: is {spec.backend.type!r}; only s3 is bootstrapped")
    require_account(spec.region, spec.account_ids, env_file(project, spec))
    ui.step(f"Bootstrapping state backend in {spec.region}")
    result = bootstrap(
        spec.backend_bucket(),
        spec.backend_lock_table(),
        spec.region,
        {"Project": spec.project, "ManagedBy": "provision", **spec.tags.as_aws_tags()},
        kms_key=spec.backend.kms_key_alias,
    )
    if result.changed:
        for change in result.changes:
            ui.info(f"  {change}")
        ui.success(f"backend ready: s3://{result.bucket} (lock table {result.table})")
    else:
        ui.success(f"no changes: s3://{result.bucket} and lock table {result.table} already as required")


# -- plan and apply ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScannedPlan:
    """A saved plan that passed both Checkov scans; the only thing `_apply_plan` accepts."""

    spec: EnvironmentSpec
    work_dir: Path
    plan_file: Path
    plan_sha256: str
    config_hash: str
    has_changes: bool
    total_changes: int


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def terraform_for(work_dir: Path, plugin_dir: Path | None) -> Terraform:
    from provisioner.terraform import Terraform

    if plugin_dir is None and os.environ.get("PROVISION_PLUGIN_DIR"):  # set by the emulator target
        plugin_dir = Path(os.environ["PROVISION_PLUGIN_DIR"])
    if plugin_dir is not None and not plugin_dir.is_dir():
        raise InputError(f"--plugin-dir {plugin_dir}: not a directory")
    return Terraform(work_dir, plugin_dir=plugin_dir.resolve() if plugin_dir else None)


def init_workdir(tf: Terraform, spec: EnvironmentSpec, ui: UI) -> None:
    ui.step("terraform init")
    try:
        tf.init(on_event=lambda event: None)
    except TerraformError as exc:
        text = " ".join([exc.message, *exc.diagnostics])
        if "Failed to query available provider packages" in text or "Failed to install provider" in text:
            providers = ", ".join(p.source for p in spec.terraform.providers.values()) or "providers"
            raise ProvisionError(
                f"offline: render, validate and the Checkov scan passed, but terraform init could not install "
                f"{providers} (the Terraform registry is unreachable from here)",
                hint="point provision at a local copy: --plugin-dir DIR (or PROVISION_PLUGIN_DIR), laid out as "
                "DIR/registry.terraform.io/hashicorp/aws/VERSION/linux_amd64/terraform-provider-aws_*, or set "
                "TF_CLI_CONFIG_FILE to a CLI config with a provider_installation filesystem_mirror or "
                "network_mirror block",
            ) from None
        raise


def _plan_and_scan(
    project: Project,
    spec: EnvironmentSpec,
    *,
    destroy: bool,
    report_dir: Path | None,
    plugin_dir: Path | None,
    ui: UI,
    preflighted: bool = False,
) -> ScannedPlan:
    from provisioner.plan import Plan
    from provisioner.render import render
    from provisioner.scan import scan_plan, write_reports

    if not preflighted:
        preflight(project, spec, ui)
    ui.step(f"Rendering {spec.workspace}")
    result = render(project, spec)
    tf = terraform_for(result.work_dir, plugin_dir)
    validate_rendered(project, spec, result, tf, ui)
    reports = [_scan_config(project, spec, result, ui)]
    try:
        _refuse_on_scan(reports[0], "configuration")
        init_workdir(tf, spec, ui)
        plan_dir = result.work_dir / PLAN_DIR
        plan_dir.mkdir(exist_ok=True)
        plan_file = plan_dir / PLAN_FILE
        (plan_dir / PLAN_META).unlink(missing_ok=True)  # a stale meta must never bless a new plan
        ui.step("terraform plan" + (" -destroy" if destroy else ""))
        outcome = tf.plan(plan_file, destroy=destroy)
        plan_data = tf.show_json(plan_file)
        plan_json = plan_dir / PLAN_JSON
        # Holds unmasked values: private to the owner, git-ignored, deleted after apply.
        fd = os.open(plan_json, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(plan_data, handle)
        ui.step("Checkov: scanning the plan")
        plan_report = scan_plan(plan_json, result.work_dir, spec.checkov, base=project.root)
        ui.info(plan_report.to_text())
        reports.append(plan_report)
        _refuse_on_scan(plan_report, "plan")
        summary = Plan.from_json(plan_data).summary()
        ui.step("Plan summary")
        ui.info(summary.to_text(color=ui.color))
        if report_dir is not None:
            report_dir.mkdir(parents=True, exist_ok=True)
            (report_dir / "plan-summary.json").write_text(json.dumps(summary.to_json(), indent=2) + "\n")
            (report_dir / "plan-summary.md").write_text(summary.to_markdown() + "\n")
    finally:
        if report_dir is not None:
            write_reports(reports, report_dir)
    scanned = ScannedPlan(
        spec=spec,
        work_dir=result.work_dir,
        plan_file=plan_file,
        plan_sha256=_sha256(plan_file),
        config_hash=result.config_hash,
        has_changes=outcome.has_changes,
        total_changes=summary.total,
    )
    meta = {
        "workspace": spec.workspace,
        "plan_sha256": scanned.plan_sha256,
        "config_hash": scanned.config_hash,
        "destroy": destroy,
        "has_changes": scanned.has_changes,
        "total_changes": scanned.total_changes,
        "scans": [r.to_json()["ok"] for r in reports],
    }
    (plan_dir / PLAN_META).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return scanned


def _apply_plan(scanned: ScannedPlan, plugin_dir: Path | None, ui: UI) -> None:
    from provisioner.progress import Progress

    tf = terraform_for(scanned.work_dir, plugin_dir)
    ui.step("terraform apply (the scanned plan)")
    with Progress(total=scanned.total_changes, stream=ui.out, plain=ui.plain) as progress:
        tf.apply(scanned.plan_file, on_event=progress)
    for name in (PLAN_FILE, PLAN_JSON, PLAN_META):
        (scanned.work_dir / PLAN_DIR / name).unlink(missing_ok=True)
    refresh_state(tf, scanned.work_dir, ui)
    ui.success(f"applied {scanned.spec.workspace}")


def refresh_state(tf: Terraform, work_dir: Path, ui: UI) -> None:
    """Record what was just created: attributes that sibling resources fill in after creation (a bucket's
    policy, a role's attachments) reach the state only on a refresh, so without this `drift` right after `up`
    reports them as changed outside Terraform. A refresh-only plan changes the state, never infrastructure."""
    ui.step("terraform apply -refresh-only (the state records what the apply created)")
    refresh = work_dir / PLAN_DIR / "refresh.tfplan"
    try:
        tf.plan(refresh, refresh_only=True)
        tf.apply(refresh)
    finally:
        refresh.unlink(missing_ok=True)


def _confirm_apply(scanned: ScannedPlan, auto_approve: bool, ui: UI) -> None:
    if auto_approve:
        return
    if not ui.interactive:
        raise GateFailed(
            "not applied: no terminal to confirm on",
            hint=f"review the plan above and re-run with --auto-approve, or `provision apply --env "
            f"{scanned.spec.name}` to apply this scanned plan",
        )
    if not ui.confirm(f"Apply these changes to {scanned.spec.workspace}?", expected="yes"):
        raise GateFailed("not applied: not confirmed; the plan is kept for `provision apply`")


def plan_environment(
    project: Project,
    env: str,
    *,
    instance: str | None = None,
    report_dir: Path | None = None,
    plugin_dir: Path | None = None,
    ui: UI,
) -> ScannedPlan:
    spec = load_spec(project, env, instance)
    scanned = _plan_and_scan(project, spec, destroy=False, report_dir=report_dir, plugin_dir=plugin_dir, ui=ui)
    ui.info(f"plan kept at {project.relative(scanned.plan_file)}; apply it with `provision apply --env {env}`")
    return scanned


def apply_saved_plan(
    project: Project,
    env: str,
    *,
    instance: str | None = None,
    auto_approve: bool = False,
    plugin_dir: Path | None = None,
    ui: UI,
) -> None:
    """Apply the kept plan only if it is byte-for-byte the scanned one and the config is unchanged."""
    from provisioner.render import render

    spec = load_spec(project, env, instance)
    work_dir = project.work_dir(spec.name, spec.instance)
    plan_dir = work_dir / PLAN_DIR
    meta_path = plan_dir / PLAN_META
    plan_file = plan_dir / PLAN_FILE
    if not meta_path.exists() or not plan_file.exists():
        raise GateFailed(f"no scanned plan for {spec.workspace}", hint=f"run `provision plan --env {env}` first")
    meta: dict[str, Any] = json.loads(meta_path.read_text())
    if meta.get("destroy"):
        raise GateFailed("the kept plan is a destroy plan; use `provision down`")
    if _sha256(plan_file) != meta.get("plan_sha256"):
        raise GateFailed("refusing: the plan file is not the one that was scanned (hash differs)")
    current = render(project, spec)
    if current.config_hash != meta.get("config_hash"):
        raise GateFailed(
            "refusing: the configuration changed since the plan was scanned",
            hint=f"run `provision plan --env {env}` again",
        )
    preflight(project, spec, ui)
    scanned = ScannedPlan(
        spec=spec,
        work_dir=work_dir,
        plan_file=plan_file,
        plan_sha256=meta["plan_sha256"],
        config_hash=meta["config_hash"],
        has_changes=bool(meta.get("has_changes", True)),
        total_changes=int(meta.get("total_changes", 0)),
    )
    if not scanned.has_changes:
        ui.success(f"no changes: {spec.workspace} matches the configuration")
        return
    _confirm_apply(scanned, auto_approve, ui)
    _apply_plan(scanned, plugin_dir, ui)


def up(
    project: Project,
    env: str,
    *,
    instance: str | None = None,
    ttl: str | None = None,
    auto_approve: bool = False,
    report_dir: Path | None = None,
    plugin_dir: Path | None = None,
    ui: UI,
) -> None:
    """preflight -> render -> validate -> scan -> init -> plan -> show -> scan plan -> confirm -> apply."""
    from provisioner import instances
    from provisioner.spec import load_environment

    spec = load_environment(project, env)
    if instance is None and ttl is not None:
        raise InputError("--ttl needs --name: only ephemeral instances expire")
    if instance is not None and not spec.ephemeral.template:
        raise InputError(f"{env_file(project, spec)}: ephemeral.template: is false; --name needs a template")
    # The account check comes before anything is read from or written to AWS, instance records included.
    preflight(project, spec, ui)
    if instance is not None:
        record = instances.plan_instance(project, spec, instance, ttl)
        spec = load_environment(
            project, env, instance=instance, created_at=record.created_at, expires_at=record.expires_at
        )
        instances.save(project, record)
        ui.info(f"instance {record.workspace}: expires {record.to_json()['expires_at']}")
    scanned = _plan_and_scan(
        project, spec, destroy=False, report_dir=report_dir, plugin_dir=plugin_dir, ui=ui, preflighted=True
    )
    if not scanned.has_changes:
        ui.success(f"no changes: {spec.workspace} is up to date")
        return
    _confirm_apply(scanned, auto_approve, ui)
    _apply_plan(scanned, plugin_dir, ui)
    if spec.target == "emulator":
        from provisioner.emulator.target import next_steps

        ui.info(next_steps(spec))


# -- read-only views ---------------------------------------------------------------------------------------


def summarize_plan_file(path: Path, *, fmt: str, color: bool) -> str:
    from provisioner.plan import Plan

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or "format_version" not in data:
        raise InputError(f"{path}: not a `terraform show -json` plan (no format_version)")
    summary = Plan.from_json(data).summary()
    if fmt == "json":
        return json.dumps(summary.to_json(), indent=2)
    if fmt == "markdown":
        return summary.to_markdown()
    return summary.to_text(color=color)


def list_environments(project: Project, *, fmt: str = "text") -> str:
    """Every environment (problems shown per environment, not fatal) and every ephemeral instance."""
    from provisioner import instances
    from provisioner.spec import load_environment

    rows: list[dict[str, Any]] = []
    for name in project.environment_names():
        try:
            spec = load_environment(project, name)
        except InputError as exc:
            rows.append({"name": name, "error": exc.message})
            continue
        rows.append(
            {
                "name": name,
                "region": spec.region,
                "accounts": spec.account_ids,
                "components": sorted(spec.enabled_components),
                "protected": spec.protection.destroy_protected,
                "template": spec.ephemeral.template,
            }
        )
    now = instances.utcnow()
    for record in instances.list_all(project):
        rows.append(
            {
                "name": record.workspace,
                "instance_of": record.env,
                "created_at": record.to_json()["created_at"],
                "expires_at": record.to_json()["expires_at"],
                "age_hours": round(record.age(now).total_seconds() / 3600, 1),
                "expired": record.expired(now),
            }
        )
    if fmt == "json":
        return json.dumps(rows, indent=2)
    lines = [f"{'ENVIRONMENT':<24} {'REGION':<14} {'ACCOUNTS':<14} {'FLAGS':<20} COMPONENTS"]
    for row in rows:
        if "error" in row:
            lines.append(f"{row['name']:<24} INVALID: {row['error']}")
        elif "instance_of" in row:
            state = "EXPIRED" if row["expired"] else "active"
            lines.append(
                f"{row['name']:<24} instance of {row['instance_of']}, age {row['age_hours']}h, "
                f"expires {row['expires_at']} ({state})"
            )
        else:
            flags = ",".join(f for f, on in (("protected", row["protected"]), ("template", row["template"])) if on)
            lines.append(
                f"{row['name']:<24} {row['region']:<14} {','.join(row['accounts']):<14} {flags or '-':<20} "
                f"{', '.join(row['components'])}"
            )
    return "\n".join(lines)

"""The `provision` command line: parse arguments, call one core function, map errors to exit codes.

Heavy libraries are imported inside the commands so that `provision --help` starts fast.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import typer._click.core
import typer.core

from provisioner.errors import EXIT_INTERRUPTED, InputError, ProvisionError

if TYPE_CHECKING:
    from provisioner.project import Project
    from provisioner.ui import UI


class _Group(typer.core.TyperGroup):
    """The one place where errors become exit codes: 2 bad input, 1 failed/refused, 130 Ctrl-C."""

    def invoke(self, ctx: typer._click.core.Context) -> object:
        try:
            return super().invoke(ctx)
        except ProvisionError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            if exc.hint:
                typer.echo(f"hint: {exc.hint}", err=True)
            ctx.exit(exc.exit_code)
        except (KeyboardInterrupt, typer.Abort):
            typer.echo("error: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        return None


app = typer.Typer(
    name="provision",
    cls=_Group,
    help="Render, check (Checkov) and apply the AWS DevSecOps stack with Terraform.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

EnvOpt = Annotated[str, typer.Option("--env", "-e", help="Environment name (a file in environments/).")]
InstanceOpt = Annotated[
    str | None, typer.Option("--name", help="Ephemeral instance of a template environment, e.g. pr-42.")
]
NoColorOpt = Annotated[bool, typer.Option("--no-color", help="Plain output (also when not a TTY or CI is set).")]
ReportDirOpt = Annotated[
    Path | None, typer.Option("--report-dir", help="Write Checkov results and the plan summary for CI here.")
]
PluginDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--plugin-dir",
        envvar="PROVISION_PLUGIN_DIR",
        help="Offline provider directory for `terraform init -plugin-dir` (also PROVISION_PLUGIN_DIR).",
    ),
]


class Format(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class ScanFormat(str, Enum):
    text = "text"
    json = "json"


class DriftFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    junit = "junit"


_state: dict[str, Path | None] = {"project": None}


@app.callback()
def _root(
    project: Annotated[
        Path | None,
        typer.Option("--project", "-C", help="Project root (has modules/ and environments/). Default: search up."),
    ] = None,
) -> None:
    _state["project"] = project


def _project() -> Project:
    from provisioner.project import find_project

    given = _state["project"]
    if given is not None:
        if not (given / "environments").is_dir():
            raise InputError(f"--project {given}: no environments/ directory there")
        return find_project(given)
    return find_project()


def _ui(no_color: bool = False) -> UI:
    from provisioner.ui import UI

    return UI.create(no_color=no_color)


def _echo(text: str) -> None:
    typer.echo(text)


# == environments ==


@app.command()
def envs(
    fmt: Annotated[ScanFormat, typer.Option("--format", help="text or json")] = ScanFormat.text,
) -> None:
    """List environments and ephemeral instances: region, accounts, components, protection, expiry."""
    from provisioner import lifecycle

    _echo(lifecycle.list_environments(_project(), fmt=fmt.value))


@app.command()
def render(env: EnvOpt, name: InstanceOpt = None) -> None:
    """Render the environment's Terraform root module into .provision/<env>/."""
    from provisioner import lifecycle

    result = lifecycle.render_environment(_project(), env, instance=name)
    _echo(f"rendered {len(result.components)} components into {result.work_dir}")


@app.command()
def validate(env: EnvOpt, name: InstanceOpt = None) -> None:
    """Check the rendered root and all modules offline: HCL parse, terraform fmt, AWS provider schema."""
    from provisioner import lifecycle

    lifecycle.validate_environment(_project(), env, instance=name, ui=_ui())


@app.command()
def scan(
    env: EnvOpt,
    name: InstanceOpt = None,
    fmt: Annotated[ScanFormat, typer.Option("--format", help="text or json")] = ScanFormat.text,
    report_dir: ReportDirOpt = None,
) -> None:
    """Run the Checkov gate on the rendered configuration (exit 0 passed, 1 failed, 2 bad input)."""
    from provisioner import lifecycle

    code = lifecycle.scan_environment(_project(), env, instance=name, fmt=fmt.value, report_dir=report_dir, ui=_ui())
    raise typer.Exit(code)


@app.command()
def bootstrap(env: EnvOpt) -> None:
    """Create the S3 state bucket and DynamoDB lock table for the environment (idempotent)."""
    from provisioner import lifecycle

    lifecycle.bootstrap_backend(_project(), env, ui=_ui())


@app.command()
def plan(
    env: EnvOpt,
    name: InstanceOpt = None,
    no_color: NoColorOpt = False,
    report_dir: ReportDirOpt = None,
    plugin_dir: PluginDirOpt = None,
) -> None:
    """Preflight, render, validate, scan, plan and scan the plan; keep the plan file for `provision apply`."""
    from provisioner import lifecycle

    lifecycle.plan_environment(
        _project(), env, instance=name, report_dir=report_dir, plugin_dir=plugin_dir, ui=_ui(no_color)
    )


@app.command()
def apply(
    env: EnvOpt,
    name: InstanceOpt = None,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Do not ask before applying.")] = False,
    no_color: NoColorOpt = False,
    plugin_dir: PluginDirOpt = None,
) -> None:
    """Apply the plan kept by `provision plan`, only if it is the scanned one and the config is unchanged."""
    from provisioner import lifecycle

    lifecycle.apply_saved_plan(
        _project(), env, instance=name, auto_approve=auto_approve, plugin_dir=plugin_dir, ui=_ui(no_color)
    )


@app.command()
def up(
    env: EnvOpt,
    name: InstanceOpt = None,
    ttl: Annotated[str | None, typer.Option("--ttl", help="Lifetime of an ephemeral instance, e.g. 24h.")] = None,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Do not ask before applying.")] = False,
    no_color: NoColorOpt = False,
    report_dir: ReportDirOpt = None,
    plugin_dir: PluginDirOpt = None,
) -> None:
    """The main job: preflight -> render -> validate -> scan -> plan -> scan plan -> confirm -> apply."""
    from provisioner import lifecycle

    lifecycle.up(
        _project(),
        env,
        instance=name,
        ttl=ttl,
        auto_approve=auto_approve,
        report_dir=report_dir,
        plugin_dir=plugin_dir,
        ui=_ui(no_color),
    )


@app.command()
def summarize(
    plan_json: Annotated[Path, typer.Argument(help="Output of `terraform show -json PLANFILE`.")],
    fmt: Annotated[Format, typer.Option("--format", help="text, json or markdown")] = Format.text,
    no_color: NoColorOpt = False,
) -> None:
    """Summarise any Terraform plan JSON: counts and addresses per action, and drift entries."""
    from provisioner import lifecycle

    _echo(lifecycle.summarize_plan_file(plan_json, fmt=fmt.value, color=not no_color and sys.stdout.isatty()))


# == down / reap (issue 6) ==
SweepOpt = Annotated[
    bool,
    typer.Option("--sweep", help="Also delete left-over S3 buckets and log groups carrying the env's tags."),
]


@app.command()
def down(
    env: EnvOpt,
    name: InstanceOpt = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Skip typing the name back (CI); not enough for protected envs.")
    ] = False,
    confirm_protected: Annotated[
        str | None,
        typer.Option(
            "--confirm-protected",
            metavar="NAME",
            help="Destroy a protected environment whose spec sets protection.allow_destroy: true.",
        ),
    ] = None,
    sweep: SweepOpt = False,
    no_color: NoColorOpt = False,
    plugin_dir: PluginDirOpt = None,
) -> None:
    """Destroy an environment: destroy-plan summary, typed confirmation, bucket emptying, destroy, sweep."""
    from provisioner import teardown

    teardown.down(
        _project(),
        env,
        instance=name,
        yes=yes,
        confirm_protected=confirm_protected,
        sweep=sweep,
        plugin_dir=plugin_dir,
        ui=_ui(no_color),
    )


@app.command()
def reap(
    yes: Annotated[bool, typer.Option("--yes", help="Tear them down (default: a dry run).")] = False,
    sweep: SweepOpt = False,
    no_color: NoColorOpt = False,
    plugin_dir: PluginDirOpt = None,
) -> None:
    """Find ephemeral instances past their expiry and tear them down (dry run unless --yes)."""
    from provisioner import teardown

    teardown.reap(_project(), yes=yes, sweep=sweep, plugin_dir=plugin_dir, ui=_ui(no_color))


# == end down / reap ==

# == drift (issue 5) ==


class _DriftCommand(typer.core.TyperCommand):
    """For `drift`, exit 2 means drift: a mistyped option exits 1 like every other error."""

    def parse_args(self, ctx: typer._click.core.Context, args: list[str]) -> list[str]:
        from typer._click.exceptions import UsageError

        try:
            return super().parse_args(ctx, args)
        except UsageError as exc:
            exc.exit_code = 1
            raise


@app.command(cls=_DriftCommand)
def drift(
    env: Annotated[
        list[str] | None, typer.Option("--env", "-e", metavar="NAME", help="An environment (repeatable).")
    ] = None,
    all_envs: Annotated[bool, typer.Option("--all", help="Check every environment.")] = False,
    parallel: Annotated[int, typer.Option("--parallel", help="Environments checked at once.")] = 4,
    fmt: Annotated[DriftFormat, typer.Option("--format", help="Report format.")] = DriftFormat.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here (stdout then gets the text).")
    ] = None,
    no_aws_checks: Annotated[
        bool, typer.Option("--no-aws-checks", help="Terraform only: no posture or unmanaged-resource checks.")
    ] = False,
    plugin_dir: PluginDirOpt = None,
) -> None:
    """Detect drift: changed outside Terraform, pending config changes, security posture, unmanaged resources.

    Exit codes: 0 no drift, 2 drift, 1 error (an environment could not be checked; the others are still
    reported). The Markdown summary is appended to $GITHUB_STEP_SUMMARY when set. JSON shape: see README.
    """
    from provisioner import drift as drift_check
    from provisioner.errors import EXIT_FAILED

    try:
        code = drift_check.run(
            _project(),
            env or [],
            all_envs=all_envs,
            parallel=parallel,
            aws_checks=not no_aws_checks,
            plugin_dir=plugin_dir,
            fmt=fmt.value,
            output=output,
            ui=_ui(),
        )
    except InputError as exc:
        # Exit 2 is the drift verdict here, so bad input must not look like it.
        exc.exit_code = EXIT_FAILED
        raise
    raise typer.Exit(code)


# == end drift ==

# == findings & logs (issue 7) ==
findings_app = typer.Typer(
    help="Convert scanner reports (ZAP, Dependency-Check, SonarQube) to ASFF; import them into Security Hub.",
    no_args_is_help=True,
)
logs_app = typer.Typer(help="Normalise AWS security logs to Elastic Common Schema.", no_args_is_help=True)
app.add_typer(findings_app, name="findings")
app.add_typer(logs_app, name="logs")


class ScanTool(str, Enum):
    zap = "zap"
    dependency_check = "dependency-check"
    sonarqube = "sonarqube"


class LogSource(str, Enum):
    cloudtrail = "cloudtrail"
    waf = "waf"
    guardduty = "guardduty"


ToolOpt = Annotated[ScanTool, typer.Option("--tool", help="Scanner that wrote the report.")]
ReportArg = Annotated[Path, typer.Argument(help="The scanner's JSON report.")]
AccountOpt = Annotated[str, typer.Option("--account", help="12-digit AWS account the findings belong to.")]
RegionOpt = Annotated[str, typer.Option("--region", help="Security Hub region.")]
RepositoryOpt = Annotated[str, typer.Option("--repository", help="Repository scanned (part of finding ids).")]
BranchOpt = Annotated[str, typer.Option("--branch", help="Branch scanned (the scope a new report replaces).")]
CommitOpt = Annotated[str, typer.Option("--commit", help="Commit scanned.")]
BuildIdOpt = Annotated[str, typer.Option("--build-id", help="CI build that ran the scan.")]


def _read_input(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None


if TYPE_CHECKING:
    from provisioner.functions.findings import Conversion, FindingContext


def _convert_findings(
    tool: ScanTool,
    report: Path,
    account: str,
    region: str,
    repository: str,
    branch: str,
    commit: str,
    build_id: str,
) -> tuple[FindingContext, Conversion]:
    import re

    from provisioner.functions.errors import FunctionInputError
    from provisioner.functions.findings import FindingContext, convert_report

    if not re.fullmatch(r"\d{12}", account):
        raise InputError(f"--account: {account!r} is not a 12-digit AWS account id")
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
        raise InputError(f"--region: {region!r} is not an AWS region name")
    ctx = FindingContext(account, region, repository, branch, commit, build_id)
    try:
        conversion = convert_report(tool.value, _read_input(report), ctx, source=str(report))
    except FunctionInputError as exc:
        raise InputError(str(exc)) from None
    if conversion.skipped or conversion.duplicates:
        typer.echo(
            f"note: {conversion.skipped} malformed entries skipped, {conversion.duplicates} duplicates merged",
            err=True,
        )
    return ctx, conversion


@findings_app.command("convert")
def findings_convert(
    report: ReportArg,
    tool: ToolOpt,
    account: AccountOpt,
    region: RegionOpt,
    repository: RepositoryOpt = "",
    branch: BranchOpt = "",
    commit: CommitOpt = "",
    build_id: BuildIdOpt = "",
) -> None:
    """Print the report's findings in AWS Security Finding Format, as a JSON array."""
    import json

    _, conversion = _convert_findings(tool, report, account, region, repository, branch, commit, build_id)
    typer.echo(json.dumps(conversion.findings, indent=2, ensure_ascii=False))


@findings_app.command("import")
def findings_import(
    report: ReportArg,
    tool: ToolOpt,
    account: AccountOpt,
    region: RegionOpt,
    repository: RepositoryOpt = "",
    branch: BranchOpt = "",
    commit: CommitOpt = "",
    build_id: BuildIdOpt = "",
) -> None:
    """Import the report into Security Hub (updates in place; resolves findings gone from the scope)."""
    import json

    import boto3
    import botocore.exceptions

    from provisioner.functions.findings import import_findings

    ctx, conversion = _convert_findings(tool, report, account, region, repository, branch, commit, build_id)
    try:
        client = boto3.client("securityhub", region_name=region)  # honours AWS_ENDPOINT_URL
        result = import_findings(client, tool.value, conversion.findings, ctx)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise ProvisionError(f"Security Hub import failed: {exc}") from None
    typer.echo(json.dumps(result.as_dict(), indent=2))
    if result.failed:
        raise ProvisionError(f"{result.failed} findings were not imported", hint="see failed_ids above")


@logs_app.command("normalize")
def logs_normalize(
    file: Annotated[Path, typer.Argument(help="Log file or payload (JSON lines, JSON array, or native container).")],
    source: Annotated[LogSource, typer.Option("--source", help="Which service wrote the log.")],
) -> None:
    """Print ECS documents as NDJSON; malformed records are skipped and counted on stderr."""
    import json

    from provisioner.functions.errors import FunctionInputError
    from provisioner.functions.logs import normalize

    try:
        docs, skipped = normalize(source.value, _read_input(file), name=str(file))
    except FunctionInputError as exc:
        raise InputError(str(exc)) from None
    out = sys.stdout
    for doc in docs:
        out.write(json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n")
    out.flush()
    if skipped:
        typer.echo(f"note: skipped {skipped} malformed records", err=True)


# == end findings & logs ==


from provisioner.commands import emulator as _emulator_commands  # noqa: E402 - registration only

app.add_typer(_emulator_commands.app, name="emulator")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="provision")


if __name__ == "__main__":
    main()

"""The `provision` command line: parse arguments, build the workspace, call one use-case, return its code.

Heavy libraries are imported inside the commands so that `provision --help` starts fast. Exceptions become
exit codes in one place, `errors.exit_code_for`, under each command's exit-code policy.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.core

from provisioner.commands import (
    comment,
    demo,
    emulator,
    findings,
    fleet,
    logs,
    opensearch,
    project_of,
    remember_project_option,
    respond,
    rules,
)
from provisioner.errors import DEFAULT_POLICY, VERDICT_POLICY, ExitPolicy, exit_code_for
from provisioner.ui import one_line

if TYPE_CHECKING:
    from provisioner.project import Project
    from provisioner.ui import UI
    from provisioner.workspace import Workspace

# Commands whose exit code 2 is a verdict (as Terraform's -detailed-exitcode), so bad input must exit 1.
EXIT_POLICIES: dict[str, ExitPolicy] = {"drift": VERDICT_POLICY, "fleet": VERDICT_POLICY}


class _Group(typer.core.TyperGroup):
    """The one error boundary: whatever a command raises becomes a message and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, SystemExit):
            raise
        except BaseException as exc:
            policy = EXIT_POLICIES.get(ctx.invoked_subcommand or "", DEFAULT_POLICY)
            ctx.exit(exit_code_for(exc, policy, lambda line: typer.echo(one_line(line), err=True)))
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
app.add_typer(findings.app, name="findings")
app.add_typer(logs.app, name="logs")
app.add_typer(opensearch.app, name="opensearch")
app.add_typer(rules.app, name="rules")
app.add_typer(emulator.app, name="emulator")
app.add_typer(fleet.app, name="fleet")
app.add_typer(demo.app, name="demo")
app.command("respond")(respond.respond)
app.command("comment")(comment.comment)

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
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Plan summaries with every changed attribute (default: counts).")
]
AutoApproveOpt = Annotated[bool, typer.Option("--auto-approve", help="Do not ask before applying.")]
SweepOpt = Annotated[
    bool, typer.Option("--sweep", help="Also delete left-over S3 buckets and log groups carrying the env's tags.")
]


class Format(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class ScanFormat(str, Enum):
    text = "text"
    json = "json"


class GateFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"


class EnvsFormat(str, Enum):
    text = "text"
    json = "json"
    github_matrix = "github-matrix"


class DriftFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    junit = "junit"


@app.callback()
def _root(
    project: Annotated[
        Path | None,
        typer.Option("--project", "-C", help="Project root (has modules/ and environments/). Default: search up."),
    ] = None,
) -> None:
    remember_project_option(project)


def _project() -> Project:
    return project_of()


def _ui(no_color: bool = False, verbose: bool = False) -> UI:
    from provisioner.ui import UI

    return UI.create(no_color=no_color, verbose=verbose)


def _workspace(
    env: str,
    name: str | None = None,
    *,
    plugin_dir: Path | None = None,
    no_color: bool = False,
    verbose: bool = False,
) -> Workspace:
    from provisioner.workspace import Workspace

    return Workspace.open(_project(), env, instance=name, ui=_ui(no_color, verbose), plugin_dir=plugin_dir)


# == environments ==


@app.command()
def envs(
    fmt: Annotated[
        EnvsFormat, typer.Option("--format", help="text, json, or github-matrix (a matrix of what is deployed)")
    ] = EnvsFormat.text,
) -> None:
    """List environments and ephemeral instances: region, accounts, components, protection, expiry.

    `--format github-matrix` prints `{"include": [{env, name, account, region, role, target}]}` for every
    non-template environment and every live instance, for a GitHub Actions `strategy.matrix`."""
    from provisioner.envs import list_environments

    typer.echo(list_environments(_project(), fmt=fmt.value, ui=_ui()))


@app.command()
def render(env: EnvOpt, name: InstanceOpt = None) -> None:
    """Render the environment's Terraform root module into .provision/<env>/."""
    result = _workspace(env, name).render()
    typer.echo(f"rendered {len(result.components)} components into {result.work_dir}")


@app.command()
def validate(env: EnvOpt, name: InstanceOpt = None) -> None:
    """Check the rendered root and all modules offline: HCL parse, terraform fmt, AWS provider schema."""
    _workspace(env, name).validate()


@app.command()
def scan(
    env: EnvOpt,
    name: InstanceOpt = None,
    fmt: Annotated[GateFormat, typer.Option("--format", help="text, json or sarif (SARIF 2.1.0)")] = GateFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here.")] = None,
    report_dir: ReportDirOpt = None,
) -> None:
    """Run the Checkov gate on the rendered configuration (exit 0 passed, 1 failed, 2 bad input)."""
    from provisioner import lifecycle

    ws = _workspace(env, name)
    raise typer.Exit(lifecycle.scan_environment(ws, fmt=fmt.value, report_dir=report_dir, output=output))


@app.command()
def bootstrap(env: EnvOpt) -> None:
    """Create the S3 state bucket and DynamoDB lock table for the environment (idempotent)."""
    from provisioner import lifecycle

    lifecycle.bootstrap_backend(_workspace(env))


@app.command()
def plan(
    env: EnvOpt,
    name: InstanceOpt = None,
    no_color: NoColorOpt = False,
    report_dir: ReportDirOpt = None,
    plugin_dir: PluginDirOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Preflight, render, validate, scan, plan and scan the plan; keep the plan file for `provision apply`."""
    from provisioner import lifecycle

    ws = _workspace(env, name, plugin_dir=plugin_dir, no_color=no_color, verbose=verbose)
    lifecycle.plan_environment(ws, report_dir=report_dir)


@app.command()
def apply(
    env: EnvOpt,
    name: InstanceOpt = None,
    auto_approve: AutoApproveOpt = False,
    no_color: NoColorOpt = False,
    plugin_dir: PluginDirOpt = None,
) -> None:
    """Apply the plan kept by `provision plan`, only if it is the scanned one and the config is unchanged."""
    from provisioner import lifecycle

    ws = _workspace(env, name, plugin_dir=plugin_dir, no_color=no_color)
    lifecycle.apply_saved_plan(ws, auto_approve=auto_approve)


@app.command()
def up(
    env: EnvOpt,
    name: InstanceOpt = None,
    ttl: Annotated[str | None, typer.Option("--ttl", help="Lifetime of an ephemeral instance, e.g. 24h.")] = None,
    auto_approve: AutoApproveOpt = False,
    no_color: NoColorOpt = False,
    report_dir: ReportDirOpt = None,
    plugin_dir: PluginDirOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """The main job: preflight -> render -> validate -> scan -> plan -> scan plan -> confirm -> apply."""
    from provisioner import lifecycle

    # The template's workspace: `up` creates (or extends) the instance record itself, after the account check.
    ws = _workspace(env, plugin_dir=plugin_dir, no_color=no_color, verbose=verbose)
    lifecycle.up(ws, instance=name, ttl=ttl, auto_approve=auto_approve, report_dir=report_dir)


@app.command()
def summarize(
    plan_json: Annotated[Path, typer.Argument(help="Output of `terraform show -json PLANFILE`.")],
    fmt: Annotated[Format, typer.Option("--format", help="text, json or markdown")] = Format.text,
    no_color: NoColorOpt = False,
) -> None:
    """Summarise any Terraform plan JSON: counts and addresses per action, and drift entries."""
    from provisioner.report.plan import summarize_file

    typer.echo(summarize_file(plan_json, fmt=fmt.value, color=not no_color and sys.stdout.isatty()))


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
    verbose: VerboseOpt = False,
) -> None:
    """Destroy an environment: destroy-plan summary, typed confirmation, bucket emptying, destroy, sweep."""
    from provisioner import teardown

    ws = _workspace(env, name, plugin_dir=plugin_dir, no_color=no_color, verbose=verbose)
    teardown.down(ws, yes=yes, confirm_protected=confirm_protected, sweep=sweep)


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


@app.command()
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
    notify: Annotated[
        list[str] | None,
        typer.Option(
            "--notify",
            metavar="URL",
            help="Post when an environment's drift changes (new, changed, resolved): a webhook URL "
            "(Slack/Teams get text, others the drift JSON), slack:URL, or sns:TOPIC_ARN. Repeatable.",
        ),
    ] = None,
    github_issue: Annotated[
        bool, typer.Option("--github-issue", help="One GitHub issue per drifted environment (in Actions).")
    ] = False,
) -> None:
    """Detect drift: changed outside Terraform, pending config changes, security posture, unmanaged resources.

    Exit codes: 0 no drift, 2 drift, 1 error (an environment could not be checked, or bad input; the others
    are still reported). The Markdown summary is appended to $GITHUB_STEP_SUMMARY when set. JSON shape: see
    README.
    """
    from provisioner.drift import DriftRequest, run

    request = DriftRequest(
        envs=env or [],
        all_envs=all_envs,
        parallel=parallel,
        aws_checks=not no_aws_checks,
        plugin_dir=plugin_dir,
        fmt=fmt.value,
        output=output,
        notify=notify or [],
        github_issue=github_issue,
    )
    raise typer.Exit(run(_project(), request, ui=_ui()))


def main() -> None:
    """Console-script entry point."""
    app(prog_name="provision")


if __name__ == "__main__":
    main()

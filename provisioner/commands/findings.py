"""`provision findings convert|import`: scanner reports (ZAP, Dependency-Check, SonarQube) to ASFF."""

from __future__ import annotations

import json
import re
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from provisioner.commands import read_input
from provisioner.errors import InputError, ProvisionError
from provisioner.ui import json_safe, one_line

if TYPE_CHECKING:
    from provisioner.functions.findings import Conversion, FindingContext

app = typer.Typer(
    help="Convert scanner reports (ZAP, Dependency-Check, SonarQube) to ASFF; import them into Security Hub.",
    no_args_is_help=True,
)

_ACCOUNT = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")


class ScanTool(str, Enum):
    zap = "zap"
    dependency_check = "dependency-check"
    sonarqube = "sonarqube"


ToolOpt = Annotated[ScanTool, typer.Option("--tool", help="Scanner that wrote the report.")]
ReportArg = Annotated[Path, typer.Argument(help="The scanner's JSON report.")]
AccountOpt = Annotated[str, typer.Option("--account", help="12-digit AWS account the findings belong to.")]
RegionOpt = Annotated[str, typer.Option("--region", help="Security Hub region.")]
RepositoryOpt = Annotated[str, typer.Option("--repository", help="Repository scanned (part of finding ids).")]
BranchOpt = Annotated[str, typer.Option("--branch", help="Branch scanned (the scope a new report replaces).")]
CommitOpt = Annotated[str, typer.Option("--commit", help="Commit scanned.")]
BuildIdOpt = Annotated[str, typer.Option("--build-id", help="CI build that ran the scan.")]


def _context(account: str, region: str, repository: str, branch: str, commit: str, build_id: str) -> FindingContext:
    from provisioner.functions.findings import FindingContext

    if not _ACCOUNT.fullmatch(account):
        raise InputError(f"--account: {account!r} is not a 12-digit AWS account id")
    if not _REGION.fullmatch(region):
        raise InputError(f"--region: {region!r} is not an AWS region name")
    return FindingContext(account, region, repository, branch, commit, build_id)


def _convert(tool: ScanTool, report: Path, ctx: FindingContext) -> Conversion:
    from provisioner.functions.errors import FunctionInputError
    from provisioner.functions.findings import convert_report

    try:
        conversion = convert_report(tool.value, read_input(report), ctx, source=str(report))
    except FunctionInputError as exc:
        raise InputError(str(exc)) from None
    note = conversion.note()  # what was skipped, and exactly which entries were merged and why
    if note:
        typer.echo(one_line(note), err=True)
    return conversion


@app.command("convert")
def convert(
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
    conversion = _convert(tool, report, _context(account, region, repository, branch, commit, build_id))
    typer.echo(json_safe(json.dumps(conversion.findings, indent=2, ensure_ascii=False, allow_nan=False)))


@app.command("import")
def import_(
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
    from botocore.exceptions import BotoCoreError, ClientError

    from provisioner.aws import aws_error, client
    from provisioner.functions.findings import import_findings

    ctx = _context(account, region, repository, branch, commit, build_id)
    conversion = _convert(tool, report, ctx)
    try:
        result = import_findings(client("securityhub", region), tool.value, conversion.findings, ctx)
    except (BotoCoreError, ClientError) as exc:
        raise aws_error("Security Hub import", exc) from None
    typer.echo(json.dumps(result.as_dict(), indent=2))
    if result.failed:
        raise ProvisionError(f"{result.failed} findings were not imported", hint="see failed_ids above")

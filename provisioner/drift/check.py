"""The drift check: per environment, read-only, concurrently (`--parallel N`).

Per environment: a refresh-only plan (what changed outside Terraform) and a normal plan (config changes waiting
to be applied), decided from the plan JSON because `plan -refresh-only -detailed-exitcode` exits 2 while
printing "No changes" in known cases. With AWS checks on, also the security posture the spec calls for
(`aws/posture.py`) and resources tagged for the environment that are not in its state (`unmanaged.py`). One
failing environment is reported as an error next to the others' results.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from provisioner.drift.model import DriftReport, EnvironmentDrift
from provisioner.drift.notify import Notifier, StateStore
from provisioner.errors import EXIT_FAILED, InputError, Interrupted, ProvisionError
from provisioner.project import INSTANCE_SEPARATOR, Project
from provisioner.ui import UI
from provisioner.workspace import Workspace, load_spec

if TYPE_CHECKING:
    from provisioner.plan import DriftResult


class _Prefixed(io.TextIOBase):
    """Progress lines of one environment, prefixed with its name so parallel runs stay readable."""

    _lock = threading.Lock()

    def __init__(self, target: Any, prefix: str) -> None:
        self._target = target
        self._prefix = prefix
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        if lines:
            with self._lock:
                self._target.write("".join(f"{self._prefix}{line}\n" for line in lines))
                self._target.flush()
        return len(text)


def terraform_drift(ws: Workspace) -> DriftResult:
    from provisioner.plan import DriftResult

    tf = ws.terraform
    with ws.plans.transient("drift-refresh", "drift") as (refresh_file, plan_file):
        ws.ui.step("terraform plan -refresh-only")
        tf.plan(refresh_file, refresh_only=True)
        refreshed = tf.show_json(refresh_file)
        ws.ui.step("terraform plan")
        tf.plan(plan_file)
        planned = tf.show_json(plan_file)
    return DriftResult.from_plans(refreshed, planned)


def _aws_checks(ws: Workspace, result: EnvironmentDrift) -> None:
    from provisioner.aws.posture import check_posture
    from provisioner.drift.unmanaged import unmanaged_resources
    from provisioner.plan import State
    from provisioner.report.common import SENSITIVE

    state = State.from_json(ws.terraform.show_state_json())
    outputs = {name: value for name, value in state.outputs.items() if value != SENSITIVE}
    associations = [
        (str(r.values.get("web_acl_arn", "")), str(r.values.get("resource_arn", "")))
        for r in state.resources
        if r.type == "aws_wafv2_web_acl_association"
    ]
    ws.ui.step("security posture checks")
    result.posture = check_posture(ws.spec, outputs, associations)
    ws.ui.step("unmanaged resources (tag inventory)")
    try:
        result.unmanaged = unmanaged_resources(ws.spec, state)
    except ProvisionError as exc:
        result.errors.append(f"unmanaged-resource inventory: {exc.message}")
    _opensearch_content(ws, outputs, result)


def _opensearch_content(ws: Workspace, outputs: dict[str, Any], result: EnvironmentDrift) -> None:
    """The configurator Lambda, in compare mode, reads the domain's content back (it writes nothing)."""
    function, event = outputs.get("opensearch_configurator_function_name"), outputs.get("opensearch_configurator_event")
    if not isinstance(function, str) or not isinstance(event, str):
        return  # no opensearch component, or configure_domain is off (e.g. on the emulator)
    from provisioner.aws import aws_error, client
    from provisioner.opensearch.drift import compare
    from provisioner.opensearch.environment import content_for

    ws.ui.step("OpenSearch content (configurator, compare mode)")
    try:
        result.opensearch = compare(client("lambda", ws.spec.region), function, event, content_for(ws.project, ws.spec))
    except ProvisionError as exc:
        result.errors.append(f"opensearch content: {exc.message}")
    except Exception as exc:  # botocore: unreachable, denied
        result.errors.append(f"opensearch content: {aws_error('invoking ' + function, exc).message}")


def _check_environment(ws: Workspace, result: EnvironmentDrift, *, aws_checks: bool) -> None:
    if aws_checks:
        ws.preflight()  # the account gate: posture answers about the wrong account mislead
    ws.init()
    result.terraform = terraform_drift(ws)
    if aws_checks:
        _aws_checks(ws, result)


def _run_one(ws: Workspace, result: EnvironmentDrift, *, aws_checks: bool) -> EnvironmentDrift:
    started = time.monotonic()
    try:
        _check_environment(ws, result, aws_checks=aws_checks)
    except Interrupted:
        raise
    except ProvisionError as exc:
        result.errors.append(exc.message + (f" (hint: {exc.hint})" if exc.hint else ""))
    except Exception as exc:  # a bug in one environment's check must not hide the others' results
        result.errors.append(f"unexpected {type(exc).__name__}: {exc}")
    result.duration = time.monotonic() - started
    return result


def _all_workspaces(project: Project, ui: UI) -> list[str]:
    """Deployed things: every environment except templates, plus every ephemeral instance (`demo--pr-42`),
    local or recorded next to its state in S3."""
    from provisioner import instances
    from provisioner.spec import load_environment

    names: list[str] = []
    for name in project.environment_names():
        try:
            if load_environment(project, name).ephemeral.template:
                continue
        except ProvisionError:
            pass  # an invalid spec is still checked, so its error is reported
        names.append(name)
    found = instances.discover(project)
    for problem in found.problems:
        ui.warn(f"instance records: {problem}")
    return names + [record.workspace for record in found.records]


def _open(project: Project, name: str, ui: UI, plugin_dir: Path | None) -> Workspace:
    env, _, instance = name.partition(INSTANCE_SEPARATOR)
    spec = load_spec(project, env, instance or None)
    stream = cast(TextIO, _Prefixed(ui.err, f"[{spec.workspace}] "))
    return Workspace(project, spec, UI(out=stream, err=stream), plugin_dir)


@dataclass(frozen=True)
class DriftRequest:
    """What `provision drift` was asked: which environments, how, and where the report goes."""

    envs: Sequence[str] = ()
    all_envs: bool = False
    parallel: int = 4
    aws_checks: bool = True
    plugin_dir: Path | None = None
    fmt: str = "text"
    output: Path | None = None
    notify: Sequence[str] = ()  # --notify targets (see drift.notify)
    github_issue: bool = False


def check_drift(project: Project, request: DriftRequest, *, ui: UI) -> DriftReport:
    """Check each environment (at most `parallel` at once); each one gets a result, errors included."""
    if request.parallel < 1:
        raise InputError(f"--parallel {request.parallel}: must be at least 1")
    if request.all_envs and request.envs:
        raise InputError("give --env NAME (repeatable) or --all, not both")
    # Progress goes to stderr: stdout carries only the report, so `--format json > report.json` works.
    progress = UI(out=ui.err, err=ui.err, color=ui.color)
    names = _all_workspaces(project, progress) if request.all_envs else list(dict.fromkeys(request.envs))
    if not names:
        raise InputError("no environment to check: give --env NAME (repeatable) or --all")
    results = [EnvironmentDrift(environment=name) for name in names]
    workspaces: dict[str, Workspace] = {}
    for result in results:
        try:
            ws = workspaces[result.environment] = _open(project, result.environment, ui, request.plugin_dir)
        except ProvisionError as exc:
            result.errors.append(exc.message)
            continue
        result.workspace, result.region = ws.name, ws.spec.region
    scope = "" if request.aws_checks else " (Terraform only: --no-aws-checks)"
    progress.step(f"drift: {len(names)} environment(s), {min(request.parallel, len(names))} at a time{scope}")
    _run_all(results, workspaces, parallel=request.parallel, aws_checks=request.aws_checks, progress=progress)
    return DriftReport(results, aws_checks=request.aws_checks)


def _run_all(
    results: list[EnvironmentDrift], workspaces: dict[str, Workspace], *, parallel: int, aws_checks: bool, progress: UI
) -> None:
    from provisioner.report.drift import progress_line

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="drift") as pool:
        futures: list[Future[EnvironmentDrift]] = [
            pool.submit(_run_one, workspaces[r.environment], r, aws_checks=aws_checks)
            for r in results
            if r.environment in workspaces
        ]
        try:
            for future in futures:
                progress.info(progress_line(future.result()))
        except KeyboardInterrupt:
            progress.warn("Ctrl-C: no further environment starts; waiting for the running (read-only) plans")
            pool.shutdown(wait=True, cancel_futures=True)
            raise Interrupted("Interrupted: drift check stopped before every environment was checked") from None


def run(project: Project, request: DriftRequest, *, ui: UI) -> int:
    """`provision drift`: check, then publish the report; returns the exit code (0 no drift, 2 drift, 1 error)."""
    from provisioner.report.drift import FORMATS, publish
    from provisioner.user_files import check_output_file

    if request.fmt not in FORMATS:
        raise InputError(f"--format {request.fmt}: expected one of {', '.join(FORMATS)}")
    check_output_file(request.output, "--output")  # before hours of plans, not after
    notifier = Notifier.from_options(request.notify, request.github_issue)
    report = check_drift(project, request, ui=ui)
    publish(report, request.fmt, request.output, ui)
    if notifier.active and not _notify(project, report, notifier, ui):
        return EXIT_FAILED
    return report.exit_code


def _notify(project: Project, report: DriftReport, notifier: Notifier, ui: UI) -> bool:
    """Notifications on changed drift; False when one could not be delivered (or its state not kept)."""
    progress = UI(out=ui.err, err=ui.err, color=ui.color)
    ok = True
    for env in report.environments:
        if env.status == "error":
            progress.info(f"[{env.name}] notify: skipped (the environment could not be checked)")
            continue
        try:
            ws = _open(project, env.environment, ui, None)
            ok = notifier.notify(env, StateStore(ws.spec, ws.work_dir), progress) and ok
        except ProvisionError as exc:
            progress.warn(f"[{env.name}] notify: {exc.message}")
            ok = False
    return ok

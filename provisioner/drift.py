"""`provision drift`: does the live infrastructure still match the code, and is its security posture intact?

Per environment, read-only: a refresh-only plan (what changed outside Terraform) and a normal plan (config
changes waiting to be applied), decided from the plan JSON because `plan -refresh-only -detailed-exitcode`
exits 2 while printing "No changes" in known cases. With AWS checks on, also the security posture the spec
calls for (`aws/posture.py`) and resources tagged for the environment that are not in its state
(`aws/inventory.py`). Environments run concurrently (`--parallel N`); one failing environment is reported as
an error next to the others' results.

Exit codes: 0 no drift, 2 drift, 1 error (any environment could not be checked completely; drift found in
the others is still in the report).

JSON report (`--format json`), schema 1; fields are only ever added, "schema" bumps on incompatible change:

    {"schema": 1,
     "generated_at": "2026-01-01T00:00:00Z",
     "aws_checks": bool,                      # false with --no-aws-checks: posture/unmanaged are null
     "exit_code": 0 | 1 | 2,
     "summary": {"environments": n, "clean": n, "drift": n, "error": n},
     "environments": [{
         "environment": "dev", "workspace": "dev", "region": "eu-west-1" | null,
         "status": "clean" | "drift" | "error",
         "errors": ["one line per failed part"],
         "duration_seconds": 4.2,
         "terraform": null | {"has_drift": bool,
                              "changed_outside": [change],   # refresh-only plan: resource_drift
                              "pending": [change]},          # normal plan: resource_changes
         "posture": null | [{"id": "cloudtrail.logging", "component": "cloudtrail", "resource": "arn:...",
                             "status": "ok" | "drift" | "error",
                             "severity": "critical" | "high" | "medium" | "low", "message": "..."}],
         "unmanaged": null | [{"arn": "...", "service": "s3", "resource_type": "bucket"}]}]}
    change = {"address", "module_address", "type", "name", "mode", "action", "actions",
              "attributes": [{"path", "before", "after"}]}    # sensitive values read "(sensitive)"

`null` means the part did not run (AWS checks off, or an earlier step failed: see "errors").
"""

from __future__ import annotations

import functools
import io
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO, cast
from xml.etree import ElementTree as ET

from provisioner.errors import EXIT_DRIFT, EXIT_FAILED, EXIT_OK, InputError, Interrupted, ProvisionError
from provisioner.lifecycle import PLAN_DIR, init_workdir, load_spec, preflight, terraform_for
from provisioner.project import INSTANCE_SEPARATOR, Project
from provisioner.spec import iso_utc
from provisioner.ui import UI

if TYPE_CHECKING:
    from provisioner.aws.inventory import TaggedResource
    from provisioner.aws.posture import PostureCheck
    from provisioner.plan import DriftResult, ResourceChange, State
    from provisioner.spec import EnvironmentSpec
    from provisioner.terraform import Terraform

JSON_SCHEMA = 1
FORMATS = ("text", "json", "markdown", "junit")
REFRESH_PLAN = "drift-refresh.tfplan"
DRIFT_PLAN = "drift.tfplan"
# Tags that say which environment a resource belongs to (the rest of spec.aws_tags() is bookkeeping).
OWNER_TAGS = ("Project", "Environment", "Instance")

Status = Literal["clean", "drift", "error"]


@dataclass
class EnvironmentDrift:
    """One environment's result; parts that did not run stay None."""

    environment: str
    workspace: str | None = None
    region: str | None = None
    terraform: DriftResult | None = None
    posture: list[PostureCheck] | None = None
    unmanaged: list[TaggedResource] | None = None
    errors: list[str] = field(default_factory=list)
    duration: float = 0.0

    @property
    def findings(self) -> list[PostureCheck]:
        return [c for c in self.posture or () if c.status == "drift"]

    @property
    def status(self) -> Status:
        if self.errors or any(c.status == "error" for c in self.posture or ()):
            return "error"
        drifted = self.terraform is not None and self.terraform.has_drift
        return "drift" if drifted or self.findings or self.unmanaged else "clean"

    def counts(self) -> dict[str, int]:
        tf = self.terraform
        return {
            "changed_outside": len(tf.changed_outside) if tf else 0,
            "pending": len(tf.pending) if tf else 0,
            "posture": len(self.findings),
            "unmanaged": len(self.unmanaged or ()),
        }

    def to_json(self) -> dict[str, Any]:
        terraform = None
        if self.terraform is not None:
            terraform = self.terraform.to_json()
            terraform.pop("schema", None)
        return {
            "environment": self.environment,
            "workspace": self.workspace,
            "region": self.region,
            "status": self.status,
            "errors": list(self.errors) + [f"{c.id}: {c.message}" for c in self.posture or () if c.status == "error"],
            "duration_seconds": round(self.duration, 2),
            "terraform": terraform,
            "posture": None if self.posture is None else [c.to_json() for c in self.posture],
            "unmanaged": None if self.unmanaged is None else [r.to_json() for r in self.unmanaged],
        }


@dataclass
class DriftReport:
    environments: list[EnvironmentDrift]
    aws_checks: bool
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def exit_code(self) -> int:
        statuses = {env.status for env in self.environments}
        if "error" in statuses:
            return EXIT_FAILED
        return EXIT_DRIFT if "drift" in statuses else EXIT_OK

    def summary(self) -> dict[str, int]:
        counts = {"environments": len(self.environments), "clean": 0, "drift": 0, "error": 0}
        for env in self.environments:
            counts[env.status] += 1
        return counts

    def render(self, fmt: str) -> str:
        renderers: dict[str, Callable[[], str]] = {
            "text": self.to_text,
            "json": lambda: json.dumps(self.to_json(), indent=2),
            "markdown": self.to_markdown,
            "junit": self.to_junit,
        }
        return renderers[fmt]()

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": JSON_SCHEMA,
            "generated_at": iso_utc(self.generated_at),
            "aws_checks": self.aws_checks,
            "exit_code": self.exit_code,
            "summary": self.summary(),
            "environments": [env.to_json() for env in self.environments],
        }

    def headline(self) -> str:
        s = self.summary()
        return (
            f"{s['environments']} environment(s): {s['clean']} clean, {s['drift']} drift, {s['error']} error "
            f"(exit {self.exit_code})"
        )

    def to_text(self) -> str:
        lines: list[str] = []
        for env in self.environments:
            where = f" ({env.region})" if env.region else ""
            lines.append(f"{env.workspace or env.environment}{where}: {env.status.upper()}")
            if env.terraform is not None:
                lines.append("  Terraform:")
                lines += _indent(env.terraform.to_text().splitlines(), 4)
            if env.posture is not None:
                lines.append(f"  Security posture: {len(env.findings)} finding(s) in {len(env.posture)} check(s)")
                lines += [f"    [{c.severity}] {c.id} {c.resource or '-'}: {c.message}" for c in env.findings]
            if env.unmanaged is not None:
                lines.append(f"  Unmanaged resources (tagged for it, not in its state): {len(env.unmanaged)}")
                lines += [f"    {r.arn} ({r.service} {r.resource_type})" for r in env.unmanaged]
            errors = env.to_json()["errors"]
            if errors:
                lines.append("  Errors:")
                lines += [f"    {e}" for e in errors]
        lines.append(self.headline())
        return "\n".join(lines)

    def to_markdown(self) -> str:
        icons = {"clean": "✅ clean", "drift": "⚠️ drift", "error": "❌ error"}
        lines = [
            "## provision drift",
            "",
            self.headline(),
            "",
            "| environment | status | changed outside | pending | posture findings | unmanaged |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for env in self.environments:
            c = env.counts()
            lines.append(
                f"| `{env.workspace or env.environment}` | {icons[env.status]} | {c['changed_outside']} | "
                f"{c['pending']} | {c['posture']} | {c['unmanaged']} |"
            )
        for env in self.environments:
            if env.status == "clean":
                continue
            lines += ["", f"### `{env.workspace or env.environment}`: {env.status}", ""]
            errors = env.to_json()["errors"]
            if errors:
                lines += ["#### Errors", "", *[f"- {_md(e)}" for e in errors], ""]
            if env.terraform is not None:
                lines.append(env.terraform.to_markdown().rstrip("\n"))
            if env.findings:
                lines += ["", f"#### Security posture ({len(env.findings)})", ""]
                lines += ["| severity | check | resource | finding |", "|---|---|---|---|"]
                for f in env.findings:
                    lines.append(f"| {f.severity} | `{f.id}` | `{_md(f.resource or '-')}` | {_md(f.message)} |")
            if env.unmanaged:
                lines += ["", f"#### Unmanaged resources ({len(env.unmanaged)})", ""]
                lines += ["| ARN | service | type |", "|---|---|---|"]
                lines += [f"| `{_md(r.arn)}` | {r.service} | {r.resource_type} |" for r in env.unmanaged]
        return "\n".join(lines) + "\n"

    def to_junit(self) -> str:
        """JUnit XML: a suite per environment, a test case per question asked (failure = drift)."""
        root = ET.Element("testsuites", name="provision drift")
        totals = {"tests": 0, "failures": 0, "errors": 0}
        for env in self.environments:
            name = env.workspace or env.environment
            suite = ET.SubElement(root, "testsuite", name=f"drift.{name}", time=f"{env.duration:.2f}")
            cases = list(_junit_cases(env))
            for classname, case_name, outcome, message, body in cases:
                case = ET.SubElement(suite, "testcase", classname=f"drift.{name}.{classname}", name=case_name)
                if outcome != "ok":
                    tag = "failure" if outcome == "drift" else "error"
                    element = ET.SubElement(case, tag, message=message, type=outcome)
                    element.text = body or message
            counts = {
                "tests": len(cases),
                "failures": sum(1 for c in cases if c[2] == "drift"),
                "errors": sum(1 for c in cases if c[2] == "error"),
            }
            for key, value in counts.items():
                suite.set(key, str(value))
                totals[key] += value
        for key, value in totals.items():
            root.set(key, str(value))
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _junit_cases(env: EnvironmentDrift) -> Iterable[tuple[str, str, str, str, str]]:
    """(classname, name, ok|drift|error, message, body) for each question asked of the environment."""
    for error in env.errors:
        yield "check", "environment checked", "error", error, ""
    tf = env.terraform
    if tf is not None:
        for title, changes in (
            ("changed outside terraform", tf.changed_outside),
            ("pending changes", tf.pending),
        ):
            body = "\n".join(_change_lines(changes))
            outcome = "drift" if changes else "ok"
            yield "terraform", title, outcome, f"{len(changes)} resource(s): {title}", body
    for check in env.posture or ():
        message = f"[{check.severity}] {check.message}"
        yield "posture", f"{check.id} {check.resource}".strip(), check.status, message, ""
    if env.unmanaged is not None:
        body = "\n".join(f"{r.arn} ({r.service} {r.resource_type})" for r in env.unmanaged)
        outcome = "drift" if env.unmanaged else "ok"
        yield "inventory", "unmanaged resources", outcome, f"{len(env.unmanaged)} unmanaged resource(s)", body


def _change_lines(changes: Iterable[ResourceChange]) -> Iterable[str]:
    """Address, action and masked attribute diff of each change (values were masked by plan.py)."""
    for rc in changes:
        yield f"{rc.address} ({rc.action})"
        for attr in rc.attribute_changes():
            yield f"    {attr.path}: {_value(attr.before)} -> {_value(attr.after)}"


def _value(value: Any) -> str:
    from provisioner.plan import SENSITIVE, UNKNOWN

    return str(value) if value in (SENSITIVE, UNKNOWN) else json.dumps(value, sort_keys=True)


def _indent(lines: Iterable[str], width: int) -> list[str]:
    return [" " * width + line for line in lines]


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# -- the check ----------------------------------------------------------------------------------------------


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


def _terraform_drift(tf: Terraform, work_dir: Path, ui: UI) -> DriftResult:
    from provisioner.plan import DriftResult

    plan_dir = work_dir / PLAN_DIR
    plan_dir.mkdir(exist_ok=True)
    refresh_file, plan_file = plan_dir / REFRESH_PLAN, plan_dir / DRIFT_PLAN
    try:
        ui.step("terraform plan -refresh-only")
        tf.plan(refresh_file, refresh_only=True)
        refreshed = tf.show_json(refresh_file)
        ui.step("terraform plan")
        tf.plan(plan_file)
        planned = tf.show_json(plan_file)
    finally:
        # Saved plans hold unmasked values; nothing applies these, so they never outlive the check.
        refresh_file.unlink(missing_ok=True)
        plan_file.unlink(missing_ok=True)
    return DriftResult.from_plans(refreshed, planned)


def managed_arns(state: State) -> set[str]:
    """ARNs of the state's managed resources (`arn` attributes, and ids that are ARNs, as IAM policies
    have). Data sources only read things: what they point at is not managed by this state."""
    arns: set[str] = set()
    for resource in (r for r in state.resources if r.mode == "managed"):
        for key in ("arn", "id"):
            value = resource.values.get(key)
            if isinstance(value, str) and value.startswith("arn:"):
                arns.add(_normal_arn(value))
    return arns


def _normal_arn(arn: str) -> str:
    # Log group ARNs come with and without the trailing ":*" depending on the API and provider version.
    return arn.removesuffix(":*")


def is_ignored(arn: str, patterns: Sequence[str]) -> bool:
    """`drift.ignore` entries are exact ARNs or prefixes ending in `*`."""
    return any(arn.startswith(p[:-1]) if p.endswith("*") else arn == p for p in patterns)


def unmanaged_resources(spec: EnvironmentSpec, state: State) -> list[TaggedResource]:
    """Resources carrying the environment's Project/Environment tags that its state does not hold."""
    from provisioner.aws.inventory import find_tagged_resources
    from provisioner.aws.ownership import is_owned, owned_ids

    tags = spec.aws_tags()
    wanted = {key: tags[key] for key in OWNER_TAGS if key in tags}
    managed = managed_arns(state)
    ids = owned_ids(r.values for r in state.resources if r.mode == "managed")
    found = []
    for resource in find_tagged_resources(spec.region, wanted):
        if spec.instance is None and "Instance" in resource.tags:
            continue  # an ephemeral instance of this template: its own state tracks it
        if is_owned(_normal_arn(resource.arn), managed, ids) or is_ignored(resource.arn, spec.drift.ignore):
            continue
        found.append(resource)
    return found


def _aws_checks(spec: EnvironmentSpec, tf: Terraform, result: EnvironmentDrift, ui: UI) -> None:
    from provisioner.aws.posture import check_posture
    from provisioner.plan import SENSITIVE, State

    state = State.from_json(tf.show_state_json())
    outputs = {name: value for name, value in state.outputs.items() if value != SENSITIVE}
    associations = [
        (str(r.values.get("web_acl_arn", "")), str(r.values.get("resource_arn", "")))
        for r in state.resources
        if r.type == "aws_wafv2_web_acl_association"
    ]
    ui.step("security posture checks")
    result.posture = check_posture(spec, outputs, associations)
    ui.step("unmanaged resources (tag inventory)")
    try:
        result.unmanaged = unmanaged_resources(spec, state)
    except ProvisionError as exc:
        result.errors.append(f"unmanaged-resource inventory: {exc.message}")


def _check_environment(
    project: Project,
    spec: EnvironmentSpec,
    result: EnvironmentDrift,
    *,
    aws_checks: bool,
    plugin_dir: Path | None,
    ui: UI,
) -> None:
    from provisioner.render import render

    if aws_checks:
        preflight(project, spec, ui)  # the account gate: posture answers about the wrong account mislead
    rendered = render(project, spec)
    tf = terraform_for(rendered.work_dir, plugin_dir)
    init_workdir(tf, spec, ui)
    result.terraform = _terraform_drift(tf, rendered.work_dir, ui)
    if aws_checks:
        _aws_checks(spec, tf, result, ui)


def _run_one(
    project: Project,
    spec: EnvironmentSpec,
    result: EnvironmentDrift,
    *,
    aws_checks: bool,
    plugin_dir: Path | None,
    ui: UI,
) -> EnvironmentDrift:
    started = time.monotonic()
    try:
        _check_environment(project, spec, result, aws_checks=aws_checks, plugin_dir=plugin_dir, ui=ui)
    except Interrupted:
        raise
    except ProvisionError as exc:
        result.errors.append(exc.message + (f" (hint: {exc.hint})" if exc.hint else ""))
    except Exception as exc:  # a bug in one environment's check must not hide the others' results
        result.errors.append(f"unexpected {type(exc).__name__}: {exc}")
    result.duration = time.monotonic() - started
    return result


def _all_workspaces(project: Project) -> list[str]:
    """Deployed things: every environment except templates, plus every ephemeral instance (`demo--pr-42`)."""
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
    return names + [record.workspace for record in instances.list_all(project)]


def check_drift(
    project: Project,
    envs: Sequence[str],
    *,
    all_envs: bool = False,
    parallel: int = 4,
    aws_checks: bool = True,
    plugin_dir: Path | None = None,
    ui: UI,
) -> DriftReport:
    """Check each environment (at most `parallel` at once); each one gets a result, errors included."""
    if parallel < 1:
        raise InputError(f"--parallel {parallel}: must be at least 1")
    if all_envs and envs:
        raise InputError("give --env NAME (repeatable) or --all, not both")
    names = _all_workspaces(project) if all_envs else list(dict.fromkeys(envs))
    if not names:
        raise InputError("no environment to check: give --env NAME (repeatable) or --all")

    results = [EnvironmentDrift(environment=name) for name in names]
    specs: dict[str, EnvironmentSpec] = {}
    for result in results:
        try:
            env, _, instance = result.environment.partition(INSTANCE_SEPARATOR)
            spec = load_spec(project, env, instance or None)
        except ProvisionError as exc:
            result.errors.append(exc.message)
            continue
        specs[result.environment] = spec
        result.workspace, result.region = spec.workspace, spec.region

    # Progress goes to stderr: stdout carries only the report, so `--format json > report.json` works.
    progress = UI(out=ui.err, err=ui.err, color=ui.color)
    scope = "" if aws_checks else " (Terraform only: --no-aws-checks)"
    progress.step(f"drift: {len(names)} environment(s), {min(parallel, len(names))} at a time{scope}")
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="drift") as pool:
        futures: list[Future[EnvironmentDrift]] = []
        for result in results:
            loaded = specs.get(result.environment)
            if loaded is None:
                continue
            stream = cast(TextIO, _Prefixed(ui.err, f"[{loaded.workspace}] "))
            job = functools.partial(
                _run_one, aws_checks=aws_checks, plugin_dir=plugin_dir, ui=UI(out=stream, err=stream)
            )
            futures.append(pool.submit(job, project, loaded, result))
        try:
            for future in futures:
                progress.info(_progress_line(future.result()))
        except KeyboardInterrupt:
            progress.warn("Ctrl-C: no further environment starts; waiting for the running (read-only) plans")
            pool.shutdown(wait=True, cancel_futures=True)
            raise Interrupted("Interrupted: drift check stopped before every environment was checked") from None
    return DriftReport(results, aws_checks=aws_checks)


def _progress_line(result: EnvironmentDrift) -> str:
    c = result.counts()
    detail = (
        f"{c['changed_outside']} changed outside, {c['pending']} pending, {c['posture']} posture finding(s), "
        f"{c['unmanaged']} unmanaged"
    )
    return f"[{result.workspace or result.environment}] {result.status} ({detail}) in {result.duration:.1f}s"


def run(
    project: Project,
    envs: Sequence[str],
    *,
    all_envs: bool = False,
    parallel: int = 4,
    aws_checks: bool = True,
    plugin_dir: Path | None = None,
    fmt: str = "text",
    output: Path | None = None,
    ui: UI,
) -> int:
    """`provision drift`: check, then publish: the report in `fmt` to `output` (then the text report goes to
    stdout) or to stdout; the Markdown summary appended to $GITHUB_STEP_SUMMARY when set. Returns the exit
    code (0 no drift, 2 drift, 1 error)."""
    if fmt not in FORMATS:
        raise InputError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
    report = check_drift(
        project,
        envs,
        all_envs=all_envs,
        parallel=parallel,
        aws_checks=aws_checks,
        plugin_dir=plugin_dir,
        ui=ui,
    )
    rendered = report.render(fmt)
    if output is not None:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(rendered if rendered.endswith("\n") else rendered + "\n", encoding="utf-8")
        except OSError as exc:
            raise ProvisionError(f"--output {output}: cannot write: {exc.strerror}") from None
        ui.out.write(report.to_text() + "\n")
        ui.out.write(f"report written to {output}\n")
    else:
        ui.out.write(rendered if rendered.endswith("\n") else rendered + "\n")
    ui.out.flush()
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(report.to_markdown() + "\n")
        except OSError as exc:
            ui.warn(f"GITHUB_STEP_SUMMARY={summary}: cannot append: {exc.strerror}")
    return report.exit_code

"""`provision drift` reports: text, JSON, Markdown (also for $GITHUB_STEP_SUMMARY) and JUnit."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from provisioner.report import junit
from provisioner.report.common import indent, md_cell, show_value, write_output
from provisioner.report.plan import drift_markdown, drift_text

if TYPE_CHECKING:
    from provisioner.drift.model import DriftReport, EnvironmentDrift
    from provisioner.plan import ResourceChange
    from provisioner.ui import UI

FORMATS = ("text", "json", "markdown", "junit")
_POSTURE_OUTCOME: dict[str, junit.Outcome] = {"ok": "ok", "drift": "failure"}
ICONS = {"clean": "✅ clean", "drift": "⚠️ drift", "error": "❌ error"}


def headline(report: DriftReport) -> str:
    s = report.summary()
    return (
        f"{s['environments']} environment(s): {s['clean']} clean, {s['drift']} drift, {s['error']} error "
        f"(exit {report.exit_code})"
    )


def progress_line(env: EnvironmentDrift) -> str:
    c = env.counts()
    detail = (
        f"{c['changed_outside']} changed outside, {c['pending']} pending, {c['posture']} posture finding(s), "
        f"{c['unmanaged']} unmanaged"
    )
    return f"[{env.name}] {env.status} ({detail}) in {env.duration:.1f}s"


def env_text(env: EnvironmentDrift) -> list[str]:
    where = f" ({env.region})" if env.region else ""
    lines = [f"{env.name}{where}: {env.status.upper()}"]
    if env.terraform is not None:
        lines += ["  Terraform:", *indent(drift_text(env.terraform).splitlines(), 4)]
    if env.posture is not None:
        lines.append(f"  Security posture: {len(env.findings)} finding(s) in {len(env.posture)} check(s)")
        lines += [f"    [{c.severity}] {c.id} {c.resource or '-'}: {c.message}" for c in env.findings]
    if env.unmanaged is not None:
        lines.append(f"  Unmanaged resources (tagged for it, not in its state): {len(env.unmanaged)}")
        lines += [f"    {r.arn} ({r.service} {r.resource_type})" for r in env.unmanaged]
    if env.opensearch is not None:
        lines.append(f"  OpenSearch content (templates, roles, dashboards, monitors): {len(env.opensearch)} differ")
        lines += [f"    {d.line()}" for d in env.opensearch]
    if env.all_errors:
        lines += ["  Errors:", *indent(env.all_errors, 4)]
    return lines


def to_text(report: DriftReport) -> str:
    lines = [line for env in report.environments for line in env_text(env)]
    return "\n".join([*lines, headline(report)])


def env_markdown(env: EnvironmentDrift) -> list[str]:
    lines = ["", f"### `{env.name}`: {env.status}", ""]
    if env.all_errors:
        lines += ["#### Errors", "", *[f"- {md_cell(e)}" for e in env.all_errors], ""]
    if env.terraform is not None:
        lines.append(drift_markdown(env.terraform).rstrip("\n"))
    if env.findings:
        lines += ["", f"#### Security posture ({len(env.findings)})", ""]
        lines += ["| severity | check | resource | finding |", "|---|---|---|---|"]
        lines += [
            f"| {f.severity} | `{f.id}` | `{md_cell(f.resource or '-')}` | {md_cell(f.message)} |" for f in env.findings
        ]
    if env.unmanaged:
        lines += ["", f"#### Unmanaged resources ({len(env.unmanaged)})", ""]
        lines += ["| ARN | service | type |", "|---|---|---|"]
        lines += [f"| `{md_cell(r.arn)}` | {md_cell(r.service)} | {md_cell(r.resource_type)} |" for r in env.unmanaged]
    if env.opensearch:
        lines += ["", f"#### OpenSearch content ({len(env.opensearch)})", ""]
        lines += [f"- {md_cell(d.line())}" for d in env.opensearch]
    return lines


def to_markdown(report: DriftReport) -> str:
    lines = ["## provision drift", "", headline(report), ""]
    lines += ["| environment | status | changed outside | pending | posture findings | unmanaged |"]
    lines += ["|---|---|---:|---:|---:|---:|"]
    for env in report.environments:
        c = env.counts()
        lines.append(
            f"| `{env.name}` | {ICONS[env.status]} | {c['changed_outside']} | {c['pending']} | {c['posture']} | "
            f"{c['unmanaged']} |"
        )
    for env in report.environments:
        if env.status != "clean":
            lines += env_markdown(env)
    return "\n".join(lines) + "\n"


def _change_lines(changes: Iterable[ResourceChange]) -> Iterable[str]:
    for rc in changes:
        yield f"{rc.address} ({rc.action})"
        for attr in rc.attribute_changes():
            yield f"    {attr.path}: {show_value(attr.before)} -> {show_value(attr.after)}"


def _cases(env: EnvironmentDrift) -> Iterable[junit.Case]:
    """A test case per question asked of the environment (failure = drift)."""
    prefix = f"drift.{env.name}"
    for error in env.errors:
        yield junit.Case(f"{prefix}.check", "environment checked", "error", error, type="error")
    if env.terraform is not None:
        for title, changes in (
            ("changed outside terraform", env.terraform.changed_outside),
            ("pending changes", env.terraform.pending),
        ):
            outcome: junit.Outcome = "failure" if changes else "ok"
            body = "\n".join(_change_lines(changes)) or f"{len(changes)} resource(s): {title}"
            yield junit.Case(
                f"{prefix}.terraform", title, outcome, f"{len(changes)} resource(s): {title}", body, "drift"
            )
    for check in env.posture or ():
        outcome = _POSTURE_OUTCOME.get(check.status, "error")
        name = f"{check.id} {check.resource}".strip()
        message = f"[{check.severity}] {check.message}"
        yield junit.Case(f"{prefix}.posture", name, outcome, message, message, check.status)
    if env.unmanaged is not None:
        body = "\n".join(f"{r.arn} ({r.service} {r.resource_type})" for r in env.unmanaged)
        message = f"{len(env.unmanaged)} unmanaged resource(s)"
        found: junit.Outcome = "failure" if env.unmanaged else "ok"
        yield junit.Case(f"{prefix}.inventory", "unmanaged resources", found, message, body or message, "drift")
    if env.opensearch is not None:
        body = "\n".join(d.line() for d in env.opensearch)
        message = f"{len(env.opensearch)} OpenSearch object(s) differ from the code"
        differ: junit.Outcome = "failure" if env.opensearch else "ok"
        yield junit.Case(f"{prefix}.opensearch", "opensearch content", differ, message, body or message, "drift")


def to_junit(report: DriftReport) -> str:
    suites = [junit.Suite(f"drift.{env.name}", list(_cases(env)), env.duration) for env in report.environments]
    return junit.to_xml("provision drift", suites)


def render(report: DriftReport, fmt: str) -> str:
    renderers: dict[str, Callable[[DriftReport], str]] = {
        "text": to_text,
        "json": lambda r: json.dumps(r.to_json(), indent=2),
        "markdown": to_markdown,
        "junit": to_junit,
    }
    return renderers[fmt](report)


def publish(report: DriftReport, fmt: str, output: Path | None, ui: UI) -> None:
    """The report in `fmt` to `output` (then the text report goes to stdout) or to stdout; the Markdown
    summary appended to $GITHUB_STEP_SUMMARY when set."""
    rendered = render(report, fmt)
    out: TextIO = ui.out
    if output is not None:
        write_output(output, rendered)
        out.write(to_text(report) + "\n")
        out.write(f"report written to {output}\n")
    else:
        out.write(rendered if rendered.endswith("\n") else rendered + "\n")
    out.flush()
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as handle:
                handle.write(to_markdown(report) + "\n")
        except OSError as exc:
            ui.warn(f"GITHUB_STEP_SUMMARY={summary}: cannot append: {exc.strerror}")

"""Plan summaries and Terraform drift results as text (optionally coloured), JSON and Markdown."""

from __future__ import annotations

import json
import re
import textwrap
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from provisioner.errors import InputError
from provisioner.report.common import md_cell, show_value
from provisioner.ui import one_line
from provisioner.user_files import read_input

if TYPE_CHECKING:
    from provisioner.plan import DriftResult, PlanSummary, ResourceChange

FORMATS = ("text", "json", "markdown")
_SYMBOL = {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "read": "<=", "no-op": " "}
_ANSI = {"create": "32", "update": "33", "replace": "35", "delete": "31", "read": "36", "no-op": ""}


def _paint(text: str, action: str, color: bool) -> str:
    return f"\x1b[{_ANSI[action]}m{text}\x1b[0m" if color and _ANSI[action] else text


def changes_text(changes: Iterable[ResourceChange], color: bool = False) -> list[str]:
    lines = []
    for rc in changes:
        # Addresses and attribute paths carry map keys from the plan (tags, …): one line, control characters escaped.
        lines.append(f"  {_paint(_SYMBOL[rc.action], rc.action, color)} {one_line(rc.address)} ({rc.action})")
        lines += [
            f"      {one_line(a.path)}: {show_value(a.before)} -> {show_value(a.after)}" for a in rc.attribute_changes()
        ]
    return lines


def changes_markdown(changes: Sequence[ResourceChange]) -> list[str]:
    if not changes:
        return []
    lines = ["", "| action | resource | attributes |", "|---|---|---|"]
    for rc in changes:
        attrs = "<br>".join(
            f"`{md_cell(a.path)}`: {md_cell(show_value(a.before))} → {md_cell(show_value(a.after))}"
            for a in rc.attribute_changes()
        )
        lines.append(f"| {rc.action} | `{md_cell(rc.address)}` | {attrs} |")
    return lines


def headline(summary: PlanSummary) -> str:
    c = summary.counts
    text = f"Plan: {c['create']} to create, {c['update']} to update, {c['replace']} to replace, {c['delete']} to delete"
    if c["read"]:
        text += f", {c['read']} to read"
    return text + (" (destructive)" if summary.destructive else "")


def summary_text(summary: PlanSummary, color: bool = False) -> str:
    lines = [headline(summary), *changes_text(summary.changes, color)]
    if summary.drift:
        lines.append("Changed outside of Terraform (refreshed into state):")
        lines += changes_text(summary.drift, color)
    if summary.outputs:
        lines.append("Outputs:")
        for oc in summary.outputs:
            lines.append(
                f"  {_paint(_SYMBOL[oc.action], oc.action, color)} {one_line(oc.name)} = {show_value(oc.after)}"
            )
    return "\n".join(lines)


_TOP_MODULE = re.compile(r"^module\.[^.\[]+(\[[^\]]*\])?")
_WIDTH = 116
DETAIL_NOTE = "  (attribute detail: plan-summary.md with --report-dir DIR, or -v here)"


def _by_module(changes: Iterable[ResourceChange]) -> dict[str, dict[str, Counter[str]]]:
    """Top-level module (or `root`) -> action -> resource type -> count."""
    groups: dict[str, dict[str, Counter[str]]] = {}
    for rc in changes:
        found = _TOP_MODULE.match(rc.address)
        module = found.group(0) if found else "root"
        groups.setdefault(module, {}).setdefault(rc.action, Counter())[rc.type] += 1
    return groups


def summary_brief(summary: PlanSummary, color: bool = False) -> str:
    """The summary for a screen: the headline, per top-level module the counts by action and resource type,
    and every delete and replace on its own line (always, however many). Attributes: `summary_text`."""
    from provisioner.plan import ACTIONS

    lines = [headline(summary)]
    groups = _by_module(rc for rc in summary.changes if rc.action != "read")
    reads = _by_module(rc for rc in summary.changes if rc.action == "read")
    if reads:  # data sources only read: one line for all modules
        groups["data sources of all modules"] = {"read": sum((g["read"] for g in reads.values()), Counter())}
    for module, actions in sorted(groups.items(), key=lambda item: (item[0].startswith("data "), item[0])):
        for action in ACTIONS:
            types = actions.get(action)
            if not types:
                continue
            label = _paint(f"{sum(types.values())} to {action}", action, color)
            detail = ", ".join(rtype + (f" x{n}" if n > 1 else "") for rtype, n in sorted(types.items()))
            text = f"{module}: {label} ({detail})"
            lines += textwrap.wrap(text, _WIDTH, initial_indent="  ", subsequent_indent=" " * 6, break_on_hyphens=False)
    lines += [
        f"  {_paint(_SYMBOL[rc.action], rc.action, color)} {rc.address} ({rc.action})"
        for rc in summary.changes
        if rc.action in ("delete", "replace")
    ]
    if summary.drift:
        lines.append(f"Changed outside of Terraform (refreshed into state): {len(summary.drift)} resource(s)")
    if summary.outputs:
        counts = Counter(oc.action for oc in summary.outputs)
        lines.append("Outputs: " + ", ".join(f"{n} to {action}" for action, n in sorted(counts.items())))
    if summary.changes or summary.drift or summary.outputs:
        lines.append(DETAIL_NOTE)
    return "\n".join(lines)


def plan_text(summary: PlanSummary, *, color: bool, verbose: bool) -> str:
    """What `plan`, `up` and `down` print: the brief summary, or with -v every changed attribute."""
    return summary_text(summary, color) if verbose else summary_brief(summary, color)


def summary_markdown(summary: PlanSummary) -> str:
    from provisioner.plan import ACTIONS

    lines = [f"**{headline(summary)}**", "", "| action | count |", "|---|---:|"]
    lines += [f"| {action} | {summary.counts[action]} |" for action in ACTIONS if action != "no-op"]
    if summary.changes:
        lines += ["", "#### Changes", *changes_markdown(summary.changes)]
    if summary.drift:
        lines += ["", "#### Changed outside of Terraform", *changes_markdown(summary.drift)]
    if summary.outputs:
        lines += ["", "#### Outputs", "", "| output | action | value |", "|---|---|---|"]
        lines += [f"| `{md_cell(oc.name)}` | {oc.action} | {md_cell(show_value(oc.after))} |" for oc in summary.outputs]
    return "\n".join(lines) + "\n"


def render_summary(summary: PlanSummary, fmt: str, *, color: bool = False) -> str:
    if fmt == "json":
        return json.dumps(summary.to_json(), indent=2)
    if fmt == "markdown":
        return summary_markdown(summary)
    return summary_text(summary, color)


def write_plan_summary(summary: PlanSummary, directory: Path) -> None:
    """`--report-dir`: the summary for CI, as JSON and Markdown (values masked)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "plan-summary.json").write_text(json.dumps(summary.to_json(), indent=2) + "\n")
    (directory / "plan-summary.md").write_text(summary_markdown(summary) + "\n")


def summarize_file(path: Path, *, fmt: str, color: bool) -> str:
    """`provision summarize`: any `terraform show -json` plan file, in `fmt`."""
    from provisioner.plan import Plan

    try:
        data = json.loads(read_input(path))
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None
    except RecursionError:
        raise InputError(f"{path}: not a plan: JSON nested too deeply") from None
    if not isinstance(data, dict) or "format_version" not in data:
        raise InputError(f"{path}: not a `terraform show -json` plan (no format_version)")
    return render_summary(Plan.from_json(data).summary(), fmt, color=color)


def drift_text(result: DriftResult, color: bool = False) -> str:
    if not result.has_drift:
        return "No drift: infrastructure matches the state and the configuration."
    lines = [f"Changed outside of Terraform: {len(result.changed_outside)}"]
    lines += changes_text(result.changed_outside, color)
    lines.append(f"Pending configuration changes: {len(result.pending)}")
    lines += changes_text(result.pending, color)
    return "\n".join(lines)


def drift_markdown(result: DriftResult) -> str:
    if not result.has_drift:
        return "**No drift**: infrastructure matches the state and the configuration.\n"
    lines = [f"#### Changed outside of Terraform ({len(result.changed_outside)})"]
    lines += changes_markdown(result.changed_outside) or ["", "None."]
    lines += ["", f"#### Pending configuration changes ({len(result.pending)})"]
    lines += changes_markdown(result.pending) or ["", "None."]
    return "\n".join(lines) + "\n"

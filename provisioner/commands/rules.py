"""`provision rules`: test, list, build and measure the coverage of the Sigma detection catalogue."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from provisioner.errors import InputError, ProvisionError
from provisioner.ui import one_line

if TYPE_CHECKING:
    from provisioner.rules.catalogue import Catalogue

app = typer.Typer(help="Sigma detection rules: test on events, list, compile to OpenSearch monitors, coverage.")


class OutFormat(str, Enum):
    text = "text"
    json = "json"


RulesOpt = Annotated[Path | None, typer.Option("--rules", help="Catalogue directory (default: rules/ of the project).")]
FormatOpt = Annotated[OutFormat, typer.Option("--format", help="Output format.")]
PlaceholderOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--placeholder", help="NAME=FILE: values of %NAME% for |expand (default rules/placeholders/NAME.txt)."
    ),
]


def _root() -> Path:
    from provisioner.cli import _project

    return _project().root


def _placeholders(given: list[str] | None) -> dict[str, list[str]]:
    from provisioner.rules.loader import read_placeholder

    values = {}
    for item in given or []:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            raise InputError(f"--placeholder {item}: expected NAME=FILE")
        values[name] = read_placeholder(Path(file))
    return values


def _catalogue(rules: Path | None, placeholders: list[str] | None = None) -> Catalogue:
    from provisioner.rules.loader import load_catalogue

    root = None if rules is not None else _root()
    directory = rules if rules is not None else _root() / "rules"
    return load_catalogue(directory, root, _placeholders(placeholders))


@app.command("test")
def test_cmd(
    events: Annotated[
        list[Path] | None,
        typer.Option("--events", help="Log file(s) to evaluate (CloudTrail, WAF, GuardDuty; any container)."),
    ] = None,
    cases: Annotated[
        Path | None, typer.Option("--cases", help="Without --events: rule case files (default tests/data/rules/cases).")
    ] = None,
    rules: RulesOpt = None,
    placeholder: PlaceholderOpt = None,
    fmt: FormatOpt = OutFormat.text,
) -> None:
    """Evaluate every rule on events and print the matches; without --events, self-test every rule."""
    from provisioner.rules.events import load_events
    from provisioner.rules.selftest import evaluate, matches, run_cases

    catalogue = _catalogue(rules, placeholder)
    if not events:
        report = run_cases(catalogue, cases or _root() / "tests" / "data" / "rules" / "cases")
        if fmt is OutFormat.json:
            typer.echo(json.dumps({"checked": report.checked, "failures": report.failures}, indent=2))
        else:
            typer.echo("\n".join([*report.failures, f"{report.checked} scenarios, {len(report.failures)} failed"]))
        if not report.ok:
            raise ProvisionError(f"{len(report.failures)} rule case(s) failed")
        return
    loaded = []
    skipped = 0
    for path in events:
        found, bad = load_events(path)
        loaded.extend(found)
        skipped += bad
    if not loaded:  # nothing could be read: never "0 events", exit 0
        names = ", ".join(str(p) for p in events)
        raise InputError(f"{names}: no CloudTrail, WAF or GuardDuty record could be read ({skipped} malformed)")
    found_matches = matches(evaluate(catalogue, loaded), catalogue)
    if fmt is OutFormat.json:
        typer.echo(json.dumps({"events": len(loaded), "skipped": skipped, "matches": found_matches}, indent=2))
        return
    for m in found_matches:
        typer.echo(f"{m['level']:<13} {m['count']:>6}  {m['name']}  {m['title']}  {','.join(m['techniques'])}")
        for group in m.get("groups", []):  # values from the events (user names, addresses): one line, escaped
            typer.echo("    " + " ".join(f"{one_line(str(k))}={one_line(str(v))}" for k, v in group.items()))
    typer.echo(f"{len(loaded)} events ({skipped} skipped), {len(found_matches)} rules matched")


def _span(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@app.command("list")
def list_cmd(rules: RulesOpt = None, fmt: FormatOpt = OutFormat.text) -> None:
    """Print every alerting rule: id, title, level, techniques, source, window/threshold."""
    catalogue = _catalogue(rules)
    rows = []
    for rule in catalogue.alerting:
        c = rule.correlation
        window = (
            f"{c.type} {'>=' if c.op == 'gte' else '>'} {c.threshold} by {','.join(c.group_by)} in {_span(c.timespan)}"
            if c
            else "each event"
        )
        rows.append(
            {
                "id": rule.id,
                "name": rule.name,
                "title": rule.title,
                "level": rule.level,
                "techniques": rule.techniques,
                "source": rule.source,
                "window": window,
            }
        )
    if fmt is OutFormat.json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        techniques = ",".join(row["techniques"]) or "-"
        typer.echo(
            f"{row['id']}  {row['level']:<13} {row['source']:<10} {techniques:<22} {row['name']}: "
            f"{row['title']} [{row['window']}]"
        )


@app.command("build")
def build_cmd(
    out: Annotated[Path, typer.Option("--out", help="Directory for one monitor JSON per rule.")],
    channel: Annotated[
        str, typer.Option("--channel-id", help="Notifications channel id for the actions.")
    ] = "ALERT_CHANNEL_ID",
    prefix: Annotated[str, typer.Option("--index-prefix", help="Index prefix of the normalisers.")] = "logs",
    rules: RulesOpt = None,
    placeholder: PlaceholderOpt = None,
) -> None:
    """Compile every alerting rule to an OpenSearch Alerting monitor body."""
    from provisioner.rules.compile import build_monitors
    from provisioner.user_files import check_output_dir, writing

    monitors = build_monitors(_catalogue(rules, placeholder), channel, prefix=prefix)
    check_output_dir(out, "--out", [f"{monitor['name']}.json" for monitor in monitors])
    with writing(out, "--out"):
        out.mkdir(parents=True, exist_ok=True)
        for monitor in monitors:
            (out / f"{monitor['name']}.json").write_text(json.dumps(monitor, indent=2) + "\n", encoding="utf-8")
    typer.echo(f"{len(monitors)} monitors written to {out}")


@app.command("coverage")
def coverage_cmd(rules: RulesOpt = None, fmt: FormatOpt = OutFormat.text) -> None:
    """ATT&CK techniques per tactic, rules per log source, Stratus Red Team AWS techniques covered."""
    from provisioner.rules.coverage import coverage, coverage_text

    report = coverage(_catalogue(rules))
    typer.echo(json.dumps(report, indent=2) if fmt is OutFormat.json else coverage_text(report))

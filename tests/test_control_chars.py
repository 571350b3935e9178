"""Fields from reports, findings and logs never reach a terminal or a report file as control characters (before:
an ESC sequence in a ZAP site name or a GuardDuty userName was printed raw: it could clear the screen, retitle the
window or print fake lines)."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from typer.testing import CliRunner

from provisioner.cli import app
from provisioner.report import junit
from provisioner.report.common import md_cell
from provisioner.ui import UI, terminal_safe
from tests.functions.helpers import ACCOUNT, DATA, REGION

runner = CliRunner()
HOSTILE = "evil\x1b[2J\x1b]0;owned\x07\r\nfake line\x9b1A\u202egnp.exe"
RAW = ("\x1b", "\x07", "\r", "\x9b", "\u202e")


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _clean(text: str) -> None:
    assert not any(c in text for c in RAW), repr(text)


def test_a_zap_site_name_is_escaped_in_the_merge_note_and_the_asff_output(tmp_path: Path) -> None:
    report = json.loads((DATA / "zap/basic-traditional-json.json").read_text())
    site = report["site"][0]
    site["@name"] = f"https://{HOSTILE}"
    site["alerts"].append(dict(site["alerts"][0]))  # a merge, named on stderr with the site
    path = tmp_path / "zap.json"
    path.write_text(json.dumps(report))
    args = ["findings", "convert", "--tool", "zap", str(path), "--account", ACCOUNT, "--region", REGION]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    _clean(result.stderr)
    assert len(result.stderr.splitlines()) == 1 and "\\x1b[2J" in result.stderr
    _clean(result.stdout)
    assert any(HOSTILE in value for value in _strings(json.loads(result.stdout)))  # kept; only its encoding escaped


def test_a_guardduty_user_name_is_escaped_in_the_respond_rehearsal(tmp_path: Path) -> None:
    finding = json.loads((DATA / "guardduty/response/iamuser-tor-ip-caller.json").read_text())
    finding["service"]["additionalInfo"]["sample"] = False
    finding.update(type="UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", severity=8)
    finding["resource"]["accessKeyDetails"].update(userType="AssumedRole", userName=HOSTILE)
    path = tmp_path / "finding.json"
    path.write_text(json.dumps(finding))
    result = runner.invoke(app, ["respond", "--finding", str(path)])
    assert result.exit_code == 0, result.output
    _clean(result.stdout)
    assert len(result.stdout.splitlines()) == 2  # the finding line and the one action: no fake line
    assert "revoke_role_sessions  evil\\x1b[2J" in result.stdout


def test_a_log_field_is_escaped_in_the_ndjson_and_an_error_line_stays_one_line(tmp_path: Path) -> None:
    record = json.loads((DATA / "waf/test-waf.log").read_text().splitlines()[0])
    record["httpRequest"]["uri"] = "/" + HOSTILE
    path = tmp_path / "waf.log"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n")
    result = runner.invoke(app, ["logs", "normalize", "--source", "waf", str(path)])
    assert result.exit_code == 0, result.output
    _clean(result.stdout)
    assert json.loads(result.stdout)["url"]["path"] == "/" + HOSTILE
    missing = tmp_path / f"{HOSTILE}.log"
    error = runner.invoke(app, ["logs", "normalize", "--source", "waf", str(missing)])
    assert error.exit_code == 2
    _clean(error.stderr)
    assert error.stderr.count("\n") == 1 and error.stderr.startswith("error: ")


def test_reports_and_the_ui_escape_control_characters(capsys: object) -> None:
    xml = junit.to_xml("t", [junit.Suite(HOSTILE, [junit.Case(HOSTILE, HOSTILE, "failure", HOSTILE, HOSTILE)])])
    root = ET.fromstring(xml.encode())  # XML 1.0 forbids these characters: the report must still parse
    _clean(xml)
    assert root[0][0].get("name", "").startswith("evil\\x1b[2J")
    _clean(md_cell(HOSTILE))
    assert "\n" not in md_cell(HOSTILE)
    assert terminal_safe("\x1b[32m+\x1b[0m") == "\x1b[32m+\x1b[0m"  # the plan summary's own colours pass
    assert terminal_safe("\x1b[2J") == "\\x1b[2J"


def test_ui_lines_escape_control_characters(tmp_path: Path) -> None:
    out = (tmp_path / "out").open("w+")
    err = (tmp_path / "err").open("w+")
    ui = UI(out=out, err=err)
    ui.info(f"resource {HOSTILE}")
    ui.warn(HOSTILE)
    ui.step(HOSTILE)
    out.seek(0)
    err.seek(0)
    _clean(out.read() + err.read())


def test_a_plan_summary_escapes_addresses_and_values_in_text_and_markdown(tmp_path: Path) -> None:
    plan = json.loads((DATA / "plans/create.json").read_text())
    change = plan["resource_changes"][0]
    change["address"] = f'aws_s3_bucket.b["{HOSTILE}"]'
    change["change"]["after"] = {"tags": {HOSTILE: HOSTILE}}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    for fmt in ("text", "markdown"):
        result = runner.invoke(app, ["summarize", str(path), "--format", fmt])
        assert result.exit_code == 0, result.output
        _clean(result.stdout)
        assert "\\x1b[2J" in result.stdout or "\\u001b[2J" in result.stdout


def test_summarize_refuses_a_device_and_a_deep_document_in_one_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    for path, reason in ((Path("/dev/zero"), "not a regular file"), (deep, "not a plan: JSON nested too deeply")):
        result = runner.invoke(app, ["summarize", str(path)])
        assert (result.exit_code, result.stderr) == (2, f"error: {path}: {reason}\n")


def test_envs_escapes_a_file_name_that_carries_escape_sequences(fixture_project: Path) -> None:
    (fixture_project / "environments" / "evil\x1b[2J.yaml").write_text("name_prefix: fx-evil\n")
    result = CliRunner().invoke(app, ["--project", str(fixture_project), "envs"], color=True)  # as on a TTY
    assert "\x1b[2J" not in result.output
    assert "\\x1b[2J" in result.output

"""Hostile report and log files through the user's commands: every one is read, or refused in one line (exit 2).
Each case failed before the readers were hardened (noted per test)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provisioner.cli import app
from provisioner.functions.common import gunzip
from tests.functions.helpers import ACCOUNT, DATA, REGION

runner = CliRunner()
COMMON = ["--account", ACCOUNT, "--region", REGION, "--repository", "org/app", "--branch", "main"]
DEEP = "[" * 100_000 + "]" * 100_000
LOGS = {
    "cloudtrail": "cloudtrail/test-console-login-json.log",
    "waf": "waf/test-waf.log",
    "guardduty": "guardduty/test-guard_duty.log",
}


def _normalize(source: str, path: Path) -> tuple[int, list[dict[str, object]], str]:
    result = runner.invoke(app, ["logs", "normalize", "--source", source, str(path)])
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    return result.exit_code, docs, result.stderr


@pytest.mark.parametrize("source", sorted(LOGS))
def test_gzip_logs_of_every_source_normalise_like_plain_ones(source: str, tmp_path: Path) -> None:
    # Before: waf and guardduty printed 0 documents, "skipped N malformed", exit 0 (the Firehose backup format).
    plain = tmp_path / "plain.log"
    plain.write_bytes((DATA / LOGS[source]).read_bytes())
    packed = tmp_path / "backup.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    code, expected, _ = _normalize(source, plain)
    assert code == 0 and expected
    assert _normalize(source, packed)[:2] == (0, expected)
    twice = tmp_path / "two-members.gz"  # `cat a.gz b.gz`: both members are read
    twice.write_bytes(packed.read_bytes() * 2)
    assert _normalize(source, twice)[:2] == (0, expected * 2)


@pytest.mark.parametrize("source", sorted(LOGS))
@pytest.mark.parametrize("container", ["lines", "array", "gzip"])
def test_a_record_too_deep_or_too_large_is_skipped_and_the_good_ones_kept(
    source: str, container: str, tmp_path: Path
) -> None:
    # Before: RecursionError (exit 3), every good record of the file lost.
    good = (DATA / LOGS[source]).read_text().splitlines()
    huge = json.dumps({"eventTime": "2024-01-01T00:00:00Z", "eventName": "x", "pad": "a" * (2 << 20)})
    lines = [good[0], DEEP, *good[1:], huge]
    path = tmp_path / "mixed.log"
    if container == "array":
        path.write_text("[" + ",".join(lines) + "]")
    else:
        text = "\n".join(lines) + "\n"
        path.write_bytes(gzip.compress(text.encode()) if container == "gzip" else text.encode())
    code, docs, stderr = _normalize(source, path)
    assert code == 0, stderr
    assert len(docs) == len(good)
    assert "note: skipped 2 malformed records" in stderr


def test_a_cloudtrail_file_with_one_record_too_deep_keeps_the_others(tmp_path: Path) -> None:
    good = [json.loads(line) for line in (DATA / LOGS["cloudtrail"]).read_text().splitlines()]
    body = ",".join(json.dumps(r) for r in good[:1]) + "," + DEEP + "," + ",".join(json.dumps(r) for r in good[1:])
    path = tmp_path / "trail.json"
    path.write_text('{"Records": [' + body + "]}")
    code, docs, stderr = _normalize("cloudtrail", path)
    assert (code, len(docs)) == (0, len(good))
    assert "skipped 1 malformed" in stderr


def test_rules_test_keeps_the_good_events_beside_a_deep_one(tmp_path: Path) -> None:
    events = tmp_path / "events.log"
    events.write_text("\n".join([DEEP, *(DATA / LOGS["cloudtrail"]).read_text().splitlines()]) + "\n")
    result = runner.invoke(app, ["rules", "test", "--events", str(events), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["events"], report["skipped"]) == (3, 1)


@pytest.mark.parametrize("source", sorted(LOGS))
def test_input_that_could_not_be_read_is_never_zero_records_exit_0(source: str, tmp_path: Path) -> None:
    junk = tmp_path / "junk.log"
    junk.write_bytes(b"not json\n{also not\n")
    code, docs, stderr = _normalize(source, junk)
    assert (code, docs) == (2, [])
    assert stderr.strip() == f"error: {junk}: no {source} record could be read (2 malformed records)"
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"\n")
    assert _normalize(source, empty)[0] == 2
    result = runner.invoke(app, ["rules", "test", "--events", str(junk)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["logs", "normalize", "--source", "waf", "/dev/zero"],
        ["findings", "convert", "--tool", "zap", "/dev/zero", *COMMON],
        ["rules", "test", "--events", "/dev/zero"],
    ],
)
def test_a_device_as_input_is_one_line_exit_2(argv: list[str]) -> None:
    # Before: /dev/zero as a report read until MemoryError (exit 3).
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert result.stderr == "error: /dev/zero: not a regular file\n"


def test_a_report_over_the_size_cap_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:  # sparse: 300 MiB that take no disk
        handle.truncate(300 * 1024 * 1024)
    result = runner.invoke(app, ["findings", "convert", "--tool", "sonarqube", str(huge), *COMMON])
    assert result.exit_code == 2
    assert result.stderr == f"error: {huge}: larger than 256 MiB: not a report or log file\n"


def test_a_gzip_bomb_is_refused_by_its_decompressed_size() -> None:
    member = gzip.compress(b"\0" * (64 * 1024 * 1024))
    with pytest.raises(ValueError, match="decompresses to more than"):
        gunzip(member * 5, "bomb.gz")


@pytest.mark.parametrize(
    ("score", "label"),
    [("NaN", "LOW"), ("Infinity", "LOW"), ("1e999", "LOW"), ("-5", "LOW"), ("11", "LOW"), ("9.8", "CRITICAL")],
)
def test_cvss_out_of_range_falls_back_to_the_severity_word(score: str, label: str, tmp_path: Path) -> None:
    # Before: NaN and 1e999 reached the output as NaN/Infinity (not JSON; NaN rated CRITICAL, -5 INFORMATIONAL).
    report = (
        '{"dependencies": [{"fileName": "lib.jar", "filePath": "/app/lib.jar", "packages": [{"id": '
        '"pkg:maven/org.example/lib@1.0"}], "vulnerabilities": [{"name": "CVE-2024-0001", "severity": "LOW", '
        f'"cvssv3": {{"baseScore": {score}}}, "cvssv2": {{"score": {score}}}, "description": "d"}}]}}]}}'
    )
    path = tmp_path / "dc.json"
    path.write_text(report)
    result = runner.invoke(app, ["findings", "convert", "--tool", "dependency-check", str(path), *COMMON])
    assert result.exit_code == 0, result.output
    strict = json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert [f["Severity"]["Label"] for f in strict] == [label]
    cvss = strict[0].get("Vulnerabilities", [{}])[0].get("Cvss", [])
    assert all(0 <= c["BaseScore"] <= 10 for c in cvss)

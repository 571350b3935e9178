"""Property lane: generated scanner reports, log records and GuardDuty findings through the user's commands.

The only outcomes allowed: a result (exit 0, strict JSON or the documented text) or one `error:` line with exit 2
and nothing on stdout. Never exit 3 (a crash), a traceback, a hang (pytest-timeout and hypothesis' deadline) or
an output file. Bounded: explicit example counts, measured well under a minute for the whole lane.
"""

from __future__ import annotations

import copy
import gzip
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from provisioner.cli import app
from tests.functions.helpers import ACCOUNT, DATA, REGION

runner = CliRunner()
LANE = settings(max_examples=60, deadline=5000, suppress_health_check=[HealthCheck.too_slow], derandomize=True)

# Hostile scalars: non-finite and huge numbers, control characters, lookalike digits, empty and long strings.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["", "\x1b[2J", "NaN", "1e999", "-5", "١٢٣", "i-99999999", "AKIAIOSFODNN7EXAMPLE", "a" * 5000]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def _run(argv_for: Callable[[Path], list[str]], data: bytes) -> tuple[int, str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input"
        path.write_bytes(data)
        result = runner.invoke(app, argv_for(path))
        leftovers = sorted(p.name for p in Path(tmp).iterdir())
    assert leftovers == ["input"], leftovers  # nothing written beside the input
    return result.exit_code, result.stdout, result.stderr


def _check(code: int, stdout: str, stderr: str, parse: Callable[[str], Any]) -> None:
    assert "Traceback" not in stdout + stderr
    assert code in (0, 2), (code, stderr)
    if code == 2:
        assert stdout == ""
        assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    else:
        parse(stdout)


def _strict(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise AssertionError(f"non-JSON constant {constant} in the output")

    return json.loads(text, parse_constant=refuse)


def _ndjson(text: str) -> None:
    for line in text.splitlines():
        _strict(line)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()  # NaN/Infinity tokens: what a sloppy writer emits


# ---------------------------------------------------------------- scanner reports -> ASFF


def _zap(sites: list[Any]) -> Any:
    return {"@version": "2.14.0", "site": sites}


ZAP_ALERT = st.fixed_dictionaries(
    {"pluginid": SCALARS, "alertRef": SCALARS, "alert": SCALARS, "name": SCALARS, "riskcode": SCALARS},
    optional={"confidence": SCALARS, "cweid": SCALARS, "count": SCALARS, "instances": JSON, "desc": SCALARS},
)
ZAP = st.lists(
    st.fixed_dictionaries({"@name": SCALARS, "alerts": st.lists(ZAP_ALERT, max_size=3) | JSON}), max_size=3
).map(_zap)
DC_VULN = st.fixed_dictionaries(
    {"name": SCALARS, "severity": SCALARS},
    optional={"cvssv3": st.fixed_dictionaries({"baseScore": SCALARS}), "cvssv2": JSON, "description": SCALARS},
)
DEPENDENCY_CHECK = st.fixed_dictionaries(
    {
        "dependencies": st.lists(
            st.fixed_dictionaries(
                {"fileName": SCALARS, "filePath": SCALARS, "vulnerabilities": st.lists(DC_VULN, max_size=3) | JSON},
                optional={"packages": JSON},
            ),
            max_size=3,
        )
    }
)
SONAR = st.fixed_dictionaries(
    {
        "issues": st.lists(
            st.fixed_dictionaries(
                {"key": SCALARS, "rule": SCALARS, "severity": SCALARS, "component": SCALARS, "message": SCALARS},
                optional={"type": SCALARS, "textRange": JSON, "line": SCALARS, "impacts": JSON},
            ),
            max_size=3,
        )
    },
    optional={"components": JSON, "paging": JSON},
)
REPORTS = {"zap": ZAP, "dependency-check": DEPENDENCY_CHECK, "sonarqube": SONAR}


def _convert(tool: str) -> Callable[[Path], list[str]]:
    return lambda path: ["findings", "convert", "--tool", tool, str(path), "--account", ACCOUNT, "--region", REGION]


@LANE
@given(tool=st.sampled_from(sorted(REPORTS)), data=st.data())
def test_generated_scanner_reports_convert_or_are_refused(tool: str, data: st.DataObject) -> None:
    report = data.draw(REPORTS[tool] | JSON, label="report")
    _check(*_run(_convert(tool), _dumps(report)), parse=_strict)


@settings(max_examples=40, deadline=5000, derandomize=True)
@given(tool=st.sampled_from(sorted(REPORTS)), raw=st.binary(max_size=300))
def test_arbitrary_bytes_as_a_report_are_refused_in_one_line(tool: str, raw: bytes) -> None:
    _check(*_run(_convert(tool), raw), parse=_strict)


# ---------------------------------------------------------------- log records -> ECS NDJSON

CLOUDTRAIL = st.fixed_dictionaries(
    {"eventTime": SCALARS | st.just("2024-01-01T00:00:00Z"), "eventName": SCALARS},
    optional={
        "userIdentity": JSON,
        "sourceIPAddress": SCALARS,
        "requestParameters": JSON,
        "responseElements": JSON,
        "recipientAccountId": SCALARS,
        "resources": JSON,
    },
)
WAF = st.fixed_dictionaries(
    {"timestamp": SCALARS | st.just(1700000000000), "action": SCALARS, "httpRequest": JSON},
    optional={"webaclId": SCALARS, "ruleGroupList": JSON, "labels": JSON, "terminatingRuleId": SCALARS},
)
GUARDDUTY = st.fixed_dictionaries(
    {"id": SCALARS, "type": SCALARS, "severity": SCALARS},
    optional={"accountId": SCALARS, "region": SCALARS, "resource": JSON, "service": JSON, "updatedAt": SCALARS},
)
RECORDS = {"cloudtrail": CLOUDTRAIL, "waf": WAF, "guardduty": GUARDDUTY}


def _container(records: list[Any], shape: str) -> bytes:
    lines = "\n".join(json.dumps(r, allow_nan=True) for r in records).encode()
    if shape == "array":
        return _dumps(records)
    if shape == "gzip":
        return gzip.compress(lines)
    if shape == "deep":
        return b"[" * 50_000 + b"]" * 50_000 + b"\n" + lines
    return lines


@LANE
@given(
    source=st.sampled_from(sorted(RECORDS)), shape=st.sampled_from(["lines", "array", "gzip", "deep"]), data=st.data()
)
def test_generated_log_records_normalise_or_are_refused(source: str, shape: str, data: st.DataObject) -> None:
    records = data.draw(st.lists(RECORDS[source] | JSON, max_size=5), label="records")
    argv = lambda path: ["logs", "normalize", "--source", source, str(path)]  # noqa: E731
    _check(*_run(argv, _container(records, shape)), parse=_ndjson)


# ---------------------------------------------------------------- findings -> the response rehearsal

SAMPLES = [json.loads(p.read_text()) for p in sorted((DATA / "guardduty" / "response").glob("*.json"))]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [prefix, *(p for k, v in value.items() for p in _paths(v, (*prefix, k)))]
    if isinstance(value, list):
        return [prefix, *(p for i, v in enumerate(value) for p in _paths(v, (*prefix, i)))]
    return [prefix]


@LANE
@given(data=st.data(), wrap=st.sampled_from(["raw", "eventbridge", "getfindings"]))
def test_mutated_findings_are_rehearsed_or_refused(data: st.DataObject, wrap: str) -> None:
    finding = copy.deepcopy(data.draw(st.sampled_from(SAMPLES), label="sample"))
    finding["service"]["additionalInfo"]["sample"] = data.draw(st.booleans(), label="sample flag")
    for _ in range(data.draw(st.integers(0, 3), label="mutations")):
        path = data.draw(st.sampled_from(_paths(finding)[1:]), label="path")
        target = finding
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = data.draw(JSON, label="value")
    event: Any = {
        "raw": finding,
        "eventbridge": {"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": finding},
        "getfindings": {"Findings": [finding]},
    }[wrap]
    argv = lambda path: ["respond", "--finding", str(path), "--format", "json"]  # noqa: E731
    code, stdout, stderr = _run(argv, _dumps(event))
    _check(code, stdout, stderr, parse=_strict)
    if code == 0:
        report = _strict(stdout)
        assert set(report) == {"finding", "actions", "skipped_reason"}

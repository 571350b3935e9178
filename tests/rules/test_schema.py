"""One field schema: the index templates and the rule validator are built from it and cannot disagree, and what
the normalisers really produce (from real CloudTrail, WAF and GuardDuty records and the rule cases) fits it."""

from __future__ import annotations

import ipaddress
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from provisioner.cli import app
from provisioner.opensearch.templates import index_template
from provisioner.rules.events import load_events, normalise_records
from provisioner.rules.fields import BOOLEAN, DATE, FIELDS, FLAT_OBJECTS, IP, KEYWORD, NUMBER, TEXT, field_type
from provisioner.rules.schema import FAMILIES

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
_VALIDATOR_TYPE = {"keyword": KEYWORD, "text": TEXT, "ip": IP, "long": NUMBER, "float": NUMBER, "boolean": BOOLEAN}
_VALIDATOR_TYPE["date"] = DATE


def _mapped_leaves(properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for name, spec in properties.items():
        if "properties" in spec:
            out.update(_mapped_leaves(spec["properties"], f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = spec["type"]
    return out


def _template_types() -> dict[str, str]:
    merged: dict[str, str] = {}
    for family in FAMILIES:
        leaves = _mapped_leaves(index_template("logs", family)["template"]["mappings"]["properties"])
        for path, kind in leaves.items():
            assert merged.setdefault(path, kind) == kind, f"{path} is mapped differently in {family}"
    return merged


def test_templates_and_validator_cannot_disagree() -> None:
    mapped = _template_types()
    for path, kind in mapped.items():
        if kind == "flat_object":
            assert path in FLAT_OBJECTS, path
        elif kind in _VALIDATOR_TYPE:
            assert FIELDS[path] == _VALIDATOR_TYPE[kind], path
    for path, kind in FIELDS.items():
        assert _VALIDATOR_TYPE[mapped[path]] == kind, f"{path}: validator {kind}, template {mapped[path]}"
    assert set(FLAT_OBJECTS) == {p for p, k in mapped.items() if k == "flat_object"}


def test_the_two_fields_that_disagreed_now_agree() -> None:
    mapped = _template_types()
    assert mapped["message"] == "text" and field_type("message") == TEXT
    assert mapped["aws.cloudtrail.error_message"] == "keyword" and field_type("aws.cloudtrail.error_message") == KEYWORD


@pytest.mark.parametrize("field", ["message", "aws.guardduty.title"])
def test_a_rule_selecting_on_analysed_text_is_refused(tmp_path: Path, field: str) -> None:
    source = "guardduty" if "guardduty" in field else "cloudtrail"
    rule = (
        "title: t\nid: 5f0c3a52-8d0e-4d7e-9a53-3f7e2b9b1c11\nlevel: low\n"
        f"logsource: {{product: aws, service: {source}}}\n"
        f"detection:\n  selection:\n    {field}: x\n  condition: selection\n"
    )
    (tmp_path / "text.yml").write_text(rule)
    result = CliRunner().invoke(app, ["rules", "list", "--rules", str(tmp_path)])
    assert result.exit_code == 2
    assert f"detection.selection.{field}: field {field!r} is analysed text" in result.stderr


def _check_value(path: str, kind: str, value: Any) -> None:
    if kind == NUMBER:
        assert isinstance(value, int | float) and not isinstance(value, bool), (path, value)
    elif kind == BOOLEAN:
        assert isinstance(value, bool), (path, value)
    elif kind == IP:
        ipaddress.ip_address(value)
    elif kind == DATE:
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    else:
        assert isinstance(value, str), (path, value)


def _check_doc(doc: dict[str, Any], prefix: str = "") -> set[str]:
    """Every leaf is declared with a compatible value, or lies under a flat_object; returns the paths seen."""
    seen = set()
    for key, value in doc.items():
        path = f"{prefix}{key}"
        if path in FLAT_OBJECTS or path == "source.geo.location":
            seen.add(path)
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                seen |= _check_doc(item, f"{path}.")
            elif item is not None:
                assert path in FIELDS, f"{path} is produced by a normaliser but not in the schema"
                _check_value(path, FIELDS[path], item)
                seen.add(path)
    return seen


def test_normaliser_output_fits_the_schema() -> None:
    files = [*(DATA / "cloudtrail").glob("*.log"), *(DATA / "waf").glob("*.log"), *(DATA / "guardduty").glob("*.log")]
    files += list((DATA / "rules" / "elastic").glob("*.log"))
    docs = [doc for path in files for _, doc in load_events(path)[0]]
    for case in sorted((DATA / "rules" / "cases").glob("*.json")):
        data = json.loads(case.read_text())
        docs += [doc for kind in ("positive", "negative") for s in data[kind] for _, doc in normalise_records(s)[0]]
    seen: set[str] = set()
    for doc in docs:
        seen |= _check_doc(doc)
    assert len(docs) > 500
    assert {"source.ip", "aws.cloudtrail.user_identity.type", "aws.waf.action", "aws.guardduty.severity.value"} <= seen

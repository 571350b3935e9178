"""Every refusal of a correlation and of a modifier family, in-process: the catalogue loader raises `SpecError`
with the key and the reason the CLI prints as `error: file: key: reason`."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.errors import SpecError
from provisioner.rules.catalogue import Correlation
from provisioner.rules.loader import load_catalogue

REPO = Path(__file__).resolve().parents[2]
_THRESHOLD = (REPO / "rules" / "cloudtrail" / "cloudtrail-console-login-failures.yml").read_text()
_DETECTION = (REPO / "rules" / "cloudtrail" / "cloudtrail-password-policy-change.yml").read_text()
_CONDITION = "  condition:\n    gte: 3\n"


def _load(tmp_path: Path, text: str) -> list[Correlation | None]:
    (tmp_path / "rule.yml").write_text(text)
    return [r.correlation for r in load_catalogue(tmp_path).rules]


def _refusal(tmp_path: Path, text: str) -> tuple[str, str]:
    with pytest.raises(SpecError) as caught:
        _load(tmp_path, text)
    return caught.value.key, caught.value.reason


@pytest.mark.parametrize(
    ("old", "new", "key", "reason"),
    [
        ("  type: event_count", "  type: temporal", "document 2.correlation.type", "'temporal' is not supported"),
        ("  - cloudtrail-console-login-failure\n", "  - nope\n", "document 2.correlation.rules", "'nope' is not a"),
        ("  rules:\n  - cloudtrail-console-login-failure\n", "", "document 2.correlation.rules", "required"),
        ("  - source.ip\n", "  - source.ipp\n", "document 2.correlation.group-by", "'source.ipp' is not indexed"),
        ("  group-by:\n  - source.ip\n", "", "document 2.correlation.group-by", "required: a list of fields"),
        (_CONDITION, "", "document 2.correlation.condition", "required, e.g. {gte: 3}"),
        ("    gte: 3", "    lt: 3", "document 2.correlation.condition", "one of gt/gte"),
        ("    gte: 3", "    gte: 3\n    gt: 2", "document 2.correlation.condition", "one of gt/gte"),
        ("    gte: 3", "    gte: -1", "document 2.correlation.condition.gte", "must be a non-negative integer"),
        ("    gte: 3", "    gte: true", "document 2.correlation.condition.gte", "must be a non-negative integer"),
        ("  type: event_count", "  type: value_count", "document 2.correlation.condition.field", "value_count"),
        ("  timespan: 15m", "  timespan: 0m", "document 2.correlation.timespan", "'0m' is not a duration"),
        ("  timespan: 15m", "  timespan: 15m\n  generate: yes please", "document 2.correlation.generate", "true or"),
    ],
)
def test_bad_correlations_are_refused(tmp_path: Path, old: str, new: str, key: str, reason: str) -> None:
    assert old in _THRESHOLD
    got_key, got_reason = _refusal(tmp_path, _THRESHOLD.replace(old, new))
    assert got_key == key
    assert reason in got_reason


def test_base_rules_of_two_sources_are_refused(tmp_path: Path) -> None:
    # Loaded before rule.yml (files load in name order), so its base rule is known to the correlation.
    (tmp_path / "a-waf.yml").write_text((REPO / "rules" / "waf" / "waf-block-spike.yml").read_text())
    text = _THRESHOLD.replace(
        "  - cloudtrail-console-login-failure\n", "  - cloudtrail-console-login-failure\n  - waf-blocked-request\n"
    )
    assert _refusal(tmp_path, text) == ("document 2.correlation.rules", "base rules must share one log source")


def test_a_value_count_maps_and_keeps_its_field(tmp_path: Path) -> None:
    text = _THRESHOLD.replace("  type: event_count", "  type: value_count").replace(
        _CONDITION, "  condition:\n    gt: 2\n    field: userIdentity.userName\n"
    )
    correlation = _load(tmp_path, text)[1]
    assert correlation == Correlation(
        "value_count", ("cloudtrail-console-login-failure",), ("source.ip",), 900, "gt", 2, "user.name", False
    )


@pytest.mark.parametrize(
    ("check", "key", "reason"),
    [
        ("event.action|exists: maybe", "event.action|exists", "|exists takes true or false"),
        ("event.action|lte: 3", "event.action|lte", "|lte needs a numeric field; this one is indexed as keyword"),
        ("event.action|cidr: 10.0.0.0/8", "event.action|cidr", "|cidr needs an IP field"),
        ("source.ip|re: '10[.].*'", "source.ip|re", "|re needs a string field"),
        ("event.action|re: '^Update'", "event.action|re", "not portable to OpenSearch"),
        ("event.action|re: 'Update('", "event.action|re", "invalid regular expression"),
        ("source.ip|contains: '10.'", "source.ip|contains", "string modifiers need a string field"),
        ("user.name: {a: 1}", "user.name", "a value must be a string, number, boolean or null"),
        ("source.ip: 10.0.0.300", "source.ip", "is not an IP address"),
    ],
)
def test_bad_modifiers_are_refused(tmp_path: Path, check: str, key: str, reason: str) -> None:
    text = _DETECTION.replace("  selection:\n", f"  selection:\n    {check}\n", 1)
    got_key, got_reason = _refusal(tmp_path, text)
    assert got_key == f"detection.selection.{key}"
    assert reason in got_reason

"""Read-and-compare rules: what OpenSearch adds or reformats is not a difference; what a person changes is."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provisioner.functions.opensearch_config.compare import differences, resolve

RANGE = {"range": {"@timestamp": {"gte": "{{period_end}}||-10m", "lte": "{{period_end}}", "format": "epoch_millis"}}}
RANGE_ECHO = {
    "range": {
        "@timestamp": {
            "from": "{{period_end}}||-10m",
            "to": "{{period_end}}",
            "include_lower": True,
            "include_upper": True,
            "format": "epoch_millis",
            "boost": 1.0,
        }
    }
}


@pytest.mark.parametrize(
    ("want", "have"),
    [
        (RANGE, RANGE_ECHO),
        ({"term": {"event.action": "block"}}, {"term": {"event.action": {"value": "block", "boost": 1.0}}}),
        ({"match_phrase": {"message": "x y"}}, {"match_phrase": {"message": {"query": "x y", "slop": 0}}}),
        ({"index": {"number_of_shards": 1, "hidden": False}}, {"index": {"number_of_shards": "1", "hidden": "false"}}),
        ({"severity": 7}, {"severity": 7.0}),
        ({"dls": "", "fls": []}, {"fls": []}),  # an empty default OpenSearch leaves out
        (
            {"panelsJSON": json.dumps([{"panelIndex": "1"}])},
            {"panelsJSON": json.dumps([{"panelIndex": "1", "version": "2.19.0"}])},
        ),
    ],
)
def test_what_opensearch_adds_or_reformats_is_no_difference(want: Any, have: Any) -> None:
    assert differences(want, have) == []


@pytest.mark.parametrize(
    ("want", "have", "found"),
    [
        (RANGE, {"range": {"@timestamp": {**RANGE_ECHO["range"]["@timestamp"], "from": "{{period_end}}||-1h"}}},
         ['range.@timestamp.from: expected "{{period_end}}||-10m", found "{{period_end}}||-1h"']),
        ({"backend_roles": ["a"]}, {"backend_roles": ["a", "b"]}, ['backend_roles: expected ["a"], found ["a", "b"]']),
        ({"sns": {"topic_arn": "t"}}, {"sns": {}}, ["sns.topic_arn: missing"]),
        ({"enabled": True}, {"enabled": False}, ["enabled: expected true, found false"]),
        ({"visState": json.dumps({"type": "pie"})}, {"visState": json.dumps({"type": "table"})},
         ['visState.type: expected "pie", found "table"']),
        ({"mappings": {"a": {"type": "keyword"}}}, {"mappings": "x"}, ['mappings: expected an object, found "x"']),
    ],
)  # fmt: skip
def test_what_a_person_changes_is_reported_with_its_path(want: Any, have: Any, found: list[str]) -> None:
    assert differences(want, have) == found


def test_resolve_splices_list_bindings_and_refuses_unknown_ones() -> None:
    body = {"backend_roles": ["${ingest}", "arn:fixed"], "sns": {"role_arn": "${role}"}, "text": "a ${role} b"}
    resolved = resolve(body, {"ingest": ["arn:1", "arn:2"], "role": "arn:r"})
    assert resolved == {
        "backend_roles": ["arn:1", "arn:2", "arn:fixed"],
        "sns": {"role_arn": "arn:r"},
        "text": "a ${role} b",
    }
    with pytest.raises(KeyError, match=r"\$\{role\}"):
        resolve(body, {"ingest": []})

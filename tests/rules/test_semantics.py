"""Sigma semantics, locally and in OpenSearch: one rule per construct (modifiers, wildcards, lists, `all`, `not`,
`1 of`/`all of`, null/exists, typed fields, flat_object paths), each run by the evaluator and, compiled, by
osmem-server over the same normalised events; both must select the same events, and the expected ones."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from osmem_server import OsmemServer

from provisioner.rules.catalogue import Catalogue
from provisioner.rules.compile import detection_query
from provisioner.rules.engine import Engine
from provisioner.rules.events import Event, normalise_records
from provisioner.rules.loader import load_catalogue
from tests.rules.test_monitors import _index, put_templates


def _event(n: int, name: str, **extra: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "eventTime": f"2026-01-01T00:00:{n:02d}Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.5",
        "userAgent": "aws-cli/2.15.0 Python/3.11",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice", "userName": "alice"},
        "readOnly": False,
        "eventID": f"e{n}",
    }
    rec.update(extra)
    return rec


EVENTS = [
    _event(0, "ConsoleLogin", eventSource="signin.amazonaws.com", responseElements={"ConsoleLogin": "Failure"}),
    _event(1, "GetUserPolicy", readOnly=True, userAgent="Boto3/1.34 Python/3.12"),
    _event(2, "PutRolePolicy", sourceIPAddress="10.1.2.3", userIdentity={"type": "AssumedRole", "userName": "Bob"}),
    _event(
        3,
        "DescribeImageScanFindings",
        eventSource="ecr.amazonaws.com",
        responseElements={"imageScanFindings": {"findingSeverityCounts": {"HIGH": 3, "LOW": 1}}},
    ),
    _event(
        4,
        "AuthorizeSecurityGroupIngress",
        eventSource="ec2.amazonaws.com",
        requestParameters={
            "ipPermissions": {"items": [{"fromPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}
        },
    ),
    _event(5, "AddPermission20150331v2", eventSource="lambda.amazonaws.com", requestParameters={"principal": "*"}),
    _event(6, "AddPermission20150331v2", eventSource="lambda.amazonaws.com", requestParameters={"principal": "*.x"}),
    _event(7, "GetBucketPolicy", errorCode="AccessDenied", sourceIPAddress="s3.amazonaws.com"),
    _event(8, "CreateUser", userIdentity={"type": "Root"}, requestParameters="not-an-object"),
]

# name -> (detection, indices of EVENTS expected to match)
CASES: dict[str, tuple[dict[str, Any], list[int]]] = {
    "case-insensitive": ({"s": {"event.action": "consolelogin"}}, [0]),
    # `cased` only where the index keeps case (a lowercased detection field refuses it: test_catalogue)
    "cased": ({"s": {"cloud.region|cased": "EU-WEST-1"}}, []),
    "cased-exact": ({"s": {"cloud.region|cased": "eu-west-1", "event.action": "consolelogin"}}, [0]),
    "list-is-or": ({"s": {"event.action": ["CreateUser", "PutRolePolicy"]}}, [2, 8]),
    "wildcards": ({"s": {"event.action": ["Get*Policy", "Creat?User"]}}, [1, 7, 8]),
    "startswith-endswith": (
        {"s": {"event.action|startswith": "add", "event.provider|endswith": "LAMBDA.amazonaws.com"}},
        [5, 6],
    ),
    "contains-all": ({"s": {"user_agent.original|contains|all": ["aws-cli", "python/3.11"]}}, [0, 2, 3, 4, 5, 6, 7, 8]),
    "literal-star": ({"s": {"aws.cloudtrail.request_parameters.principal": "\\*"}}, [5]),
    "regex": ({"s": {"user.name|re": "ali.e"}}, [0, 1, 3, 4, 5, 6, 7]),
    "regex-i": ({"s": {"user.name|re|i": "BO[a-z]"}}, [2]),
    "cidr": ({"s": {"source.ip|cidr": "10.0.0.0/8"}}, [2]),
    "ip-equality": ({"s": {"source.ip": "203.0.113.5"}}, [0, 1, 3, 4, 5, 6, 8]),
    "exists": ({"s": {"aws.cloudtrail.error_code|exists": True}}, [7]),
    "not-exists": (
        {"s": {"aws.cloudtrail.request_parameters.principal|exists": False, "user.name": "alice"}},
        [0, 1, 3, 4, 7],
    ),
    "null": ({"s": {"source.ip": None}}, [7]),
    "numbers": (
        {
            "s": {
                "aws.cloudtrail.image_scan.severity_counts.high|gte": 3,
                "aws.cloudtrail.image_scan.severity_counts.low|lt": 2,
            }
        },
        [3],
    ),
    "boolean": ({"s": {"aws.cloudtrail.read_only": True}}, [1]),
    "flat-object-list-path": (
        {
            "s": {
                "aws.cloudtrail.request_parameters.ipPermissions.items.ipRanges.items.cidrIp": "0.0.0.0/0",
                "aws.cloudtrail.request_parameters.ipPermissions.items.fromPort": 22,
            }
        },
        [4],
    ),
    "wrapped-non-object": ({"s": {"aws.cloudtrail.request_parameters.value": "not-an-object"}}, [8]),
    "list-of-maps-is-or": ({"s": [{"event.action": "CreateUser"}, {"user.name": "bob"}]}, [2, 8]),
    "raw-cloudtrail-names": ({"s": {"eventName": "PutRolePolicy", "sourceIPAddress": "10.1.2.3"}}, [2]),
    "one-of": ({"sel_a": {"event.action": "CreateUser"}, "sel_b": {"event.outcome": "failure"}}, [0, 7, 8]),
    "all-of-and-not": (
        {
            "sel_a": {"event.provider": "lambda.amazonaws.com"},
            "sel_b": {"event.action|contains": "perm"},
            "f": {"aws.cloudtrail.request_parameters.principal|endswith": ".x"},
        },
        [5],
    ),
}
CONDITIONS = {"one-of": "1 of sel_*", "all-of-and-not": "all of sel_* and not f"}


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    root = tmp_path_factory.mktemp("semantics")
    for n, (name, (detection, _)) in enumerate(CASES.items()):
        doc = {
            "title": name,
            "id": f"00000000-0000-4000-8000-{n:012d}",
            "logsource": {"product": "aws", "service": "cloudtrail"},
            "detection": {**detection, "condition": CONDITIONS.get(name, "s")},
            "level": "low",
        }
        (root / f"{name}.yml").write_text(yaml.safe_dump(doc))
    return load_catalogue(root)


@pytest.fixture(scope="module")
def indexed() -> Iterator[tuple[OsmemServer, list[Event]]]:
    events, skipped = normalise_records(EVENTS)
    assert skipped == 0 and len(events) == len(EVENTS)
    server = OsmemServer.start()
    try:
        put_templates(server)
        _index(server, events)
        yield server, events
    finally:
        server.close()


@pytest.mark.parametrize("name", sorted(CASES))
def test_evaluator_and_opensearch_agree_on_each_construct(
    catalogue: Catalogue, indexed: tuple[OsmemServer, list[Event]], name: str
) -> None:
    server, events = indexed
    expected = CASES[name][1]
    local = Engine(catalogue).run(events)[name].events
    assert local == expected, name
    query = {"size": 100, "query": detection_query(catalogue.by_name(name), catalogue)}
    hits = server.request("POST", "/logs-cloudtrail-*/_search", query)["hits"]["hits"]
    assert sorted(int(h["_id"]) for h in hits) == expected, name


def test_raw_name_pipeline_maps_to_normalised_fields(catalogue: Catalogue) -> None:
    (check_a, check_b) = catalogue.by_name("raw-cloudtrail-names").selections["s"][0]
    assert (check_a.field, check_b.field) == ("event.action", "source.address")

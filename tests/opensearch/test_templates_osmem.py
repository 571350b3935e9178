"""The index templates on an OpenSearch-compatible engine (PyPI osmem-server, in memory): the normalised events
index with zero rejections and stay searchable field by field (request and response content as JSON objects,
non-objects wrapped as {"value": ...}, ECR scan severity counts as numbers). That every compiled monitor selects
exactly what `provision rules test` matches, on these same templates, is tests/rules/test_monitors.py.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provisioner.functions.logs import index_name, normalize, normalize_records
from provisioner.opensearch.content import Settings, build

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
ACCOUNT = "123456789012"
OBJECT_FIELDS = ("request_parameters", "response_elements", "additional_eventdata", "service_event_details")
BUILT_AT = "2025-06-01T00:00:00Z"


class Engine:
    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, method: str, path: str, body: Any = None, *, ndjson: bool = False) -> tuple[int, Any]:
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        kind = "application/x-ndjson" if ndjson else "application/json"
        request = urllib.request.Request(f"{self.url}/{path}", data=data, method=method, headers={"Content-Type": kind})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status), json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def bulk(self, docs: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """Index (index, doc) pairs; returns the per-item results that were not 2xx."""
        lines = b"".join(
            json.dumps({"index": {"_index": index}}).encode() + b"\n" + json.dumps(doc).encode() + b"\n"
            for index, doc in docs
        )
        status, answer = self.call("POST", "_bulk?refresh=true", lines, ndjson=True)
        assert status == 200, answer
        items = [next(iter(item.values())) for item in answer["items"]]
        assert len(items) == len(docs)
        return [i for i in items if not 200 <= i["status"] < 300]

    def count(self, index: str, query: dict[str, Any]) -> int:
        status, answer = self.call("POST", f"{index}/_search", {"size": 0, "query": query})
        assert status == 200, answer
        return int(answer["hits"]["total"]["value"])


@pytest.fixture(scope="module")
def content() -> dict[str, Any]:
    settings = Settings(retention={"cloudtrail": (30, 365), "guardduty": (30, 365), "waf": (7, 90)})
    return build(settings, REPO)


@pytest.fixture(scope="module")
def engine(content: dict[str, Any]) -> Iterator[Engine]:
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False)
    try:
        peer = Engine(server.url)
        for obj in content["objects"]:
            if obj["kind"] == "index_template":
                status, answer = peer.call("PUT", f"_index_template/{obj['name']}", obj["body"])
                assert status == 200, answer
        yield peer
    finally:
        server.process.kill()
        server.process.wait(timeout=10)


def _trail(name: str, source: str, *, identity: str = "IAMUser", **extra: Any) -> dict[str, Any]:
    user = {
        "type": identity,
        "principalId": "AIDAEXAMPLE",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "accountId": ACCOUNT,
        "userName": "alice",
    }
    return {
        "eventVersion": "1.08",
        "userIdentity": user,
        "eventTime": BUILT_AT,
        "eventSource": source,
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.5",
        "eventID": f"built-{name}-{len(json.dumps(extra))}",
        "recipientAccountId": ACCOUNT,
        **extra,
    }


# Events built after AWS documentation examples: the shapes that clash when stored as plain objects.
BUILT_TRAIL = [
    _trail(
        "CreateRole",
        "iam.amazonaws.com",
        responseElements={
            "role": {
                "roleName": "app",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/app",
                "createDate": "Jan 1, 2026 12:00:00 AM",
            }
        },
    ),
    _trail(
        "CreateFunction20150331",
        "lambda.amazonaws.com",
        responseElements={"role": f"arn:aws:iam::{ACCOUNT}:role/app", "functionName": "f"},
    ),
    _trail(
        "AttachRolePolicy",
        "iam.amazonaws.com",
        requestParameters={"roleName": "app", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
    ),
    _trail(
        "AuthorizeSecurityGroupIngress",
        "ec2.amazonaws.com",
        requestParameters={
            "groupId": "sg-1",
            "ipPermissions": {
                "items": [
                    {
                        "ipProtocol": "tcp",
                        "fromPort": 22,
                        "toPort": 22,
                        "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]},
                    }
                ]
            },
        },
    ),
    _trail(
        "PutRolePolicy",
        "iam.amazonaws.com",
        requestParameters={
            "roleName": "app",
            "policyName": "p",
            "policyDocument": json.dumps(
                {"Statement": [{"Effect": "Allow", "Action": f"s3:Get{i}", "Resource": "*"} for i in range(60)]}
            ),
        },
    ),
    _trail(
        "DescribeImageScanFindings",
        "ecr.amazonaws.com",
        responseElements={"imageScanFindings": {"findingSeverityCounts": {"HIGH": 3, "MEDIUM": 7, "CRITICAL": 1}}},
    ),
    _trail(
        "ConsoleLogin",
        "signin.amazonaws.com",
        identity="Root",
        responseElements={"ConsoleLogin": "Success"},
        additionalEventData={"MFAUsed": "NO", "LoginTo": "https://console.aws.amazon.com"},
    ),
    _trail(
        "ConsoleLogin",
        "signin.amazonaws.com",
        responseElements={"ConsoleLogin": "Failure"},
        errorMessage="Failed authentication",
        additionalEventData={"MFAUsed": "No"},
    ),
    _trail("GetCallerIdentity", "sts.amazonaws.com", responseElements=None),
]


def _real(source: str) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((DATA / source).glob("*.log")):
        found, skipped = normalize(source, path.read_bytes(), name=str(path))
        assert skipped == 0, path
        docs += found
    return docs


def _corpus() -> list[tuple[str, dict[str, Any]]]:
    trail, skipped = normalize_records("cloudtrail", BUILT_TRAIL)
    assert skipped == 0
    pairs = [(s, d) for s in ("waf", "guardduty") for d in _real(s)]
    pairs += [("cloudtrail", d) for d in [*_real("cloudtrail"), *trail]]
    return [(index_name("logs", source, doc), doc) for source, doc in pairs]


@pytest.fixture(scope="module")
def indexed(engine: Engine) -> tuple[Engine, list[tuple[str, dict[str, Any]]], list[dict[str, Any]]]:
    """The corpus indexed once: (engine, corpus, rejected items)."""
    corpus = _corpus()
    return engine, corpus, engine.bulk(corpus)


def test_normalised_events_index_with_zero_rejections(indexed: Any) -> None:
    engine, corpus, rejected = indexed
    assert rejected == []
    for family in ("cloudtrail", "guardduty", "waf"):
        expected = sum(1 for index, _ in corpus if index.startswith(f"logs-{family}-"))
        assert engine.count(f"logs-{family}-*", {"match_all": {}}) == expected
    # The same events in an index without the template: the role object/string clash rejects one of them.
    clash = [
        ("control-dynamic", doc)
        for index, doc in corpus
        if "role" in str(doc.get("aws", {}).get("cloudtrail", {}).get("response_elements"))
    ]
    rejected = engine.bulk(clash)
    assert [r["error"]["type"] for r in rejected] == ["mapper_parsing_exception"]


@pytest.mark.parametrize(
    ("query", "hits"),
    [
        ({"term": {"aws.cloudtrail.request_parameters.policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}}, 1),
        ({"term": {"aws.cloudtrail.response_elements.role": f"arn:aws:iam::{ACCOUNT}:role/app"}}, 1),
        ({"term": {"aws.cloudtrail.response_elements.role.roleName": "app"}}, 1),
        ({"term": {"aws.cloudtrail.request_parameters.ipPermissions.items.ipRanges.items.cidrIp": "0.0.0.0/0"}}, 1),
        ({"range": {"aws.cloudtrail.image_scan.severity_counts.high": {"gte": 1}}}, 1),
        ({"term": {"event.outcome": "FAILURE"}}, 3),  # lowercase normalizer: "FAILURE" finds "failure"
        ({"term": {"event.action": "consolelogin"}}, 5),
        ({"term": {"aws.cloudtrail.user_identity.type": "ROOT"}}, 1),
    ],
)
def test_content_stays_searchable_field_by_field(indexed: Any, query: dict[str, Any], hits: int) -> None:
    engine = indexed[0]
    original = {"bool": {"filter": [query], "must_not": [{"exists": {"field": "tags"}}]}}
    assert engine.count("logs-cloudtrail-*", original) == hits

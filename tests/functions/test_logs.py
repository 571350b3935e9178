"""Log normalisers on real CloudTrail, WAF and GuardDuty records; bulk indexing against a local HTTP server."""

from __future__ import annotations

import base64
import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from botocore.credentials import Credentials

from provisioner.functions.common import Backoff
from provisioner.functions.logs import cloudtrail, handlers, normalize, normalize_records
from provisioner.functions.logs.guardduty import severity_label
from provisioner.functions.logs.opensearch import BulkError, BulkIndexer
from provisioner.functions.logs.waf import transform_firehose
from tests.functions.helpers import DATA

CT_LINES = (DATA / "cloudtrail/test-console-login-json.log").read_text().splitlines()
CT_SERVICE = (DATA / "cloudtrail/test-assume-role-aws-service-json.log").read_text().splitlines()
WAF_LINES = (DATA / "waf/test-waf.log").read_text().splitlines()
GD_LINES = (DATA / "guardduty/test-guard_duty.log").read_text().splitlines()


def _cwl_payload(messages: list[str]) -> str:
    """What CloudWatch Logs sends a subscription: gzip + base64 of the DATA_MESSAGE envelope."""
    envelope = {
        "messageType": "DATA_MESSAGE",
        "owner": "111122223333",
        "logGroup": "cloudtrail",
        "logStream": "111122223333_CloudTrail_us-east-2",
        "subscriptionFilters": ["all"],
        "logEvents": [{"id": str(n), "timestamp": 1405525767000, "message": m} for n, m in enumerate(messages)],
    }
    return base64.b64encode(gzip.compress(json.dumps(envelope).encode())).decode()


@pytest.mark.parametrize(
    ("source", "path", "count", "dataset"),
    [
        ("cloudtrail", "cloudtrail/test-console-login-json.log", 3, "aws.cloudtrail"),
        ("cloudtrail", "cloudtrail/test-assume-role-aws-service-json.log", 1, "aws.cloudtrail"),
        ("waf", "waf/test-waf.log", 4, "aws.waf"),
        ("guardduty", "guardduty/test-guard_duty.log", 2, "aws.guardduty"),
    ],
)
def test_every_document_has_the_common_ecs_fields(source: str, path: str, count: int, dataset: str) -> None:
    docs, skipped = normalize(source, (DATA / path).read_bytes())
    assert (len(docs), skipped) == (count, 0)
    for doc in docs:
        assert doc["@timestamp"].endswith("Z") and doc["@timestamp"][10] == "T"
        assert doc["event"]["dataset"] == dataset and doc["event"]["action"]
        assert doc["cloud"]["region"] and doc["cloud"]["account"]["id"]
        json.dumps(doc)  # nested, serialisable


def test_cloudtrail_fields() -> None:
    docs, _ = normalize("cloudtrail", (DATA / "cloudtrail/test-console-login-json.log").read_bytes())
    ok, failed, role = docs
    assert ok["event"]["outcome"] == "success" and failed["event"]["outcome"] == "failure"
    assert ok["source"] == {"address": "89.160.20.156", "ip": "89.160.20.156"}
    assert ok["user"]["name"] == "JohnDoe" and ok["cloud"]["account"]["id"] == "111122223333"
    assert role["user"]["name"] == "RoleToBeAssumed"
    assert role["aws"]["cloudtrail"]["user_identity"]["session_context"]["mfa_authenticated"] == "false"
    assert ok["aws"]["cloudtrail"]["response_elements"] == {"ConsoleLogin": "Success"}


def test_service_host_names_stay_out_of_ip_fields() -> None:
    (doc,), _ = normalize("cloudtrail", (DATA / "cloudtrail/test-assume-role-aws-service-json.log").read_bytes())
    assert doc["source"] == {"address": "ec2.amazonaws.com"}
    assert doc["aws"]["cloudtrail"]["resources"][0]["type"] == "AWS::IAM::Role"


def test_cloudtrail_containers_all_give_the_same_documents() -> None:
    records = [json.loads(line) for line in CT_LINES]
    expected, _ = normalize("cloudtrail", "\n".join(CT_LINES).encode())
    s3_object = gzip.compress(json.dumps({"Records": records}).encode())
    subscription = json.dumps({"awslogs": {"data": _cwl_payload(CT_LINES)}}).encode()
    for payload in (s3_object, json.dumps(records).encode(), subscription, _cwl_payload(CT_LINES).encode()):
        assert normalize("cloudtrail", payload) == (expected, 0)


def test_one_bad_record_never_loses_the_others() -> None:
    lines = [*CT_LINES, CT_LINES[0][:80], '{"eventName": "NoTime"}', "[]", '{"eventTime": 5, "eventName": "x"}']
    docs, skipped = normalize("cloudtrail", "\n".join(lines).encode())
    assert (len(docs), skipped) == (3, 4)
    event = {"awslogs": {"data": _cwl_payload([*CT_SERVICE, "not json", CT_LINES[1]])}}
    recs_docs, recs_skipped = cloudtrail.records_from_object(event)
    assert (len(recs_docs), recs_skipped) == (2, 1)


def test_huge_fields_are_clipped() -> None:
    record = json.loads(CT_LINES[0])
    record["userAgent"] = "A" * 2_000_000
    (doc,), _ = normalize_records("cloudtrail", [record])
    assert len(doc["user_agent"]["original"]) == 4096


def test_cloudtrail_objects_kept_and_non_objects_wrapped() -> None:
    record = json.loads(CT_LINES[0])
    record["requestParameters"] = {"ipPermissions": {"items": [{"fromPort": 22}]}}
    record["responseElements"] = "accepted"
    record["additionalEventData"] = ["a", "b"]
    (doc,), _ = normalize_records("cloudtrail", [record])
    trail = doc["aws"]["cloudtrail"]
    assert trail["request_parameters"] == {"ipPermissions": {"items": [{"fromPort": 22}]}}
    assert trail["response_elements"] == {"value": "accepted"}
    assert trail["additional_eventdata"] == {"value": ["a", "b"]}
    assert "image_scan" not in trail


def test_ecr_scan_severity_counts_are_integers() -> None:
    record = json.loads(CT_LINES[0])
    counts = {"HIGH": 2, "CRITICAL": 1, "MEDIUM": "3", "BOGUS": 9, "LOW": True}
    record["responseElements"] = {"imageScanFindings": {"findingSeverityCounts": counts}}
    (doc,), _ = normalize_records("cloudtrail", [record])
    assert doc["aws"]["cloudtrail"]["image_scan"] == {"severity_counts": {"high": 2, "critical": 1}}


def test_waf_fields() -> None:
    docs, _ = normalize("waf", (DATA / "waf/test-waf.log").read_bytes())
    blocked, allowed, group, _ = docs
    assert blocked["@timestamp"] == "2019-12-13T23:40:12.771Z"
    assert blocked["event"]["action"] == "block" and allowed["event"]["action"] == "allow"
    assert blocked["source"]["ip"] == "89.160.20.156" and blocked["source"]["geo"]["country_iso_code"] == "AU"
    assert blocked["http"]["request"]["method"] == "GET" and blocked["url"]["path"] == "/foo"
    assert blocked["url"]["domain"] == "localhost:1989" and blocked["user_agent"]["original"] == "curl/7.61.1"
    assert blocked["rule"]["id"] == "STMTest_SQLi_XSS"
    assert group["rule"]["ruleset"].endswith(":global/rulegroup/hello-world/c05lb698-1f11-4m41-aef4-99a506d53f4b")
    assert allowed["cloud"] == {"provider": "aws", "region": "us-east-1", "account": {"id": "123456789012"}}


def test_waf_firehose_processor_never_fails_the_batch() -> None:
    records = [
        {"recordId": f"r{n}", "data": base64.b64encode(line.encode()).decode()} for n, line in enumerate(WAF_LINES)
    ]
    records += [
        {"recordId": "truncated", "data": base64.b64encode(WAF_LINES[0][:50].encode()).decode()},
        {"recordId": "not-base64", "data": "%%%"},
        {"recordId": "no-request", "data": base64.b64encode(b'{"timestamp": 1, "action": "BLOCK"}').decode()},
    ]
    event = {
        "invocationId": "i",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:1:deliverystream/waf",
        "records": records,
    }
    response = handlers.waf_firehose_handler(event, None)
    results = {r["recordId"]: r["result"] for r in response["records"]}
    assert [r["recordId"] for r in response["records"]] == [r["recordId"] for r in records]
    assert list(results.values()) == ["Ok"] * 4 + ["ProcessingFailed"] * 3
    first = json.loads(base64.b64decode(response["records"][0]["data"]))
    assert first["event"]["dataset"] == "aws.waf"
    assert response["records"][-2]["data"] == "%%%"  # original data kept for Firehose's error output
    assert transform_firehose({"records": "garbage"})[0] == {"records": []}


def test_guardduty_fields_and_eventbridge_envelope() -> None:
    finding = json.loads(GD_LINES[0])
    event = {
        "version": "0",
        "id": "c8c4daa7-a20c-2f03-0070-b7393dd542ad",
        "detail-type": "GuardDuty Finding",
        "source": "aws.guardduty",
        "account": finding["accountId"],
        "time": finding["updatedAt"],
        "region": finding["region"],
        "resources": [],
        "detail": finding,
    }
    (bare,), _ = normalize_records("guardduty", [finding])
    (wrapped,), _ = normalize_records("guardduty", [event])
    assert bare == wrapped
    assert bare["aws"]["guardduty"]["severity"] == {"value": 8.0, "label": "High"}
    assert bare["rule"] == {"name": "Impact:S3/MaliciousIPCaller", "category": "Impact"}
    assert bare["source"]["ip"] == "81.2.69.144" and "number" not in bare["source"]["as"]  # asn "-1"
    assert bare["aws"]["guardduty"]["resource"]["s3_bucket_names"] == ["bucketName"]
    (network,), _ = normalize_records("guardduty", [json.loads(GD_LINES[1])])
    assert network["aws"]["guardduty"]["severity"]["label"] == "Low"
    assert network["network"] == {"transport": "tcp", "direction": "egress"}
    assert network["source"]["port"] == 5985 and network["destination"] == {"ip": "10.0.0.23", "port": 32794}


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (0.1, "Low"),
        (3.9, "Low"),
        (4.0, "Medium"),
        (6.9, "Medium"),
        (7.0, "High"),
        (8.9, "High"),
        (9.0, "Critical"),
        (10, "Critical"),
    ],
)
def test_guardduty_severity_bands(value: float, label: str) -> None:
    assert severity_label(value) == label


class _Bulk(BaseHTTPRequestHandler):
    """A stand-in OpenSearch `_bulk`: answers from a script and records what it received."""

    script: ClassVar[list[object]] = []
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers.items()), body))
        step = type(self).script.pop(0) if type(self).script else "ok"
        lines = [json.loads(line) for line in body.splitlines()]
        if isinstance(step, int):
            self.send_response(step)
            self.end_headers()
            return
        statuses = step if isinstance(step, list) else [201] * (len(lines) // 2)
        items = [
            {"index": {"status": s, **({"error": {"type": "mapper_parsing_exception"}} if s >= 400 else {})}}
            for s in statuses
        ]
        payload = json.dumps({"errors": any(s >= 300 for s in statuses), "items": items}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        """Quiet: the tests read `received` instead of the server's access log."""


@pytest.fixture()
def bulk_server() -> Iterator[str]:
    _Bulk.script, _Bulk.received = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Bulk)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


CREDS = Credentials("AKIDEXAMPLE", "secret-example", "token-example")


def test_bulk_indexing_signs_with_sigv4_and_uses_daily_indices(bulk_server: str) -> None:
    docs, _ = normalize("cloudtrail", "\n".join(CT_LINES).encode())
    result = BulkIndexer(bulk_server, "us-east-2", CREDS, prefix="sec").index("cloudtrail", docs)
    assert (result.indexed, result.failed) == (3, 0)
    ((headers, body),) = _Bulk.received
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/us-east-2/es/aws4_request" in headers["Authorization"]
    assert headers["X-Amz-Security-Token"] == "token-example"
    actions = [json.loads(line)["index"] for line in body.splitlines()[::2]]
    assert [a["_index"] for a in actions] == [
        "sec-cloudtrail-2014.07.16",
        "sec-cloudtrail-2014.07.08",
        "sec-cloudtrail-2014.07.08",
    ]
    # The sample's last two records share an eventID and time: one event, one _id (retries overwrite).
    assert len({a["_id"] for a in actions}) == 2


def test_bulk_retries_throttling_and_counts_rejected_documents(bulk_server: str) -> None:
    docs, _ = normalize("waf", (DATA / "waf/test-waf.log").read_bytes())
    _Bulk.script = [503, [201, 429, 400, 201], [201]]
    sleeps: list[float] = []
    result = BulkIndexer(bulk_server, "us-east-1", CREDS, backoff=Backoff(sleep=sleeps.append)).index("waf", docs)
    assert (result.indexed, result.failed) == (3, 1)
    assert result.errors == ["HTTP 400: mapper_parsing_exception"]
    assert sleeps == [0.5, 1.0]
    assert [body.count(b"\n") for _, body in _Bulk.received] == [8, 8, 2]


def test_bulk_gives_up_loudly_when_opensearch_stays_down(bulk_server: str) -> None:
    _Bulk.script = [503, 503, 503, 503]
    pauses: list[float] = []
    indexer = BulkIndexer(bulk_server, "us-east-1", CREDS, backoff=Backoff(sleep=pauses.append))
    with pytest.raises(BulkError, match="after 4 attempts"):
        indexer.index("guardduty", normalize("guardduty", (DATA / "guardduty/test-guard_duty.log").read_bytes())[0])
    assert len(_Bulk.received) == 4  # every attempt really reached the server
    assert len(pauses) == 3 and pauses == sorted(pauses) and pauses[0] > 0  # growing backoff between them


def test_endpoint_must_be_https() -> None:
    with pytest.raises(ValueError, match="must be https"):
        BulkIndexer("http://search.example.com", "us-east-1", CREDS)
    # The same host over https is accepted: the refusal is about the scheme, not the name.
    assert BulkIndexer("https://search.example.com/", "us-east-1", CREDS).url == "https://search.example.com/_bulk"


def test_handlers_index_through_the_environment(bulk_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", bulk_server)
    monkeypatch.setenv("INDEX_PREFIX", "audit")
    monkeypatch.setenv("AWS_REGION", "us-east-2")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(handlers, "_indexer", None)
    summary = handlers.cloudtrail_handler({"awslogs": {"data": _cwl_payload([*CT_LINES, "oops"])}}, None)
    assert summary == {"source": "cloudtrail", "documents": 3, "indexed": 3, "failed": 0, "skipped": 1}
    finding = json.loads(GD_LINES[1])
    event = {"detail-type": "GuardDuty Finding", "source": "aws.guardduty", "detail": finding}
    assert handlers.guardduty_handler(event, None)["indexed"] == 1
    indices = [json.loads(body.splitlines()[0])["index"]["_index"] for _, body in _Bulk.received]
    assert indices == ["audit-cloudtrail-2014.07.16", "audit-guardduty-2022.01.28"]


def test_cloudtrail_lambda_keeps_a_batch_with_one_record_too_deep(
    bulk_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: the awslogs path raised RecursionError and the whole subscription batch was lost.
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", bulk_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(handlers, "_indexer", None)
    deep = "[" * 100_000 + "]" * 100_000
    summary = handlers.cloudtrail_handler({"awslogs": {"data": _cwl_payload([deep, *CT_LINES])}}, None)
    assert summary == {"source": "cloudtrail", "documents": 3, "indexed": 3, "failed": 0, "skipped": 1}
    records = [base64.b64encode(text.encode()).decode() for text in ("[" * 100_000 + "]" * 100_000, WAF_LINES[1])]
    response, failed = transform_firehose({"records": [{"recordId": str(n), "data": d} for n, d in enumerate(records)]})
    assert failed == 1 and [r["result"] for r in response["records"]] == ["ProcessingFailed", "Ok"]


def test_waf_sensitive_query_parameters_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    # Before: `url.query` kept token=…&password=… verbatim, though Authorization and Cookie are redacted.
    record = json.loads(WAF_LINES[0])
    record["httpRequest"]["args"] = "q=shoes&Token=abc123&PASS%77ORD=hunter2&api_key=k&page=2&x-amz-signature=s&otp=9"
    doc = normalize("waf", json.dumps(record).encode())[0][0]
    query = doc["url"]["query"]
    assert query == "q=shoes&Token=REDACTED&PASS%77ORD=REDACTED&api_key=REDACTED&page=2&x-amz-signature=REDACTED&otp=9"
    monkeypatch.setenv("REDACT_QUERY_PARAMETERS", "otp, page")  # the waf module's redact_query_parameters
    response, _ = transform_firehose(
        {"records": [{"recordId": "1", "data": base64.b64encode(json.dumps(record).encode()).decode()}]}
    )
    indexed = json.loads(base64.b64decode(response["records"][0]["data"]))
    assert indexed["url"]["query"].endswith("&page=REDACTED&x-amz-signature=REDACTED&otp=REDACTED")
    assert "abc123" not in json.dumps(indexed) and "hunter2" not in json.dumps(indexed)

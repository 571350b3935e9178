"""The configurator Lambda's call sequence against a stub peer that enforces SigV4 (verified with botocore)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.credentials import Credentials

from provisioner.functions.opensearch_config import ApiError, Client
from provisioner.functions.opensearch_config.handler import run
from provisioner.opensearch.content import CHANNEL_ID, Settings, build
from tests.opensearch.stub import REGION, StubOpenSearch

REPO = Path(__file__).resolve().parents[2]
CREDS = Credentials("AKIDSTUBADMIN", "stub-secret-key", "stub-session-token")
BINDINGS = {
    "admin_role_arn": "arn:aws:iam::123456789012:role/dso-dev-opensearch-admin",
    "ingest_role_arns": [
        "arn:aws:iam::123456789012:role/dso-dev-cloudtrail-normalizer-role",
        "arn:aws:iam::123456789012:role/dso-dev-waf-firehose",
    ],
    "alerts_topic_arn": "arn:aws:sns:eu-west-1:123456789012:dso-dev-security-alerts",
    "alerts_publish_role_arn": "arn:aws:iam::123456789012:role/dso-dev-os-alerts-publish",
}
RETENTION = {"cloudtrail": (30, 365), "guardduty": (30, 365), "waf": (7, 90)}


@pytest.fixture(scope="module")
def content() -> dict[str, Any]:
    settings = Settings(analyst_role_arns=("arn:aws:iam::123456789012:role/analyst",), retention=RETENTION)
    return build(settings, REPO)


@pytest.fixture()
def stub() -> Iterator[StubOpenSearch]:
    with StubOpenSearch(CREDS) as peer:
        yield peer


def _event(content: dict[str, Any], mode: str = "apply") -> dict[str, Any]:
    # As Terraform sends it: the content is the file's text, not an object.
    return {"mode": mode, "content": json.dumps(content), "bindings": BINDINGS}


def test_second_run_writes_nothing(stub: StubOpenSearch, content: dict[str, Any]) -> None:
    client = Client(stub.url, REGION, CREDS)
    first = run(client, _event(content))
    total = len(content["objects"])
    assert first["counts"] == {"created": total}
    assert len(stub.writes) == total
    second = run(Client(stub.url, REGION, CREDS), _event(content))
    assert second["counts"] == {"unchanged": total}
    assert second["objects"] == []
    assert len(stub.writes) == total  # no write at all on the second run
    assert stub.signature_failures == 0


def test_placeholders_are_bound_to_terraform_values(stub: StubOpenSearch, content: dict[str, Any]) -> None:
    run(Client(stub.url, REGION, CREDS), _event(content))
    mappings = stub.store["rolesmapping"]
    assert mappings["log_ingest"]["backend_roles"] == BINDINGS["ingest_role_arns"]
    assert mappings["all_access"]["backend_roles"] == [BINDINGS["admin_role_arn"]]
    assert mappings["security_analyst"]["backend_roles"] == ["arn:aws:iam::123456789012:role/analyst"]
    sns = stub.store["channels"][CHANNEL_ID]["sns"]
    assert sns == {"topic_arn": BINDINGS["alerts_topic_arn"], "role_arn": BINDINGS["alerts_publish_role_arn"]}
    for entry in stub.store["monitors"].values():
        for trigger in entry["monitor"]["triggers"]:
            body = trigger.get("bucket_level_trigger", trigger)  # bucket-level monitors wrap their triggers
            assert [a["destination_id"] for a in body["actions"]] == [CHANNEL_ID]


def test_compare_reports_changes_made_by_hand_and_apply_repairs_only_those(
    stub: StubOpenSearch, content: dict[str, Any]
) -> None:
    run(Client(stub.url, REGION, CREDS), _event(content))
    writes = len(stub.writes)
    # By hand: a monitor's threshold raised, an extra backend role mapped to all_access, a policy removed.
    monitor = next(m for m in stub.store["monitors"].values() if m["monitor"]["name"] == "cloudtrail-root-activity")
    monitor["monitor"] = copy.deepcopy(monitor["monitor"])
    monitor["monitor"]["triggers"][0]["condition"]["script"]["source"] = "ctx.results[0].hits.total.value > 5000"
    stub.store["rolesmapping"]["all_access"]["backend_roles"].append("arn:aws:iam::123456789012:role/intruder")
    del stub.store["ism"]["logs-waf-retention"]

    report = run(Client(stub.url, REGION, CREDS), _event(content, mode="compare"))
    found = {(o["kind"], o["name"]): o for o in report["objects"]}
    assert set(found) == {
        ("monitor", "cloudtrail-root-activity"),
        ("security_role_mapping", "all_access"),
        ("ism_policy", "logs-waf-retention"),
    }
    assert found[("ism_policy", "logs-waf-retention")]["status"] == "missing"
    assert found[("monitor", "cloudtrail-root-activity")]["differences"] == [
        "triggers[0].condition.script.source: expected "
        '"ctx.results[0].hits.total.value > 0", found "ctx.results[0].hits.total.value > 5000"'
    ]
    assert found[("security_role_mapping", "all_access")]["status"] == "differs"
    assert len(stub.writes) == writes  # compare never writes

    repaired = run(Client(stub.url, REGION, CREDS), _event(content))
    assert repaired["counts"] == {"unchanged": len(content["objects"]) - 3, "updated": 2, "created": 1}
    assert len(stub.writes) == writes + 3
    assert stub.store["rolesmapping"]["all_access"]["backend_roles"] == [BINDINGS["admin_role_arn"]]


def test_a_refusal_stops_the_run_with_opensearchs_error_text(stub: StubOpenSearch, content: dict[str, Any]) -> None:
    error = {
        "error": {
            "type": "mapper_parsing_exception",
            "reason": "No handler for type [flat_object] declared on field [x]",
        },
        "status": 400,
    }
    stub.refuse["_index_template/"] = (400, error)
    with pytest.raises(ApiError) as caught:
        run(Client(stub.url, REGION, CREDS), _event(content))
    assert caught.value.status == 400
    assert "PUT /_index_template/logs-cloudtrail: HTTP 400" in str(caught.value)
    assert "No handler for type [flat_object] declared on field [x]" in str(caught.value)
    assert not stub.store["templates"] and not stub.store["monitors"]  # nothing after the refusal ran


def test_the_stub_refuses_a_wrong_signature(stub: StubOpenSearch, content: dict[str, Any]) -> None:
    wrong = Credentials(CREDS.access_key, "not-the-secret", CREDS.token)
    with pytest.raises(ApiError) as caught:
        run(Client(stub.url, REGION, wrong), _event(content))
    assert caught.value.status == 403
    assert stub.signature_failures == 1 and not stub.writes


def test_unbound_placeholder_and_bad_content_are_refused(stub: StubOpenSearch, content: dict[str, Any]) -> None:
    from provisioner.functions.opensearch_config.handler import ConfigurationError

    client = Client(stub.url, REGION, CREDS)
    partial = {k: v for k, v in BINDINGS.items() if k != "alerts_topic_arn"}
    with pytest.raises(ConfigurationError, match=r"\$\{alerts_topic_arn\}"):
        run(client, {"content": content, "bindings": partial})
    with pytest.raises(ConfigurationError, match="content is not JSON"):
        run(client, {"content": "{nope", "bindings": BINDINGS})
    with pytest.raises(ConfigurationError, match=r"objects\[0\]: needs kind"):
        run(client, {"content": {"objects": [{"kind": "cluster_settings", "name": "x", "body": {}}]}})
    with pytest.raises(ConfigurationError, match="mode must be one of"):
        run(client, {"content": content, "bindings": BINDINGS, "mode": "destroy"})


def test_lambda_handler_assumes_the_admin_role_and_signs_with_its_session(aws: str, content: dict[str, Any]) -> None:
    """The whole handler: STS AssumeRole on the moto server, then SigV4 with the session the stub looks up there."""
    from moto.sts.models import sts_backends

    from provisioner.functions.opensearch_config.handler import lambda_handler

    def moto_session(access_key: str) -> Credentials | None:
        for account in sts_backends.values():
            for backend in account.values():
                for role in backend.assumed_roles:
                    if role.access_key_id == access_key and role.role_arn == BINDINGS["admin_role_arn"]:
                        return Credentials(role.access_key_id, role.secret_access_key, role.session_token)
        return None

    with StubOpenSearch(moto_session) as peer:
        event = {**_event(content), "endpoint": peer.url, "admin_role_arn": BINDINGS["admin_role_arn"]}
        result = lambda_handler(event, None)
        assert result["counts"] == {"created": len(content["objects"])}
        assert peer.signature_failures == 0
        assert lambda_handler(event, None)["counts"] == {"unchanged": len(content["objects"])}
        with pytest.raises(Exception, match="event needs endpoint"):
            lambda_handler({**event, "endpoint": ""}, None)

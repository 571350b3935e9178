"""The plan scan judges what the plan knows (issue 12): failures on values unknown until apply.

Fed the first real plan of the dev stack (aws provider 5.100.0 against moto) and Checkov's real reports of it
and of the rendered configuration (tests/data/plans/dev-first-plan*, made by scripts/record_real_plan.py).
"""

from __future__ import annotations

import copy
import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from provisioner import plan_unknowns
from provisioner.scan import evaluate
from provisioner.spec import CheckovPolicy, CheckSkip

DATA = Path(__file__).resolve().parent / "data" / "plans"


def _load(name: str) -> Any:
    with gzip.open(DATA / name, "rt", encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def plan() -> dict[str, Any]:
    return _load("dev-first-plan.json.gz")


@pytest.fixture(scope="module")
def plan_report() -> list[dict[str, Any]]:
    return _load("dev-first-plan.checkov-plan.json.gz")


@pytest.fixture(scope="module")
def verdicts() -> dict[tuple[str, str], set[str]]:
    return plan_unknowns.config_verdicts(_load("dev-first-plan.checkov-config.json.gz"))


# The repository's policy before issue 12: no skip for the two real findings.
POLICY = CheckovPolicy(
    skip=[
        CheckSkip(id=i, reason="policy of environments/_defaults.yaml before issue 12")
        for i in (
            "CKV2_AWS_62",
            "CKV_AWS_144",
            "CKV_AWS_272",
            "CKV2_AWS_3",
            "CKV_AWS_318",
            "CKV2_AWS_59",
            "CKV_AWS_145",
        )
    ]
)


def _judged(plan: dict[str, Any], report: list[dict[str, Any]], verdicts: Any) -> tuple[Counter[str], Counter[str]]:
    result = evaluate(report, POLICY, "plan", Path("/"), defer=plan_unknowns.deferral(plan, verdicts))
    return Counter(c.check_id for c in result.failed), Counter(c.check_id for c in result.deferred)


def _only(report: list[dict[str, Any]], check_id: str, resource: str) -> list[dict[str, Any]]:
    """The recorded report narrowed to one failed check on one resource."""
    narrowed = copy.deepcopy(report)
    for item in narrowed:
        item["results"]["failed_checks"] = [
            c for c in item["results"]["failed_checks"] if c["check_id"] == check_id and c["resource"] == resource
        ]
        assert item["results"]["failed_checks"], (check_id, resource)
    return narrowed


def test_recorded_plan_scan_fails_31_checks_without_reconciliation(plan_report: list[dict[str, Any]]) -> None:
    """The finding of issue 12, as Checkov reports it: 29 false positives and 2 real ones."""
    failed = Counter(c.check_id for c in evaluate(plan_report, POLICY, "plan", Path("/")).failed)
    assert sum(failed.values()) == 31
    assert failed["CKV_AWS_158"] == 15 and failed["CKV_AWS_27"] == 4 and failed["CKV_AWS_147"] == 4


def test_whole_first_plan_leaves_only_the_two_real_findings(plan: Any, plan_report: Any, verdicts: Any) -> None:
    failed, deferred = _judged(plan, plan_report, verdicts)
    assert failed == Counter({"CKV_AWS_18": 1, "CKV_AWS_61": 1})
    assert deferred == Counter(
        {
            "CKV_AWS_158": 15,
            "CKV_AWS_27": 4,
            "CKV_AWS_147": 4,
            "CKV_AWS_173": 2,
            "CKV_AWS_219": 1,
            "CKV_AWS_247": 1,
            "CKV_AWS_26": 1,
            "CKV_AWS_35": 1,
        }
    )


# One case per false-positive class: (check, resource, what the plan does not know).
FALSE_POSITIVES = [
    # the KMS key ARN of module.shared in a top-level attribute
    ("CKV_AWS_158", "module.network.aws_cloudwatch_log_group.flow_logs", "kms_key_id"),
    ("CKV_AWS_26", "module.cloudtrail.aws_sns_topic.delivery", "kms_master_key_id"),
    ("CKV_AWS_35", "module.cloudtrail.aws_cloudtrail.this", "kms_key_id"),
    ("CKV_AWS_173", "module.cloudtrail.module.normalizer.aws_lambda_function.this", "kms_key_arn"),
    # ... inside a nested block, written with list indices by Checkov
    ("CKV_AWS_247", "module.opensearch.aws_opensearch_domain.this", "encrypt_at_rest/[0]/kms_key_id"),
    ("CKV_AWS_219", "module.pipeline.aws_codepipeline.this", "artifact_store/[0]/encryption_key/[0]/id"),
    # ... next to an attribute the plan knows (artifact type) or another unknown one (SSE flag)
    ("CKV_AWS_147", 'module.pipeline.aws_codebuild_project.this["sca"]', "encryption_key"),
    ("CKV_AWS_27", "module.findings.module.importer.aws_sqs_queue.dlq", "kms_master_key_id"),
]


@pytest.mark.parametrize(("check_id", "resource", "unknown"), FALSE_POSITIVES, ids=[c[0] for c in FALSE_POSITIVES])
def test_false_positive_class_is_judged_by_the_configuration_scan(
    plan: Any, plan_report: Any, verdicts: Any, check_id: str, resource: str, unknown: str
) -> None:
    unknowns = plan_unknowns.unknowns_by_address(plan)
    assert plan_unknowns.is_unknown(unknowns[resource], unknown)
    failed, deferred = _judged(plan, _only(plan_report, check_id, resource), verdicts)
    assert (failed, deferred) == (Counter(), Counter({check_id: 1}))


def _with_known(plan: dict[str, Any], address: str, attribute: str, value: Any) -> dict[str, Any]:
    """The plan as if `attribute` of `address` were known at plan time, with `value`."""
    changed = copy.deepcopy(plan)
    for change in changed["resource_changes"]:
        if change["address"] == address:
            change["change"]["after_unknown"].pop(attribute, None)
            change["change"]["after"][attribute] = value
            return changed
    raise AssertionError(address)


def test_a_check_failing_on_a_known_value_stays_failed(plan: Any, plan_report: Any, verdicts: Any) -> None:
    address = "module.network.aws_cloudwatch_log_group.flow_logs"
    known_empty = _with_known(plan, address, "kms_key_id", None)
    failed, deferred = _judged(known_empty, _only(plan_report, "CKV_AWS_158", address), verdicts)
    assert (failed, deferred) == (Counter({"CKV_AWS_158": 1}), Counter())


def test_unknown_value_without_a_passing_configuration_verdict_stays_failed(plan: Any, plan_report: Any) -> None:
    address = "module.network.aws_cloudwatch_log_group.flow_logs"
    report = _only(plan_report, "CKV_AWS_158", address)
    for verdicts in ({}, {("CKV_AWS_158", address): {"passed", "failed"}}, {("CKV_AWS_158", address): {"failed"}}):
        failed, deferred = _judged(plan, report, verdicts)
        assert (failed, deferred) == (Counter({"CKV_AWS_158": 1}), Counter()), verdicts


def test_graph_check_on_an_unknown_attribute_stays_failed(plan: Any, plan_report: Any, verdicts: Any) -> None:
    """CKV_AWS_18 reads `logging` (unknown: computed) but judges the missing aws_s3_bucket_logging connection,
    which the plan knows; the configuration scan passed it only because it ignores `count = 0`."""
    address = "module.shared.module.access_logs.aws_s3_bucket.this"
    assert plan_unknowns.is_unknown(plan_unknowns.unknowns_by_address(plan)[address], "logging")
    assert verdicts[("CKV_AWS_18", address)] == {"passed"}
    failed, _ = _judged(plan, _only(plan_report, "CKV_AWS_18", address), verdicts)
    assert failed == Counter({"CKV_AWS_18": 1})


def test_known_principal_in_the_plan_stays_failed(plan: Any, plan_report: Any, verdicts: Any) -> None:
    failed, _ = _judged(plan, _only(plan_report, "CKV_AWS_61", "module.opensearch.aws_iam_role.admin[0]"), verdicts)
    assert failed == Counter({"CKV_AWS_61": 1})


@pytest.mark.parametrize(
    ("after_unknown", "key", "expected"),
    [
        ({"kms_key_id": True}, "kms_key_id", True),
        ({"arn": True}, "kms_key_id", False),
        ({"encrypt_at_rest": [{"kms_key_id": True}]}, "encrypt_at_rest/[0]/kms_key_id", True),
        ({"encrypt_at_rest": [{"kms_key_id": True}]}, "encrypt_at_rest/[1]/kms_key_id", False),
        ({"encrypt_at_rest": [{}]}, "encrypt_at_rest/[0]/kms_key_id", False),
        ({"rule": [{}, {"status": True}]}, "rule/*/status", True),
        ({"sse": [{"rule": [{"algo": True}]}]}, "sse/rule/algo", True),
        ({"cluster_config": [{"zone_awareness_config": [{}]}]}, "cluster_config", False),
        ({"cluster_config": True}, "cluster_config/[0]/instance_count", True),
    ],
)
def test_is_unknown_paths(after_unknown: dict[str, Any], key: str, expected: bool) -> None:
    assert plan_unknowns.is_unknown(after_unknown, key) is expected


def test_resource_key_drops_instance_keys() -> None:
    assert plan_unknowns.resource_key('module.a.aws_x.this["build"]') == "module.a.aws_x.this"
    assert plan_unknowns.resource_key("module.a[0].aws_x.this[2]") == "module.a.aws_x.this"

"""The opensearch module's configurator wiring, read from its HCL (python-hcl2), and its contract with the host."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from provisioner.opensearch.content import BINDINGS
from provisioner.package import LAMBDA_FUNCTIONS
from tests.hcl_modules import as_list, module
from tests.test_modules_monitoring import block, one
from tests.test_modules_monitoring import module_statements as policy_statements

REPO = Path(__file__).resolve().parents[2]


def _statements(doc: str) -> dict[str, dict[str, object]]:
    return {s.get("sid", ""): s for where, s in policy_statements("opensearch") if where == f"opensearch:{doc}"}


def test_invocation_reruns_on_content_bindings_or_code_and_can_be_switched_off() -> None:
    invocation = one("opensearch", "aws_lambda_invocation", "configure")
    assert invocation["count"] == "${var.configure_domain ? 1 : 0}"
    assert invocation["function_name"] == "${module.configurator.function_name}"
    assert set(invocation["triggers"]) == {"content", "bindings", "code"}
    assert "sha256(local.content)" in invocation["triggers"]["content"]
    assert "var.configurator_package.source_code_hash" in invocation["triggers"]["code"]
    assert 'mode = "apply"' in re.sub(r"\s+", " ", invocation["input"])
    assert "${aws_opensearch_domain_policy.this}" in invocation["depends_on"]
    assert module("opensearch")["variable"]["configure_domain"]["default"] is True


def test_bindings_are_exactly_the_placeholders_the_content_uses() -> None:
    bindings = module("opensearch")["locals"]["bindings"]
    assert set(bindings) == set(BINDINGS)


def test_configurator_lambda_reaches_only_the_vpc_and_may_only_become_the_admin() -> None:
    call = module("opensearch")["module"]["configurator"]
    assert call["source"] == "../lambda_function"
    assert call["package"] == "${var.configurator_package}"
    assert call["egress_cidr_blocks"] == ["${var.vpc_cidr}"]
    assert "https_egress_to_internet" not in call
    (statement,) = _statements("configurator").values()
    assert statement["actions"] == ["sts:AssumeRole"]
    assert statement["resources"] == ["${local.admin_role_arn}"]
    ingress = one("opensearch", "aws_vpc_security_group_ingress_rule", "configurator")
    assert ingress["referenced_security_group_id"] == "${module.configurator.security_group_id}"


def test_admin_role_trusts_the_configurator_and_may_pass_only_the_publish_role() -> None:
    trust = _statements("admin_assume")["ConfiguratorActsAsAdmin"]
    assert block(trust, "principals")["identifiers"] == ["${module.configurator.role_arn}"]
    passing = _statements("admin")["PassAlertsPublishRole"]
    assert passing["actions"] == ["iam:PassRole"]
    assert passing["resources"] == ["${aws_iam_role.alerts_publish.arn}"]


def test_publish_role_is_assumed_by_opensearch_of_this_account_and_only_publishes() -> None:
    (trust,) = _statements("alerts_publish_assume").values()
    assert block(trust, "principals") == {"type": "Service", "identifiers": ["es.amazonaws.com"]}
    assert block(trust, "condition")["variable"] == "aws:SourceAccount"
    policy = _statements("alerts_publish")
    assert policy["PublishAlerts"]["actions"] == ["sns:Publish"]
    assert policy["PublishAlerts"]["resources"] == ["${var.alerts_topic_arn}"]
    kms = policy["EncryptForTopic"]
    assert block(kms, "condition")["variable"] == "kms:ViaService"
    assert as_list(kms["resources"]) == ["${var.kms_key_arn}"]


def test_environment_defaults_wire_the_topic_the_package_and_the_retention() -> None:
    defaults = yaml.safe_load((REPO / "environments" / "_defaults.yaml").read_text())
    component = defaults["components"]["opensearch"]
    assert component["wiring"]["alerts_topic_arn"] == "shared.alerts_topic_arn"
    assert component["wiring"]["configurator_package"] == "lambda.opensearch_configurator"
    assert set(component["inputs"]["index_retention"]) == {"cloudtrail", "guardduty", "waf"}
    assert LAMBDA_FUNCTIONS["opensearch_configurator"].endswith("opensearch_config.handler.lambda_handler")
    readme = (REPO / "modules" / "opensearch" / "README.md").read_text()
    assert "Operator step" not in readme
    assert not (REPO / "modules" / "opensearch" / "dashboards").exists()  # nothing left to apply by hand

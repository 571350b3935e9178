"""Security properties of the monitoring-side Terraform modules, read from their HCL.

Modules: shared, secure_bucket, lambda_function, waf, cloudtrail, guardduty, opensearch. The HCL is
parsed with python-hcl2; `terraform fmt` and the variable validations run on the real terraform binary (a copy
of a module's variables.tf needs no provider, so this stays offline).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hcl_modules import MODULES, REPO, Block, as_list, module, policy_statements

MY_MODULES = ("shared", "lambda_function", "secure_bucket", "waf", "cloudtrail", "guardduty", "opensearch")
NORMALIZER_CONSUMERS = ("waf", "cloudtrail", "guardduty")


def resources(name: str, type_name: str) -> dict[str, Block]:
    found: dict[str, Block] = module(name)["resource"].get(type_name, {})
    return found


def one(name: str, type_name: str, label: str = "this") -> Block:
    return resources(name, type_name)[label]


def block(body: Block, key: str) -> Block:
    """A nested block that occurs once (hcl2 gives a one-element list)."""
    value = body[key]
    assert isinstance(value, list) and len(value) == 1, f"{key} should be one block"
    first: Block = value[0]
    return first


def module_statements(name: str) -> Iterator[tuple[str, Block]]:
    """Every statement (static and dynamic) of every aws_iam_policy_document in a module."""
    for doc_name, doc in module(name)["data"].get("aws_iam_policy_document", {}).items():
        for statement in policy_statements(doc):
            yield f"{name}:{doc_name}", statement


def run_terraform(terraform_bin: Path, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(terraform_bin), *args], cwd=workdir, capture_output=True, text=True, timeout=120, check=False
    )


# ---------------------------------------------------------------- structure and formatting


def test_outputs_match_the_wiring_contract() -> None:
    expected = {
        "secure_bucket": {"id", "arn", "bucket_regional_domain_name"},
        "lambda_function": {"function_arn", "function_name", "role_arn", "security_group_id", "dead_letter_queue_arn"},
        "shared": {"kms_key_arn", "kms_key_id", "access_log_bucket_id", "alerts_topic_arn"},
        "waf": {"web_acl_arn", "firehose_role_arn", "normalizer_role_arn"},
        "cloudtrail": {"trail_arn", "log_group_name", "normalizer_role_arn", "bucket_id"},
        "guardduty": {"detector_id", "normalizer_role_arn"},
        "opensearch": {"domain_arn", "domain_endpoint", "domain_name", "security_group_id"},
    }
    for name, outputs in expected.items():
        assert outputs <= set(module(name)["output"]), name
    secure_bucket_inputs = module("secure_bucket")["variable"]
    assert set(secure_bucket_inputs) == {
        "name",
        "kms_key_arn",
        "access_log_bucket_id",
        "is_access_log_bucket",
        "force_destroy",
        "policy_statements_json",
        "expiration_days",
        "noncurrent_expiration_days",
        "tags",
    }
    # Being the (unlogged, SSE-S3) access-log bucket is an explicit opt-in, never a default.
    assert secure_bucket_inputs["is_access_log_bucket"]["default"] is False


# ---------------------------------------------------------------- IAM and network


@pytest.mark.parametrize("name", MY_MODULES)
def test_no_wildcard_actions_on_wildcard_resources(name: str) -> None:
    for where, statement in module_statements(name):
        if statement.get("effect") == "Deny":
            continue
        actions = as_list(statement.get("actions", []))
        resources_ = as_list(statement.get("resources", []))
        assert "*" not in actions, f"{where}: action *"
        assert not [a for a in actions if a.endswith(":*")], f"{where}: service-wide action"
        if "*" in resources_:
            # Only actions without resource-level permissions may be on "*".
            assert all(a.split(":")[1].startswith(("Describe", "PutTrace", "PutTelemetry")) for a in actions), (
                where,
                actions,
            )


@pytest.mark.parametrize("name", MY_MODULES)
def test_no_managed_policy_attachments(name: str) -> None:
    for type_name in ("aws_iam_role_policy_attachment", "aws_iam_policy_attachment", "aws_iam_user_policy"):
        assert not resources(name, type_name), f"{name}: {type_name}"
    for role in resources(name, "aws_iam_role").values():
        assert "managed_policy_arns" not in role


@pytest.mark.parametrize("name", MY_MODULES)
def test_service_principals_are_scoped_by_condition(name: str) -> None:
    for where, statement in module_statements(name):
        principals = statement.get("principals", [])
        if statement.get("effect") == "Deny" or not any(p["type"] == "Service" for p in principals):
            continue
        assert statement.get("condition"), f"{where}: service principal without condition ({statement.get('sid')})"


@pytest.mark.parametrize("name", MY_MODULES)
def test_no_ingress_from_the_internet(name: str) -> None:
    open_ranges = {"0.0.0.0/0", "::/0"}
    for sg_name, sg in resources(name, "aws_security_group").items():
        assert "ingress" not in sg, f"{name}: {sg_name} uses inline ingress (use ingress rule resources)"
        assert "egress" not in sg, f"{name}: {sg_name} uses inline egress"
    for rule_type in ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"):
        for rule_name, rule in resources(name, rule_type).items():
            assert rule.get("cidr_ipv4") not in open_ranges, f"{name}: {rule_type}.{rule_name}"
            assert "cidr_ipv6" not in rule, f"{name}: {rule_type}.{rule_name}"
            assert (rule["from_port"], rule["to_port"], rule["ip_protocol"]) == (443, 443, "tcp")
    assert not resources(name, "aws_security_group_rule")


# ---------------------------------------------------------------- encryption, logging, retention


@pytest.mark.parametrize("name", MY_MODULES)
def test_log_groups_are_encrypted_and_retained(name: str) -> None:
    for group_name, group in resources(name, "aws_cloudwatch_log_group").items():
        assert group["kms_key_id"] == "${var.kms_key_arn}", f"{name}: {group_name}"
        assert "retention_in_days" in group, f"{name}: {group_name}"
    for var_name, var in module(name)["variable"].items():
        if var_name.endswith("retention_days") and name != "secure_bucket":
            assert var["default"] >= 365, f"{name}: {var_name}"


def test_secure_bucket_hardening() -> None:
    bucket = "${aws_s3_bucket.this.id}"
    assert one("secure_bucket", "aws_s3_bucket_versioning")["bucket"] == bucket
    assert block(one("secure_bucket", "aws_s3_bucket_versioning"), "versioning_configuration")["status"] == "Enabled"
    pab = one("secure_bucket", "aws_s3_bucket_public_access_block")
    assert all(pab[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls"))
    assert pab["restrict_public_buckets"] is True
    ownership = block(one("secure_bucket", "aws_s3_bucket_ownership_controls"), "rule")
    assert ownership["object_ownership"] == "BucketOwnerEnforced"

    sse = block(one("secure_bucket", "aws_s3_bucket_server_side_encryption_configuration"), "rule")
    default = block(sse, "apply_server_side_encryption_by_default")
    # KMS with the stack key everywhere except the access-log sink (S3 logging cannot target SSE-KMS buckets).
    assert default["sse_algorithm"] == '${local.is_log_bucket ? "AES256" : "aws:kms"}'
    assert default["kms_master_key_id"] == "${local.is_log_bucket ? null : var.kms_key_arn}"
    assert sse["bucket_key_enabled"] == "${!local.is_log_bucket}"
    assert module("secure_bucket")["locals"]["is_log_bucket"] == "${var.is_access_log_bucket}"

    logging = one("secure_bucket", "aws_s3_bucket_logging")
    assert logging["count"] == "${local.is_log_bucket ? 0 : 1}"
    assert logging["target_bucket"] == "${var.access_log_bucket_id}"

    rule = block(one("secure_bucket", "aws_s3_bucket_lifecycle_configuration"), "rule")
    assert rule["status"] == "Enabled"
    assert block(rule, "abort_incomplete_multipart_upload")["days_after_initiation"] == 7
    assert block(rule, "noncurrent_version_expiration")["noncurrent_days"] == "${var.noncurrent_expiration_days}"

    statements = {s["sid"]: s for _, s in module_statements("secure_bucket")}
    tls = statements["DenyInsecureTransport"]
    assert tls["effect"] == "Deny" and tls["actions"] == ["s3:*"]
    assert tls["condition"][0] == {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}
    logs = statements["AllowS3ServerAccessLogs"]
    assert logs["principals"][0]["identifiers"] == ["logging.s3.amazonaws.com"]
    assert {c["variable"] for c in logs["condition"]} == {"aws:SourceAccount", "aws:SourceArn"}
    merged = module("secure_bucket")["data"]["aws_iam_policy_document"]["this"]
    assert "data.aws_iam_policy_document.tls_only.json" in merged["source_policy_documents"]


def test_every_bucket_is_a_secure_bucket() -> None:
    for name in MY_MODULES:
        if name != "secure_bucket":
            assert not resources(name, "aws_s3_bucket"), name
    sources = {
        f"{name}.{call}": body["source"]
        for name in MY_MODULES
        for call, body in module(name)["module"].items()
        if "bucket" in body["source"]
    }
    assert sources == {
        "shared.access_logs": "../secure_bucket",
        "cloudtrail.bucket": "../secure_bucket",
        "guardduty.bucket": "../secure_bucket",
        "waf.backup": "../secure_bucket",
    }
    assert module("shared")["module"]["access_logs"]["is_access_log_bucket"] is True
    for name, call in (("cloudtrail", "bucket"), ("guardduty", "bucket"), ("waf", "backup")):
        assert module(name)["module"][call]["access_log_bucket_id"] == "${var.access_log_bucket_id}"
        assert "is_access_log_bucket" not in module(name)["module"][call]


def test_shared_key_topic_and_key_policy() -> None:
    key = one("shared", "aws_kms_key")
    assert key["enable_key_rotation"] is True
    assert key["policy"] == "${jsonencode(local.key_policy)}"
    assert one("shared", "aws_sns_topic", "alerts")["kms_master_key_id"] == "${aws_kms_key.this.arn}"
    shared_locals = module("shared")["locals"]
    statements = {s["Sid"]: s for s in shared_locals["key_policy"]["Statement"]}
    for sid, statement in statements.items():
        assert statement["Effect"] == "Allow" and statement["Resource"] == "*"  # key policy: "*" is this key
        if sid == "AccountAdministersKeyThroughIam":
            assert statement["Principal"] == {"AWS": "${local.account_root}"}
            assert shared_locals["account_root"].endswith(":root")
        else:
            # Every service is admitted only with a condition and never with kms:*.
            assert set(statement["Principal"]) == {"Service"}, sid
            assert statement["Condition"], sid
            assert "kms:*" not in as_list(statement["Action"]), sid
    trail = statements["CloudTrailEncryptsTrailLogs"]["Condition"]
    assert "kms:EncryptionContext:aws:cloudtrail:arn" in trail["StringLike"]
    logs = statements["CloudWatchLogsEncryptsLogGroups"]
    assert logs["Principal"]["Service"] == "logs.${local.region}.amazonaws.com"
    assert "kms:EncryptionContext:aws:logs:arn" in logs["Condition"]["ArnLike"]
    guardduty = statements["GuardDutyEncryptsPublishedFindings"]["Condition"]
    assert guardduty["StringEquals"] == "${local.source_account}"
    assert guardduty["ArnLike"]["aws:SourceArn"].endswith(":detector/*")


@pytest.mark.parametrize("name", MY_MODULES)
def test_no_inline_checkov_skips(name: str) -> None:
    # Skips live only in the reviewed environment policy (environments/_defaults.yaml), each with a reason.
    for path in (MODULES / name).glob("*.tf"):
        assert "checkov:skip" not in path.read_text(), path


# ---------------------------------------------------------------- Lambdas


def test_lambda_function_indexes_only_its_own_family() -> None:
    runtime = module("lambda_function")["data"]["aws_iam_policy_document"]["runtime"]
    (dyn,) = [d["statement"] for d in runtime["dynamic"] if "statement" in d]
    content = dyn["content"][0] if isinstance(dyn["content"], list) else dyn["content"]
    assert content["actions"] == ["es:ESHttpPost", "es:ESHttpPut"]
    assert content["resources"] == [
        "${statement.value.domain_arn}/_bulk",
        "${statement.value.domain_arn}/${statement.value.index_prefix}-${statement.value.source}-*",
    ]


def test_lambda_function_hardening() -> None:
    fn = one("lambda_function", "aws_lambda_function")
    assert fn["runtime"] == "python3.12"
    assert fn["handler"] == "${var.package.handler}"
    assert fn["source_code_hash"] == "${var.package.source_code_hash}"
    # Every function has environment variables (LOG_LEVEL at least), always encrypted with the stack key.
    assert fn["kms_key_arn"] == "${var.kms_key_arn}"
    assert block(fn, "environment")["variables"] == "${local.environment}"
    locals_ = module("lambda_function")["locals"]
    assert locals_["environment"] == (
        "${merge({LOG_LEVEL = var.log_level}, local.index_environment, var.environment_variables)}"
    )
    # A normaliser's endpoint and index prefix reach its environment (the handlers read both).
    assert "OPENSEARCH_ENDPOINT = var.opensearch_index.endpoint" in locals_["index_environment"]
    assert "INDEX_PREFIX = var.opensearch_index.index_prefix" in locals_["index_environment"]
    assert fn["reserved_concurrent_executions"] == "${var.reserved_concurrency}"
    assert block(fn, "tracing_config")["mode"] == "Active"
    assert block(fn, "dead_letter_config")["target_arn"] == "${aws_sqs_queue.dlq.arn}"
    assert block(fn, "vpc_config")["subnet_ids"] == "${var.subnet_ids}"
    assert block(fn, "vpc_config")["security_group_ids"] == ["${aws_security_group.this.id}"]
    assert one("lambda_function", "aws_sqs_queue", "dlq")["kms_master_key_id"] == "${var.kms_key_arn}"
    # The role must not depend on the function's extra policy (which may reference the OpenSearch domain).
    role = one("lambda_function", "aws_iam_role")
    assert "policy_json" not in json.dumps(role)
    assert module("lambda_function")["output"]["role_arn"]["value"] == "${aws_iam_role.this.arn}"
    runtime = module("lambda_function")["data"]["aws_iam_policy_document"]["runtime"]
    assert runtime["source_policy_documents"] == "${var.policy_json == null ? [] : [var.policy_json]}"
    # The key only through the services the function itself uses it with (its DLQ, its environment).
    key = {s.get("sid"): s for _, s in module_statements("lambda_function")}["UseStackKey"]
    assert key["resources"] == ["${var.kms_key_arn}"]
    assert block(key, "condition")["variable"] == "kms:ViaService"
    trust = module("lambda_function")["data"]["aws_iam_policy_document"]["assume"]["statement"][0]
    assert trust["principals"][0]["identifiers"] == ["lambda.amazonaws.com"]
    assert trust["condition"][0]["variable"] == "aws:SourceAccount"


def test_lambda_function_internet_egress_is_an_explicit_opt_in() -> None:
    variables = module("lambda_function")["variable"]
    assert variables["https_egress_to_internet"]["default"] is False
    assert variables["egress_cidr_blocks"]["default"] == []
    assert "0.0.0.0/0" in json.dumps(variables["egress_cidr_blocks"]["validation"])
    cidrs = module("lambda_function")["locals"]["egress_cidrs"]
    assert cidrs == '${toset(concat(var.egress_cidr_blocks, var.https_egress_to_internet ? ["0.0.0.0/0"] : []))}'
    assert one("lambda_function", "aws_vpc_security_group_egress_rule", "https")["for_each"] == "${local.egress_cidrs}"
    # Only the findings importer (AWS APIs through NAT) opts in; the log normalisers reach the VPC at most.
    for name in NORMALIZER_CONSUMERS:
        assert "https_egress_to_internet" not in module(name)["module"]["normalizer"], name


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({}, None),
        ({"egress_cidr_blocks": ["0.0.0.0/0"]}, "Egress to the whole internet is not allowed"),
        ({"https_egress_to_internet": True}, None),
        ({"function_name": "x" * 57}, "1-56 letters"),
        ({"log_format": "XML"}, "JSON or Text"),
        ({"subnet_ids": []}, "At least one subnet"),
    ],
)
def test_lambda_function_variable_validation(
    terraform_bin: Path, tmp_path: Path, overrides: dict[str, Any], error: str | None
) -> None:
    values = {
        "function_name": "dev-fn",
        "description": "d",
        "package": {"filename": "f.zip", "source_code_hash": "x", "handler": "h.handler"},
        "kms_key_arn": _KEY,
        **_NET,
        **overrides,
    }
    values.pop("vpc_cidr")
    result = _plan_variables(terraform_bin, tmp_path, "lambda_function", values)
    if error is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 1
        assert error in re.sub(r"\s+", " ", result.stderr)


@pytest.mark.parametrize(
    ("name", "package_var"),
    [("waf", "normalizer_package"), ("cloudtrail", "normalizer_package"), ("guardduty", "normalizer_package")],
)
def test_consumers_wire_the_normalizer_module(name: str, package_var: str) -> None:
    call = module(name)["module"]["normalizer"]
    assert call["source"] == "../lambda_function"
    assert call["package"] == f"${{var.{package_var}}}"
    assert call["kms_key_arn"] == "${var.kms_key_arn}"
    package_type = module(name)["variable"][package_var]["type"]
    assert all(field in package_type for field in ("filename", "source_code_hash", "handler"))
    if name != "waf":
        # The indexing wiring is the child module's (env, least-privilege index policy), given one object.
        assert call["opensearch_index"] == {
            "endpoint": "${var.opensearch_endpoint}",
            "domain_arn": "${var.opensearch_domain_arn}",
            "index_prefix": "${var.index_prefix}",
            "source": name,
        }
        assert module(name)["variable"]["index_prefix"]["default"] == "logs"  # logs-<source>-*: templates, FGAC
        assert call["egress_cidr_blocks"] == ["${var.vpc_cidr}"]
    else:
        assert call["egress_cidr_blocks"] == []


# ---------------------------------------------------------------- per-module properties


def test_opensearch_domain_security() -> None:
    domain = one("opensearch", "aws_opensearch_domain")
    assert block(domain, "encrypt_at_rest") == {"enabled": True, "kms_key_id": "${var.kms_key_arn}"}
    assert block(domain, "node_to_node_encryption")["enabled"] is True
    endpoint = block(domain, "domain_endpoint_options")
    assert endpoint["enforce_https"] is True
    assert endpoint["tls_security_policy"] == "${var.tls_security_policy}"
    assert module("opensearch")["variable"]["tls_security_policy"]["default"] == "Policy-Min-TLS-1-2-PFS-2023-10"
    security = block(domain, "advanced_security_options")
    assert security["enabled"] is True and security["internal_user_database_enabled"] is False
    assert block(security, "master_user_options")["master_user_arn"] == "${local.admin_role_arn}"
    assert {o["log_type"] for o in domain["log_publishing_options"]} == {
        "INDEX_SLOW_LOGS",
        "SEARCH_SLOW_LOGS",
        "ES_APPLICATION_LOGS",
        "AUDIT_LOGS",
    }
    assert block(domain, "vpc_options")["security_group_ids"] == ["${aws_security_group.this.id}"]
    assert one("opensearch", "aws_vpc_security_group_ingress_rule", "vpc")["cidr_ipv4"] == "${var.vpc_cidr}"

    access = {s["sid"]: s for where, s in module_statements("opensearch") if where == "opensearch:access"}
    ingest = access["IngestRolesWriteDocuments"]
    assert ingest["actions"] == ["es:ESHttpPost", "es:ESHttpPut"]
    assert ingest["principals"][0]["identifiers"] == "${var.ingest_role_arns}"
    assert access["IngestRolesReadClusterMetadata"]["actions"] == ["es:ESHttpGet"]


def test_cloudtrail_trail_settings() -> None:
    trail = one("cloudtrail", "aws_cloudtrail")
    assert trail["enable_log_file_validation"] is True
    assert trail["is_multi_region_trail"] is True
    assert trail["include_global_service_events"] is True
    assert trail["kms_key_id"] == "${var.kms_key_arn}"
    assert trail["cloud_watch_logs_group_arn"] == "${aws_cloudwatch_log_group.trail.arn}:*"
    bucket_statements = [s for where, s in module_statements("cloudtrail") if where == "cloudtrail:bucket"]
    for statement in bucket_statements:
        assert {"variable": "aws:SourceArn", "test": "StringEquals", "values": ["${local.trail_arn}"]} in [
            {k: c[k] for k in ("variable", "test", "values")} for c in statement["condition"]
        ]
    subscription = one("cloudtrail", "aws_cloudwatch_log_subscription_filter", "normalizer")
    assert subscription["destination_arn"] == "${module.normalizer.function_arn}"
    permission = one("cloudtrail", "aws_lambda_permission", "logs")
    assert permission["source_account"] == "${local.account_id}"


def test_guardduty_features_export_and_alerts() -> None:
    detector = one("guardduty", "aws_guardduty_detector")
    assert "datasources" not in detector and detector["enable"] is True
    assert module("guardduty")["variable"]["features"]["default"] == ["S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION"]
    assert one("guardduty", "aws_guardduty_detector_feature")["status"] == "ENABLED"
    destination = one("guardduty", "aws_guardduty_publishing_destination", "s3")
    assert destination["kms_key_arn"] == "${var.kms_key_arn}"
    rule = one("guardduty", "aws_cloudwatch_event_rule", "high_severity")
    assert "numeric" in rule["event_pattern"] and "var.alert_min_severity" in rule["event_pattern"]
    assert module("guardduty")["variable"]["alert_min_severity"]["default"] == 7
    assert one("guardduty", "aws_cloudwatch_event_target", "alerts")["arn"] == "${var.alerts_topic_arn}"
    assert module("guardduty")["variable"]["trusted_ip_set_location"]["default"] == ""
    assert module("guardduty")["variable"]["threat_intel_set_locations"]["default"] == []


def test_waf_logging_pipeline() -> None:
    acl = one("waf", "aws_wafv2_web_acl")
    rate = acl["rule"][0]
    assert block(block(rate, "statement"), "rate_based_statement")["limit"] == "${var.rate_limit}"
    managed = acl["dynamic"][0]["rule"]
    assert managed["for_each"] == "${var.managed_rule_groups}"
    assert module("waf")["locals"]["stream_name"].startswith("aws-waf-logs-")
    logging = one("waf", "aws_wafv2_web_acl_logging_configuration")
    redacted = {block(r, "single_header")["name"] for r in logging["redacted_fields"]}
    assert redacted == {"authorization", "cookie"}
    stream = one("waf", "aws_kinesis_firehose_delivery_stream")
    assert stream["destination"] == "opensearch"
    assert block(stream, "server_side_encryption")["key_type"] == "CUSTOMER_MANAGED_CMK"
    opensearch = block(stream, "opensearch_configuration")
    assert opensearch["domain_arn"] == "${local.domain_arn}"
    # Firehose delivers through the domain's own security group (members reach each other on 443).
    assert block(opensearch, "vpc_config")["security_group_ids"] == ["${var.opensearch_security_group_id}"]
    members = one("opensearch", "aws_vpc_security_group_egress_rule", "members")
    assert members["referenced_security_group_id"] == members["security_group_id"] == "${aws_security_group.this.id}"
    processor = block(block(opensearch, "processing_configuration"), "processors")
    assert block(processor, "parameters")["parameter_value"].startswith("${module.normalizer.function_arn}")
    assert block(opensearch, "s3_configuration")["bucket_arn"] == "${module.backup.arn}"
    # The Firehose role (an OpenSearch ingest role) must not depend on the domain.
    assert "opensearch" not in json.dumps(one("waf", "aws_iam_role", "firehose"))
    assert not resources("waf", "aws_security_group")


# ---------------------------------------------------------------- variable validations, on the real binary


def _plan_variables(
    terraform_bin: Path, tmp_path: Path, name: str, values: dict[str, Any], extra_files: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Plan a copy of the module's variables (and provider-free check files): only validations run."""
    for file_name in ("variables.tf", *extra_files):
        (tmp_path / file_name).write_text((MODULES / name / file_name).read_text())
    (tmp_path / "terraform.tfvars.json").write_text(json.dumps(values))
    init = run_terraform(terraform_bin, tmp_path, "init", "-input=false", "-no-color")
    assert init.returncode == 0, init.stderr
    return run_terraform(terraform_bin, tmp_path, "plan", "-input=false", "-no-color")


_NET = {"vpc_cidr": "10.0.0.0/16", "vpc_id": "vpc-1", "subnet_ids": ["subnet-1", "subnet-2"]}
_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0000"
_WAF_REQUIRED = {
    "name_prefix": "dev",
    "region": "eu-west-1",
    **_NET,
    "opensearch_domain_arn": "arn:aws:es:eu-west-1:123456789012:domain/dev-os",
    "opensearch_security_group_id": "sg-1",
    "kms_key_arn": _KEY,
    "access_log_bucket_id": "logs",
    "normalizer_package": {"filename": "w.zip", "source_code_hash": "x", "handler": "h.handler"},
}
_REFERENCE_GROUPS = [
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesLinuxRuleSet",
    "AWSManagedRulesPHPRuleSet",
    "AWSManagedRulesWordPressRuleSet",
    "AWSManagedRulesAdminProtectionRuleSet",
]


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({}, None),
        ({"managed_rule_groups": _REFERENCE_GROUPS}, "1500 WCU"),
        ({"managed_rule_groups": ["AWSManagedRulesMadeUp"]}, "Unknown managed rule group"),
        ({"scope": "GLOBAL"}, "REGIONAL or CLOUDFRONT"),
        ({"scope": "CLOUDFRONT"}, "needs the stack region us-east-1"),
        ({"scope": "CLOUDFRONT", "region": "us-east-1"}, None),
    ],
)
def test_waf_variable_validation(
    terraform_bin: Path, tmp_path: Path, overrides: dict[str, Any], error: str | None
) -> None:
    values = {**_WAF_REQUIRED, **overrides}
    # The region comes from the provider (main.tf's local.region): stand it in for the provider-free plan.
    (tmp_path / "region.tf").write_text(f'locals {{\n  region = "{values.pop("region")}"\n}}\n')
    result = _plan_variables(terraform_bin, tmp_path, "waf", values, ("checks.tf",))
    if error is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 1
        assert error in re.sub(r"\s+", " ", result.stderr)


_OPENSEARCH_REQUIRED = {
    "name_prefix": "dev",
    **_NET,
    "kms_key_arn": _KEY,
    "configurator_package": {"filename": "c.zip", "source_code_hash": "x", "handler": "h.handler"},
    "alerts_topic_arn": "arn:aws:sns:eu-west-1:123456789012:dev-security-alerts",
}


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"zone_awareness": True, "instance_count": 2}, None),
        ({"zone_awareness": True, "instance_count": 3}, "multiple of availability_zone_count"),
        ({"zone_awareness": True, "availability_zone_count": 3, "instance_count": 3}, "one subnet per"),
        ({"tls_security_policy": "Policy-Min-TLS-1-0-2019-07"}, "TLS 1.2+"),
        ({"instance_type": "t2.small.search"}, "t2 types"),
        ({"ingest_role_arns": ["arn:aws:iam::123456789012:user/bob"]}, "IAM role ARN"),
        ({"analyst_role_arns": ["arn:aws:iam::123456789012:role/analyst"]}, None),
        ({"analyst_role_arns": ["arn:aws:iam::123456789012:user/eve"]}, "IAM role ARN"),
        ({"alerts_topic_arn": "arn:aws:sqs:eu-west-1:123456789012:q"}, "SNS topic ARN"),
        (
            {"index_retention": {f: {"hot_days": 30, "delete_days": 30} for f in ("cloudtrail", "guardduty", "waf")}},
            "1 <= hot_days < delete_days",
        ),
        ({"index_retention": {"cloudtrail": {"hot_days": 1, "delete_days": 2}}}, "cloudtrail, guardduty and waf"),
    ],
)
def test_opensearch_variable_validation(
    terraform_bin: Path, tmp_path: Path, overrides: dict[str, Any], error: str | None
) -> None:
    values = {**_OPENSEARCH_REQUIRED, **overrides}
    result = _plan_variables(terraform_bin, tmp_path, "opensearch", values, ("checks.tf",))
    if error is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 1
        assert error in re.sub(r"\s+", " ", result.stderr)


@pytest.mark.parametrize(
    ("name", "values", "error"),
    [
        ("secure_bucket", {"name": "Bad_Name", "kms_key_arn": _KEY, "access_log_bucket_id": None}, "bucket name"),
        ("secure_bucket", {"name": "ok-bucket", "kms_key_arn": _KEY, "access_log_bucket_id": None}, None),
        ("shared", {"name_prefix": "dev", "region": "eu-west-1", "alert_emails": ["not-an-address"]}, "e-mail"),
        ("shared", {"name_prefix": "dev", "region": "eu-west-1", "access_log_retention_days": 30}, "365"),
    ],
)
def test_shared_and_bucket_variable_validation(
    terraform_bin: Path, tmp_path: Path, name: str, values: dict[str, Any], error: str | None
) -> None:
    result = _plan_variables(terraform_bin, tmp_path, name, values)
    if error is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 1
        assert error in re.sub(r"\s+", " ", result.stderr)


# ---------------------------------------------------------------- references (terraform validate needs the provider)

# ---------------------------------------------------------------- dashboards and monitors vs. the real normalisers

DASHBOARDS = MODULES / "opensearch" / "dashboards"


def test_content_covers_the_ingest_indices() -> None:
    from provisioner.opensearch.content import Settings, build

    patterns = module("opensearch")["variable"]["ingest_index_patterns"]["default"]
    retention = {f: (7, 30) for f in ("cloudtrail", "guardduty", "waf")}
    objects = build(Settings(retention=retention), REPO)["objects"]
    templates = [o["body"] for o in objects if o["kind"] == "index_template"]
    assert sorted(p for t in templates for p in t["index_patterns"]) == sorted(patterns)
    titles = [o["body"]["attributes"]["title"] for o in objects if o["name"].startswith("index-pattern/")]
    assert sorted(titles) == sorted(patterns)

"""Security properties of the CI/CD-side modules (network, pipeline, zap_scanner, findings), read from their HCL
with python-hcl2, plus the pipeline's shell steps run with real bash, jq and curl on real tool reports."""

from __future__ import annotations

import base64
import http.server
import json
import os
import re
import shutil
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from tests.hcl_modules import MODULES, as_list, module, policy_statements

DATA = Path(__file__).resolve().parent / "data"
MINE = ("network", "pipeline", "zap_scanner", "findings")
# Child modules the components above call: their IAM counts as the callers' own.
CHILDREN = ("lambda_function",)
BUILDSPECS = MODULES / "pipeline" / "buildspecs"

# Actions that accept no resource-level scoping, so "*" is their only possible resource.
UNSCOPABLE_ACTIONS = {
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "ssm:GetCommandInvocation",
}
OPEN_CIDRS = {"0.0.0.0/0", "::/0"}


def all_statements() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name in MINE + CHILDREN:
        for (dtype, dname), body in module(name).data.items():
            if dtype == "aws_iam_policy_document":
                for statement in policy_statements(body):
                    yield name, dname, statement


def allowed_pattern_after(source: str, after: str) -> str:
    """The first `allowedPattern = "..."` literal following `after` in HCL source, unescaped."""
    start = source.index(after)
    match = re.search(r'allowedPattern\s*=\s*"((?:[^"\\]|\\.)*)"', source[start:])
    assert match, f"no allowedPattern after {after!r}"
    return str(json.loads(f'"{match.group(1)}"'))


def buildspec(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((BUILDSPECS / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def build_commands(name: str) -> list[str]:
    return [str(c) for c in buildspec(name)["phases"]["build"]["commands"]]


# --- structure -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "outputs"),
    [
        ("network", {"vpc_id", "private_subnet_ids", "public_subnet_ids", "vpc_cidr"}),
        ("zap_scanner", {"instance_id", "ssm_document_name", "security_group_id", "role_arn"}),
        ("findings", {"report_bucket_id", "report_bucket_arn", "importer_function_arn"}),
    ],
)
def test_cross_module_outputs_exist(name: str, outputs: set[str]) -> None:
    assert outputs <= set(module(name).outputs)


def test_no_ingress_from_the_internet() -> None:
    for name in MINE:
        mod = module(name)
        for rule in mod.of_type("aws_vpc_security_group_ingress_rule"):
            assert rule.get("cidr_ipv4") not in OPEN_CIDRS and rule.get("cidr_ipv6") not in OPEN_CIDRS
        for group in mod.of_type("aws_security_group"):
            for ingress in as_list(group.get("ingress")):
                assert not OPEN_CIDRS & set(ingress.get("cidr_blocks", []) + ingress.get("ipv6_cidr_blocks", []))
        assert not mod.of_type("aws_security_group_rule"), "use the per-rule vpc_security_group_* resources"


def test_scanner_host_has_no_inbound_rules_at_all() -> None:
    mod = module("zap_scanner")
    assert not mod.of_type("aws_vpc_security_group_ingress_rule")
    (group,) = mod.of_type("aws_security_group")
    assert "ingress" not in group
    (egress,) = mod.of_type("aws_vpc_security_group_egress_rule")
    assert egress["ip_protocol"] == "tcp", "egress is port-scoped, never all protocols"


def test_default_security_group_is_emptied_and_flow_logs_are_on() -> None:
    mod = module("network")
    default_sg = mod.resources[("aws_default_security_group", "this")]
    assert "ingress" not in default_sg and "egress" not in default_sg
    flow_log = mod.resources[("aws_flow_log", "this")]
    assert flow_log["log_destination_type"] == "cloud-watch-logs"
    assert flow_log["vpc_id"] == "${aws_vpc.this.id}"
    for subnet in mod.of_type("aws_subnet"):
        assert subnet["map_public_ip_on_launch"] is False
    egress_mode = mod.variables["egress_mode"]
    assert '["nat", "endpoints_only"]' in json.dumps(egress_mode["validation"]).replace('\\"', '"')
    endpoints = mod.variables["interface_endpoints"]["default"]
    assert {"ssm", "ssmmessages", "ec2messages", "logs", "sts", "kms", "securityhub"} <= set(endpoints)


# --- IAM -----------------------------------------------------------------------------------------------------


def test_no_wildcard_actions_and_star_resources_only_where_unscopable() -> None:
    checked = 0
    for name, doc, statement in all_statements():
        actions = statement["actions"]
        resources = as_list(statement.get("resources"))  # an expression parses to one string
        for action in actions:
            assert "*" not in action, f"{name}/{doc}: wildcard action {action}"
        if "*" in resources:
            assert set(actions) <= UNSCOPABLE_ACTIONS, f"{name}/{doc}: {actions} on * can be scoped"
        checked += 1
    assert checked > 25


def test_no_managed_or_admin_policies() -> None:
    for name in MINE:
        mod = module(name)
        assert not mod.of_type("aws_iam_role_policy_attachment"), f"{name}: attach no managed policies"
        assert "arn:aws:iam::aws:policy" not in mod.text()
        for role in mod.of_type("aws_iam_role"):
            assert "managed_policy_arns" not in role


def test_service_trust_policies_are_bound_to_this_account() -> None:
    trusted: set[str] = set()
    for name in MINE + CHILDREN:
        for (dtype, dname), doc in module(name).data.items():
            if dtype != "aws_iam_policy_document":
                continue
            for statement in policy_statements(doc):
                principals = as_list(statement.get("principals"))
                services = [i for p in principals if p["type"] == "Service" for i in as_list(p["identifiers"])]
                if not services:
                    continue
                variables = {c["variable"] for c in as_list(statement.get("condition"))}
                assert "aws:SourceAccount" in variables, f"{name}/{dname}: service principal without aws:SourceAccount"
                # A trust document written once for several services (for_each) counts for each of them.
                keys = list(doc["for_each"]) if isinstance(doc.get("for_each"), dict) else []
                trusted.update(s.replace("${each.key}", k) for s in services for k in keys or ["${each.key}"])
    assert {
        "vpc-flow-logs.amazonaws.com",
        "ec2.amazonaws.com",
        "lambda.amazonaws.com",
        "codebuild.amazonaws.com",
        "codepipeline.amazonaws.com",
        "events.amazonaws.com",
    } <= trusted
    # EventBridge may start the pipeline only from this pipeline's own source rule.
    assume = module("pipeline").data[("aws_iam_policy_document", "assume")]
    assert assume["for_each"]["events"].endswith(":rule/${local.pipeline_name}-source")
    (source_arn,) = assume["statement"][0]["dynamic"]
    assert source_arn["condition"]["content"][0]["variable"] == "aws:SourceArn"


def test_dast_role_may_send_only_the_scan_document_to_the_scanner() -> None:
    doc = module("pipeline").data[("aws_iam_policy_document", "dast")]
    send = [s for s in policy_statements(doc) if "ssm:SendCommand" in s["actions"]]
    assert len(send) == 1
    assert sorted(send[0]["resources"]) == [
        "${local.arn_prefix}:ec2:${local.region}:${local.account_id}:instance/${var.zap_instance_id}",
        "${local.arn_prefix}:ssm:${local.region}:${local.account_id}:document/${var.zap_document_name}",
    ]
    for _, other, statement in all_statements():
        if other != "dast":
            assert "ssm:SendCommand" not in statement["actions"]


def test_importer_role_matches_the_lambda_contract() -> None:
    doc = module("findings").data[("aws_iam_policy_document", "importer")]
    assert module("findings").modules["importer"]["policy_json"] == "${data.aws_iam_policy_document.importer.json}"
    by_action = {a: s for s in policy_statements(doc) for a in s["actions"]}
    # The report key only through S3, only to read.
    decrypt = by_action["kms:Decrypt"]
    assert decrypt["actions"] == ["kms:Decrypt"] and decrypt["resources"] == ["${var.kms_key_arn}"]
    assert decrypt["condition"][0]["variable"] == "kms:ViaService"
    assert decrypt["condition"][0]["values"] == ["s3.${local.region}.amazonaws.com"]
    assert by_action["securityhub:BatchImportFindings"]["resources"] == ["${local.product_arn}"]
    assert by_action["securityhub:BatchUpdateFindings"]["resources"] == ["${local.hub_arn}"]
    assert by_action["securityhub:GetFindings"]["resources"] == ["${local.hub_arn}"]
    assert "s3:PutObject" not in by_action and "s3:DeleteObject" not in by_action
    text = module("findings").text()
    assert 'product/${local.account_id}/default"' in text and ':hub/default"' in text


# --- compute, storage, logs ----------------------------------------------------------------------------------


def test_scanner_instance_is_hardened() -> None:
    mod = module("zap_scanner")
    instance = mod.resources[("aws_instance", "this")]
    (metadata,) = instance["metadata_options"]
    assert metadata["http_tokens"] == "required"
    assert metadata["http_put_response_hop_limit"] == 1
    (root,) = instance["root_block_device"]
    assert root["encrypted"] is True and root["kms_key_id"] == "${var.kms_key_arn}"
    assert "key_name" not in instance
    assert instance["monitoring"] is True
    assert instance["associate_public_ip_address"] is False
    assert mod.data[("aws_ssm_parameter", "al2023")]["name"].startswith(
        "/aws/service/ami-amazon-linux-latest/al2023-ami"
    )


def test_log_groups_are_encrypted_and_kept_a_year() -> None:
    count = 0
    for name in MINE:
        mod = module(name)
        for group in mod.of_type("aws_cloudwatch_log_group"):
            assert group["kms_key_id"] == "${var.kms_key_arn}"
            retention = re.fullmatch(r"\$\{var\.(\w+)\}", str(group["retention_in_days"]))
            assert retention, f"{name}: retention must be configurable"
            variable = mod.variables[retention.group(1)]
            assert variable["default"] >= 365
            assert "365" in json.dumps(variable["validation"])
            count += 1
    assert count >= 2  # flow logs (network), one per project (pipeline)
    # The importer's log group lives in lambda_function, fed with the findings module's own key and retention.
    (group,) = module("lambda_function").of_type("aws_cloudwatch_log_group")
    assert group["kms_key_id"] == "${var.kms_key_arn}"
    assert group["retention_in_days"] == "${var.log_retention_days}"
    importer = module("findings").modules["importer"]
    assert importer["kms_key_arn"] == "${var.kms_key_arn}"
    assert importer["log_retention_days"] == "${var.log_retention_days}"
    retention_var = module("findings").variables["log_retention_days"]
    assert retention_var["default"] >= 365 and "[365," in json.dumps(retention_var["validation"])


def test_buckets_come_from_secure_bucket() -> None:
    uses = 0
    for name in MINE:
        mod = module(name)
        assert not mod.of_type("aws_s3_bucket"), f"{name}: use ../secure_bucket"
        for block in mod.modules.values():
            if block["source"] == "../secure_bucket":
                assert block["kms_key_arn"] == "${var.kms_key_arn}"
                assert block["access_log_bucket_id"] == "${var.access_log_bucket_id}"
                assert "expiration_days" in block
                uses += 1
    assert uses == 2  # artifact bucket (pipeline) and report bucket (findings)


def test_importer_lambda_follows_the_house_rules() -> None:
    mod = module("findings")
    importer = mod.modules["importer"]
    assert importer["source"] == "../lambda_function"
    assert importer["package"] == "${var.importer_package}"
    assert importer["reserved_concurrency"] == "${var.reserved_concurrency}"
    assert importer["subnet_ids"] == "${var.subnet_ids}"
    assert importer["vpc_id"] == "${var.vpc_id}"
    # No environment variables, so the function carries no key (lambda_function sets one only with variables).
    assert "environment_variables" not in importer
    assert not mod.of_type("aws_lambda_function") and not mod.of_type("aws_iam_role")
    fn = module("lambda_function").resources[("aws_lambda_function", "this")]
    assert fn["runtime"] == "python3.12"
    assert fn["handler"] == "${var.package.handler}"
    assert fn["source_code_hash"] == "${var.package.source_code_hash}"
    assert fn["tracing_config"][0]["mode"] == "Active"
    assert fn["dead_letter_config"][0]["target_arn"] == "${aws_sqs_queue.dlq.arn}"
    assert fn["reserved_concurrent_executions"] == "${var.reserved_concurrency}"
    assert fn["vpc_config"][0]["subnet_ids"] == "${var.subnet_ids}"
    assert module("lambda_function").resources[("aws_sqs_queue", "dlq")]["kms_master_key_id"] == "${var.kms_key_arn}"
    assert mod.outputs["importer_role_arn"]["value"] == "${module.importer.role_arn}"
    assert mod.outputs["dlq_arn"]["value"] == "${module.importer.dead_letter_queue_arn}"
    permission = mod.resources[("aws_lambda_permission", "report_bucket")]
    assert permission["principal"] == "s3.amazonaws.com"
    assert permission["source_arn"] == "${module.report_bucket.arn}"
    assert permission["source_account"] == "${local.account_id}"
    assert permission["function_name"] == "${module.importer.function_name}"
    assert mod.locals["tools"] == ["dependency-check", "sonarqube", "zap"]


def test_codebuild_projects_are_encrypted_logged_and_unprivileged() -> None:
    mod = module("pipeline")
    project = mod.resources[("aws_codebuild_project", "this")]
    assert project["encryption_key"] == "${var.kms_key_arn}"
    assert project["artifacts"][0]["encryption_disabled"] is False
    assert project["environment"][0]["privileged_mode"] == "${each.value.privileged}"
    assert project["logs_config"][0]["cloudwatch_logs"][0]["status"] == "ENABLED"
    assert project["vpc_config"][0]["subnets"] == "${var.subnet_ids}"
    projects = mod.locals["all_projects"]
    for key in ("sca", "sast", "dast", "deploy"):
        assert projects[key]["privileged"] is False, key
    # Each scan project may upload only its own tool's reports; the others upload none.
    assert {k: p["report_tool"] for k, p in projects.items()} == {
        "build": None,
        "sca": "dependency-check",
        "sast": "sonarqube",
        "dast": None,
        "deploy": None,
    }
    common = mod.data[("aws_iam_policy_document", "codebuild_common")]
    (upload,) = [d["statement"] for d in common["dynamic"] if "report_tool" in d["statement"]["for_each"]]
    assert upload["content"][0]["actions"] == ["s3:PutObject"]
    assert upload["content"][0]["resources"] == ["${var.report_bucket_arn}/${statement.value}/*"]
    assert mod.variables["build_privileged_mode"]["default"] is False
    # The Sonar token exists only as a Parameter Store reference.
    assert projects["sast"]["secrets"] == {"SONAR_TOKEN": "${var.sonar_token_parameter_name}"}
    for spec in projects.values():
        env = spec["env"] if isinstance(spec["env"], dict) else {}
        assert not any(re.search("TOKEN|SECRET|PASSWORD|API_KEY", k) for k in env)
    dynamic_types = [d["environment_variable"]["content"][0]["type"] for d in project["environment"][0]["dynamic"]]
    assert dynamic_types == ["PLAINTEXT", "PARAMETER_STORE"]


def test_pipeline_is_v2_encrypted_and_ordered() -> None:
    mod = module("pipeline")
    pipeline = mod.resources[("aws_codepipeline", "this")]
    assert pipeline["pipeline_type"] == "V2"
    store = pipeline["artifact_store"][0]
    assert store["encryption_key"][0] == {"type": "KMS", "id": "${var.kms_key_arn}"}
    assert [s["name"] for s in pipeline["stage"]] == ["Source"]
    # Dynamic stages expand in place, in source order: the CodeBuild stages, then the optional two.
    dynamic = [d["stage"] for d in pipeline["dynamic"] if "stage" in d]
    assert dynamic[0]["for_each"] == "${local.codebuild_stages}"
    assert [s["stage"] for s in mod.locals["codebuild_stages"]] == ["Build", "SCA", "SAST", "DAST"]
    assert [s["project"] for s in mod.locals["codebuild_stages"]] == ["build", "sca", "sast", "dast"]
    assert [d["content"][0]["name"] for d in dynamic[1:]] == ["Approval", "Deploy"]
    severity = mod.variables["fail_on_severity"]
    assert "contains" in json.dumps(severity["validation"])
    assert set(mod.locals["thresholds"]) == {"critical", "high", "medium", "low"}


# --- scan command and buildspecs -----------------------------------------------------------------------------


def _branch_slug(value: str) -> str:
    """The pipeline's branch rule, taken from its HCL `replace(var.branch, "/<regex>/", "_")`."""
    pattern = re.search(r'replace\(var\.branch, "/(.+?)/", "_"\)', module("pipeline").text())
    assert pattern
    return re.sub(pattern.group(1), "_", value)


def test_report_keys_built_by_dast_pass_the_document_pattern() -> None:
    zap_text = module("zap_scanner").text()
    url_pattern = allowed_pattern_after(zap_text, "TargetUrl = {\n")
    report_key_pattern = allowed_pattern_after(zap_text, "ReportKey = {\n")
    assert url_pattern.startswith("^https?://")
    (key_cmd,) = [c for c in build_commands("dast.yml") if c.startswith("REPORT_KEY=")]
    assert key_cmd == 'REPORT_KEY="zap/${REPOSITORY}/${BRANCH_SLUG}/${CODEBUILD_BUILD_ID#*:}/report.json"'
    build_uuid = "0f5c2d1e-8a7b-4c3d-9e2f-1a2b3c4d5e6f"
    for repository, branch in [("acme/web-app", "feature/login"), ("app", "main"), ("org/sub/repo", "rel/v1.2")]:
        key = f"zap/{repository}/{_branch_slug(branch)}/{build_uuid}/report.json"
        assert re.fullmatch(report_key_pattern, key), key
        # The importer's reading: repository = every segment between tool and branch.
        parts = key.split("/")
        assert "/".join(parts[1:-3]) == repository and parts[-2] == build_uuid
    for bad in ["zap/a/b/c/../report.json'; rm -rf /", "zap/../b/c/report.json", "sonarqube/a/b/c/report.json"]:
        assert not re.fullmatch(report_key_pattern, bad)
    # The pipeline must not accept a target URL the scan document would refuse.
    pipeline_url = re.search(r'regex\("(\^https\?://[^"]+)", var\.dast_target_url\)', module("pipeline").text())
    assert pipeline_url and json.loads(f'"{pipeline_url.group(1)}"') == url_pattern
    assert re.fullmatch(url_pattern, "https://staging.example.com:8443/app/?q=1&x=%20")
    for bad in ["https://x.test/'$(id)'", "https://x.test/ a", "file:///etc/passwd", "https://x.test/`id`"]:
        assert not re.fullmatch(url_pattern, bad)


@pytest.mark.parametrize("name", ["sca.yml", "sast.yml", "dast.yml"])
def test_buildspec_shell_parses_with_bash(name: str, tmp_path: Path) -> None:
    spec = buildspec(name)
    assert spec["version"] == 0.2 and spec["env"]["shell"] == "bash"
    script = "\n".join(str(c) for phase in spec["phases"].values() for c in phase["commands"])
    (tmp_path / "steps.sh").write_text(script)
    result = subprocess.run(["bash", "-n", str(tmp_path / "steps.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "sleep 600" not in script and "sleep 300" not in script


def test_scanner_scripts_parse_with_bash(tmp_path: Path) -> None:
    scan = (MODULES / "zap_scanner" / "scripts" / "zap_scan.sh").read_text()
    assert "{{" not in scan, "SSM would interpolate {{ }} inside the script body"
    user_data = (MODULES / "zap_scanner" / "scripts" / "user_data.sh.tftpl").read_text()
    rendered = user_data.replace("${zap_version}", "2.16.1").replace("${zap_sha256}", "").replace("$${", "${")
    for label, text in (("scan", scan), ("user_data", rendered)):
        (tmp_path / label).write_text(text)
        result = subprocess.run(["bash", "-n", str(tmp_path / label)], capture_output=True, text=True)
        assert result.returncode == 0, f"{label}: {result.stderr}"
    assert "-host 127.0.0.1" in rendered and "api.key" in rendered
    assert "ssm:PutParameter" not in module("zap_scanner").text()


def test_stages_fail_on_the_configured_threshold() -> None:
    sca = "\n".join(build_commands("sca.yml"))
    assert '--failOnCVSS "$FAIL_ON_CVSS"' in sca and "--format JSON" in sca
    assert 'test "$dc_rc" -eq 0' in sca
    sast = "\n".join(build_commands("sast.yml"))
    assert "-Dsonar.qualitygate.wait=true" in sast and "/api/issues/search" in sast
    assert 'test "$gate_rc" -eq 0' in sast and "SONAR_TOKEN" not in sast.split("sonar-scanner \\")[1].split("\n")[0]
    dast = "\n".join(build_commands("dast.yml"))
    assert "aws ssm send-command" in dast and "aws ssm get-command-invocation" in dast
    assert "Success|Failed|Cancelled|TimedOut" in dast and 'test "$status" = Success' in dast
    key_template = 'REPORT_KEY="{}/${{REPOSITORY}}/${{BRANCH_SLUG}}/${{CODEBUILD_BUILD_ID#*:}}/report.json"'
    for tool, spec in (("dependency-check", sca), ("sonarqube", sast), ("zap", dast)):
        assert key_template.format(tool) in spec


# --- the threshold filters, run with real jq on real reports -------------------------------------------------


def _blocking(name: str, report: Path, target: str, env: dict[str, str], tmp_path: Path) -> int:
    """Runs the buildspec's own counting step (bash + jq) on a report; returns the blocking count."""
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    (step,) = [c for c in build_commands(name) if c.startswith("blocking=$(jq")]
    (tmp_path / "reports").mkdir(exist_ok=True)
    shutil.copy(report, tmp_path / "reports" / target)
    result = subprocess.run(
        ["bash", "-c", step + '\nprintf "BLOCKING=%s\\n" "$blocking"'],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"^BLOCKING=(\d+)$", result.stdout, re.M)
    assert match, result.stdout + result.stderr
    return int(match.group(1))


def _thresholds() -> dict[str, dict[str, str]]:
    return module("pipeline").locals["thresholds"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("report", "severity", "expected"),
    [
        ("report_json-2.8.0.json", "high", 0),  # riskcodes 0, 1, 2
        ("report_json-2.8.0.json", "medium", 1),
        ("report_json-2.8.0.json", "low", 2),
        ("basic-traditional-json.json", "critical", 1),  # one High alert: ZAP's top level
        ("basic-traditional-json-plus.json", "high", 1),
    ],
)
def test_dast_threshold_on_real_zap_reports(report: str, severity: str, expected: int, tmp_path: Path) -> None:
    env = {"ZAP_FAIL_RISKCODE": _thresholds()[severity]["zap_riskcode"]}
    assert _blocking("dast.yml", DATA / "zap" / report, "zap-report.json", env, tmp_path) == expected


@pytest.mark.parametrize(
    ("report", "severity", "expected"),
    [
        ("golang-fishy-7.1.1.json", "high", 1),  # CVE-2022-28948, CVSS 7.5
        ("golang-fishy-7.1.1.json", "critical", 0),
        ("go-vuln-project-12.1.0.json", "low", 0),
    ],
)
def test_sca_threshold_on_real_dependency_check_reports(
    report: str, severity: str, expected: int, tmp_path: Path
) -> None:
    env = {"FAIL_ON_CVSS": _thresholds()[severity]["cvss"]}
    target = "dependency-check-report.json"
    assert _blocking("sca.yml", DATA / "dependency-check" / report, target, env, tmp_path) == expected


@pytest.mark.parametrize(
    ("report", "severity", "expected"),
    [
        ("search-example-sonarqube.json", "high", 1),  # SECURITY impact HIGH
        ("search-example-sonarqube.json", "critical", 0),
        ("sonarqube-pr-issues-page.json", "low", 0),  # bugs only: no security findings
    ],
)
def test_sast_threshold_on_real_sonarqube_issues(report: str, severity: str, expected: int, tmp_path: Path) -> None:
    t = _thresholds()[severity]
    env = {"SONAR_FAIL_SEVERITIES": t["sonar"], "SONAR_FAIL_IMPACTS": t["sonar_impacts"]}
    assert _blocking("sast.yml", DATA / "sonarqube" / report, "sonarqube-report.json", env, tmp_path) == expected


# --- the SonarQube export against a local HTTP server --------------------------------------------------------


class _SonarPages(http.server.BaseHTTPRequestHandler):
    """Serves the real issues of one response in pages of two, like SonarQube's paging."""

    issues: ClassVar[list[dict[str, Any]]] = []
    components: ClassVar[list[dict[str, Any]]] = []
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        type(self).seen.append((self.path, self.headers.get("Authorization")))
        page = int(query["p"][0])
        size = 2
        chunk = self.issues[(page - 1) * size : page * size]
        body = json.dumps(
            {
                "paging": {"pageIndex": page, "pageSize": size, "total": len(self.issues)},
                "issues": chunk,
                "components": self.components,
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_sast_exports_every_page_with_the_token_off_the_url(tmp_path: Path) -> None:
    if shutil.which("jq") is None or shutil.which("curl") is None:
        pytest.skip("jq and curl are needed")
    real = json.loads((DATA / "sonarqube" / "sonarqube-pr-issues-page.json").read_text())
    _SonarPages.issues = real["issues"]
    _SonarPages.components = real.get("components", [])
    _SonarPages.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SonarPages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        (export,) = [c for c in build_commands("sast.yml") if "/api/issues/search" in c]
        (tmp_path / "reports").mkdir()
        token = "squ_test_token_value"
        subprocess.run(
            ["bash", "-c", export],
            cwd=tmp_path,
            env={
                "PATH": os.environ["PATH"],
                "TMPDIR": str(tmp_path),
                "SONAR_TOKEN": token,
                "SONAR_HOST_URL": f"http://127.0.0.1:{server.server_address[1]}/",
                "SONAR_PROJECT_KEY": "acme:web",
            },
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
    finally:
        server.shutdown()
        server.server_close()
    # The report is the array of pages as served, which the importer checks for completeness.
    pages = json.loads((tmp_path / "reports" / "sonarqube-report.json").read_text())
    assert [p["paging"]["pageIndex"] for p in pages] == [1, 2]
    assert [i["key"] for p in pages for i in p["issues"]] == [i["key"] for i in real["issues"]]
    assert pages[0]["paging"]["total"] == len(real["issues"]) == 4
    paths = [path for path, _ in _SonarPages.seen]
    assert len(paths) == 2 and "p=1" in paths[0] and "p=2" in paths[1]
    for path in paths:
        query = urllib.parse.parse_qs(urllib.parse.urlparse(path).query)
        assert query["componentKeys"] == ["acme:web"] and query["resolved"] == ["false"]
        assert token not in path
    expected_auth = "Basic " + base64.b64encode(f"{token}:".encode()).decode()
    assert {auth for _, auth in _SonarPages.seen} == {expected_auth}

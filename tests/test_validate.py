"""Offline validation against the committed hashicorp/aws 6.25.0 schema, on a copy of a real small module."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from provisioner.errors import InputError
from provisioner.provider_schema import SCHEMA_FILE, constraint_allows, load_provider_schema
from provisioner.validate import Diagnostic, validate_files, validate_tree

MODULE = Path(__file__).resolve().parent / "data" / "validate" / "module"
WAF_HEADER = 'resource "aws_wafv2_web_acl" "this"'


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """tmp/root (a root module calling the module) and tmp/modules/edge (a copy of the fixture module)."""
    shutil.copytree(MODULE, tmp_path / "modules" / "edge")
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text('module "edge" {\n  source = "../modules/edge"\n  name   = "demo"\n}\n')
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} must occur once in {path}"
    path.write_text(text.replace(old, new))


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    hits = [i for i, line in enumerate(path.read_text().splitlines(), start=1) if needle in line]
    assert len(hits) >= nth, f"{needle!r} not found {nth} times in {path}"
    return hits[nth - 1]


def check(project: Path) -> list[str]:
    return [str(d) for d in validate_tree(project / "root", project / "modules", relative_to=project)]


def test_valid_module_has_no_diagnostics(project: Path) -> None:
    assert check(project) == []


def test_misspelt_argument_points_to_its_line_with_a_suggestion(project: Path) -> None:
    main = project / "modules/edge/main.tf"
    edit(main, "force_destroy = false", "force_destroi = false")
    line = line_of(main, "force_destroi")
    assert check(project) == [
        f'modules/edge/main.tf:{line}: aws_s3_bucket.logs: unknown argument "force_destroi" '
        '(did you mean "force_destroy"?)'
    ]


def test_missing_required_argument_is_reported_at_the_block_header(project: Path) -> None:
    main = project / "modules/edge/main.tf"
    edit(main, '  scope = "REGIONAL"\n', "")
    edit(main, '      metric_name                = "geo-block"\n', "")
    assert check(project) == [
        f'modules/edge/main.tf:{line_of(main, WAF_HEADER)}: aws_wafv2_web_acl.this: missing required argument "scope"',
        f"modules/edge/main.tf:{line_of(main, 'visibility_config {')}: aws_wafv2_web_acl.this: "
        'rule.visibility_config: missing required argument "metric_name"',
    ]


def test_missing_required_block(project: Path) -> None:
    main = project / "modules/edge/main.tf"
    edit(main, '  versioning_configuration {\n    status = "Enabled"\n  }\n', "")
    assert check(project) == [
        f"modules/edge/main.tf:{line_of(main, 'aws_s3_bucket_versioning')}: aws_s3_bucket_versioning.logs: "
        'missing required block "versioning_configuration"'
    ]


def test_unknown_resource_type(project: Path) -> None:
    main = project / "modules/edge/main.tf"
    edit(main, 'resource "aws_s3_bucket" "logs"', 'resource "aws_s3_buckt" "logs"')
    assert check(project) == [
        f"modules/edge/main.tf:{line_of(main, 'aws_s3_buckt')}: aws_s3_buckt.logs: unknown resource type "
        '"aws_s3_buckt" in hashicorp/aws 6.25.0 (did you mean "aws_s3_bucket"?)'
    ]


def test_block_written_as_an_attribute(project: Path) -> None:
    main = project / "modules/edge/main.tf"
    edit(
        main,
        '  versioning_configuration {\n    status = "Enabled"\n  }\n',
        '  versioning_configuration = {\n    status = "Enabled"\n  }\n',
    )
    line = line_of(main, "versioning_configuration =")
    assert check(project) == [
        f'modules/edge/main.tf:{line}: aws_s3_bucket_versioning.logs: "versioning_configuration" is a block, '
        "not an argument: write versioning_configuration { ... }"
    ]


def test_attribute_written_as_a_block(project: Path) -> None:
    main = project / "modules/edge/main.tf"
    edit(main, '  tags = {\n    Name = "${var.name}-logs"', '  tags {\n    Name = "${var.name}-logs"')
    assert check(project) == [
        f"modules/edge/main.tf:{line_of(main, 'tags {')}: aws_s3_bucket.logs: "
        '"tags" is an argument, not a block: write tags = ...'
    ]


def test_computed_only_attribute_cannot_be_set(project: Path) -> None:
    main = project / "modules/edge/main.tf"
    edit(main, "  force_destroy = false\n", '  force_destroy = false\n  arn           = "arn:aws:s3:::x"\n')
    assert check(project) == [
        f"modules/edge/main.tf:{line_of(main, 'arn           =')}: aws_s3_bucket.logs: "
        '"arn" is computed by the provider and cannot be set'
    ]


def test_syntax_error_becomes_a_diagnostic_and_other_files_are_still_checked(project: Path) -> None:
    main = project / "modules/edge/main.tf"
    edit(main, "  force_destroy = false\n", "  force_destroy = \n")
    variables = project / "modules/edge/variables.tf"
    (project / "root/main.tf").write_text('resource "aws_s3_bucket" "x" {\n  buckit = "x"\n}\n')
    diagnostics = check(project)
    assert diagnostics[0] == ('root/main.tf:2: aws_s3_bucket.x: unknown argument "buckit" (did you mean "bucket"?)')
    # lark reports the token after the dangling "=", which starts at the end of that line
    assert diagnostics[1].startswith(f"modules/edge/main.tf:{line_of(main, 'force_destroy =')}: syntax error")
    assert len(diagnostics) == 2, diagnostics
    assert variables.exists()


def test_unclosed_block_is_reported_at_end_of_file(project: Path) -> None:
    variables = project / "modules/edge/variables.tf"
    variables.write_text('variable "name" {\n  type = string\n')
    assert check(project) == [
        "modules/edge/variables.tf:3: syntax error: unexpected end of file (an unclosed block, bracket or string?)"
    ]


def test_dynamic_block_content_and_deep_nesting_are_checked(project: Path) -> None:
    main = project / "modules/edge/main.tf"
    edit(main, "      priority = group.value", "      priorty = group.value")
    edit(main, "          response_code = 403", "          response_cod = 403")
    edit(main, "    iterator = group\n", "    iterator = group\n    each     = true\n")
    assert check(project) == [
        f"modules/edge/main.tf:{line_of(main, 'custom_response {')}: aws_wafv2_web_acl.this: "
        'rule.action.block.custom_response: missing required argument "response_code"',
        f"modules/edge/main.tf:{line_of(main, 'response_cod')}: aws_wafv2_web_acl.this: "
        'rule.action.block.custom_response: unknown argument "response_cod" (did you mean "response_code"?)',
        f"modules/edge/main.tf:{line_of(main, 'dynamic')}: aws_wafv2_web_acl.this: rule: "
        'missing required argument "priority"',
        f"modules/edge/main.tf:{line_of(main, 'each     = true')}: aws_wafv2_web_acl.this: "
        'dynamic "rule": unknown argument "each" (for_each, iterator, labels)',
        f"modules/edge/main.tf:{line_of(main, 'priorty')}: aws_wafv2_web_acl.this: rule: "
        'unknown argument "priorty" (did you mean "priority"?)',
    ]


def test_dynamic_block_for_an_unknown_block(project: Path) -> None:
    main = project / "modules/edge/main.tf"
    edit(main, 'dynamic "rule"', 'dynamic "rules"')
    assert check(project) == [
        f"modules/edge/main.tf:{line_of(main, 'dynamic')}: aws_wafv2_web_acl.this: "
        'dynamic "rules": unknown block "rules" (did you mean "rule"?)'
    ]


def test_data_source_blocks_use_the_data_source_schema(project: Path) -> None:
    main = project / "modules/edge/main.tf"
    edit(main, '    effect    = "Deny"', '    efect     = "Deny"')
    edit(main, '      test     = "Bool"\n', "")
    assert check(project) == [
        f"modules/edge/main.tf:{line_of(main, 'efect')}: data.aws_iam_policy_document.bucket: statement: "
        'unknown argument "efect" (did you mean "effect"?)',
        f"modules/edge/main.tf:{line_of(main, 'condition {')}: data.aws_iam_policy_document.bucket: "
        'statement.condition: missing required argument "test"',
    ]


def test_meta_arguments_and_timeouts_follow_the_schema(project: Path) -> None:
    main = project / "modules/edge/main.tf"
    edit(
        main,
        "  force_destroy = false\n",
        "  force_destroy = false\n  count         = 1\n  provider      = aws\n"
        '  timeouts {\n    create = "5m"\n  }\n'
        '  provisioner "local-exec" {\n    command = "true"\n  }\n',
    )
    # aws_s3_bucket_policy has no timeouts in 6.25.0; other providers' resources are not checked
    edit(main, "  depends_on = [aws_s3_bucket_versioning.logs]\n", '  timeouts {\n    create = "1m"\n  }\n')
    edit(main, "  triggers = {", "  anything_goes = 1\n  triggers = {")
    assert check(project) == [
        f"modules/edge/main.tf:{line_of(main, 'timeouts {', nth=2)}: aws_s3_bucket_policy.logs: "
        'unknown block "timeouts"'
    ]


def test_count_and_for_each_together(project: Path) -> None:
    main = project / "modules/edge/main.tf"
    edit(main, "  force_destroy = false\n", "  force_destroy = false\n  count = 1\n  for_each = {}\n")
    assert check(project) == [
        f"modules/edge/main.tf:{line_of(main, 'for_each = {}')}: aws_s3_bucket.logs: "
        '"count" and "for_each" cannot both be set'
    ]


def test_provider_pin_that_excludes_the_schema_version(project: Path) -> None:
    versions = project / "modules/edge/versions.tf"
    edit(versions, '">= 5.100, < 7"', '"~> 5.80"')
    assert check(project) == [
        f"modules/edge/versions.tf:{line_of(versions, '~> 5.80')}: required_providers.aws: "
        'version "~> 5.80" excludes hashicorp/aws 6.25.0, the version this offline check knows'
    ]


@pytest.mark.parametrize(
    ("constraint", "allowed"),
    [(">= 6.0, < 7.0", True), ("~> 6.2", True), ("~> 6.25.1", False), ("6.25.0", True), ("!= 6.25.0", False)],
)
def test_constraint_allows(constraint: str, allowed: bool) -> None:
    assert constraint_allows(constraint, "6.25.0") is allowed


def test_all_problems_across_files_are_collected_in_sorted_order(project: Path) -> None:
    (project / "modules/edge/b.tf").write_text('resource "aws_s3_bucket" "b" {\n  acll = "private"\n}\n')
    (project / "modules/edge/a.tf").write_text('data "aws_s3_bucket" "a" {\n}\n')
    (project / "modules/edge/c.tf").write_text('resource "aws_s3_bucket" {\n}\n')
    nested = project / "modules/edge/sub"
    nested.mkdir()
    (nested / "main.tf").write_text('resource "aws_s3_bucket_versioning" "v" {\n}\n')
    hidden = project / "modules/edge/.terraform/modules/x"
    hidden.mkdir(parents=True)
    (hidden / "main.tf").write_text('resource "aws_nope" "x" {}\n')
    assert check(project) == [
        'modules/edge/a.tf:1: data.aws_s3_bucket.a: missing required argument "bucket"',
        'modules/edge/b.tf:2: aws_s3_bucket.b: unknown argument "acll" (did you mean "acl"?)',
        "modules/edge/c.tf:1: resource block needs 2 labels (type and name), found 1",
        'modules/edge/sub/main.tf:1: aws_s3_bucket_versioning.v: missing required argument "bucket"',
        'modules/edge/sub/main.tf:1: aws_s3_bucket_versioning.v: missing required block "versioning_configuration"',
    ]


def test_validate_files_and_diagnostic_shape(tmp_path: Path) -> None:
    tf = tmp_path / "x.tf"
    tf.write_text('data "aws_wafv2_web_acl" "x" {\n  name = "a"\n  scope = "REGIONAL"\n}\n')
    assert validate_files([tf]) == []
    tf.write_text('resource "aws_iam_policy_document" "x" {\n}\n')
    [diag] = validate_files([tf], relative_to=tmp_path)
    assert diag == Diagnostic("x.tf", 1, diag.message)
    assert str(diag) == (
        'x.tf:1: aws_iam_policy_document.x: unknown resource type "aws_iam_policy_document" in hashicorp/aws '
        "6.25.0 (it is a data source)"
    )


def test_missing_root_dir_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a directory"):
        validate_tree(tmp_path / "nope", tmp_path / "modules")


def test_committed_schema_is_for_aws_6_25_0() -> None:
    doc = json.loads(SCHEMA_FILE.read_text())
    assert doc["provider"] == {"source": "registry.terraform.io/hashicorp/aws", "version": "6.25.0"}
    assert doc["assembly"]["package"] == "cdktf-cdktf-provider-aws==21.22.1"
    schema = load_provider_schema()
    assert schema.version == "6.25.0"
    assert constraint_allows(">= 6.0, < 7.0", schema.version)
    assert len(schema.resources) == 1581 and len(schema.data_sources) == 630
    for type_name in (
        "aws_wafv2_web_acl",
        "aws_opensearch_domain",
        "aws_codepipeline",
        "aws_guardduty_detector",
    ):
        assert schema.resource(type_name) is not None, type_name
    pipeline = schema.resource("aws_codepipeline")
    assert pipeline is not None and {"name", "role_arn", "artifact_store", "stage"} <= pipeline.required
    domain = schema.resource("aws_opensearch_domain")
    assert domain is not None and "endpoint" in domain.computed and "timeouts" in domain.blocks
    assert schema.data_source("aws_iam_policy_document") is not None


# --- both provider versions the modules are proven against (6.25.0 and the emulator's 5.100.0) ----------------


def test_an_argument_only_6x_has_fails_against_5100(tmp_path: Path) -> None:
    tf = tmp_path / "main.tf"
    tf.write_text('resource "aws_sns_topic" "t" {\n  name   = "t"\n  region = "eu-west-1"\n}\n')
    assert [str(d) for d in validate_files([tf], relative_to=tmp_path)] == [
        'main.tf:3: aws_sns_topic.t: unknown argument "region" (hashicorp/aws 5.100.0)'
    ]


def test_a_resource_only_5x_has_fails_against_625(tmp_path: Path) -> None:
    tf = tmp_path / "main.tf"
    tf.write_text('resource "aws_opsworks_stack" "s" {\n  name = "s"\n}\n')
    (diag,) = validate_files([tf], relative_to=tmp_path)
    assert (diag.file, diag.line) == ("main.tf", 1)
    assert 'unknown resource type "aws_opsworks_stack" in hashicorp/aws 6.25.0' in diag.message


def test_second_schema_is_the_real_5100_provider() -> None:
    from provisioner.provider_schema import SECOND_SCHEMA_FILE

    schema = load_provider_schema(SECOND_SCHEMA_FILE)
    assert schema.version == "5.100.0"
    region = schema.data_source("aws_region")
    assert region is not None and "name" in region.attributes | region.computed
    assert "region" not in (schema.resource("aws_sns_topic") or region).attributes

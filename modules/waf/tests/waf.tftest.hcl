# Plans the module against a mocked AWS provider (no credentials, no network) and asserts its security properties.
mock_provider "aws" {
  # Computed values come from the mocks already at plan (Terraform >= 1.11), so they can be asserted.
  override_during = plan
  source          = "../_mocks/aws" # the common account, region and create-time ARNs

  # This module's own:
  mock_resource "aws_wafv2_web_acl" {
    defaults = { arn = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/dev-waf/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111" }
  }
  mock_resource "aws_kinesis_firehose_delivery_stream" {
    defaults = { arn = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/aws-waf-logs-dev" }
  }
}

variables {
  name_prefix                  = "dev"
  kms_key_arn                  = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  access_log_bucket_id         = "dev-access-logs-123456789012-eu-west-1"
  vpc_cidr                     = "10.20.0.0/16"
  vpc_id                       = "vpc-0123456789abcdef0"
  subnet_ids                   = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  opensearch_domain_arn        = "arn:aws:es:eu-west-1:123456789012:domain/dev-logs"
  opensearch_security_group_id = "sg-0fedcba9876543210"
  normalizer_package           = { filename = "normalizer.zip", source_code_hash = "aGFzaA==", handler = "normalizer.handler" }
}

run "rate_limit_first_and_redacted_encrypted_logs" {
  command = plan

  assert {
    condition     = [for r in aws_wafv2_web_acl.this.rule : r.name if r.priority == 0] == ["rate-limit-per-ip"]
    error_message = "the per-IP rate limit is evaluated first"
  }
  assert {
    condition     = toset([for f in aws_wafv2_web_acl_logging_configuration.this.redacted_fields : f.single_header[0].name]) == toset(["authorization", "cookie"])
    error_message = "credentials in headers never reach the logs"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.server_side_encryption[0].enabled && aws_kinesis_firehose_delivery_stream.this.server_side_encryption[0].key_arn == var.kms_key_arn
    error_message = "the log stream is encrypted with the stack key"
  }
  assert {
    condition     = aws_cloudwatch_log_group.firehose.kms_key_id == var.kms_key_arn
    error_message = "delivery errors are logged encrypted"
  }
  assert {
    condition = toset(flatten([for s in data.aws_iam_policy_document.firehose.statement : tolist(s.actions) if contains(s.resources, "*")])) == toset([
      "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces",
    ])
    error_message = "only network describe calls (no resource-level permissions) may have Resource \"*\""
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.firehose.statement : s.resources if contains(s.actions, "es:ESHttpPut")] == [toset(["${var.opensearch_domain_arn}/_bulk", "${var.opensearch_domain_arn}/logs-waf*"])]
    error_message = "Firehose writes only the WAF index family"
  }
}

run "a_rate_limit_below_100_is_refused" {
  command = plan

  variables {
    rate_limit = 10
  }

  expect_failures = [var.rate_limit]
}

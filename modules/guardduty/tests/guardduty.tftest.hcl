# Plans the module against a mocked AWS provider (no credentials, no network) and asserts its security properties.
mock_provider "aws" {
  # Computed values come from the mocks already at plan (Terraform >= 1.11), so they can be asserted.
  override_during = plan
  source          = "../_mocks/aws" # the common account, region and create-time ARNs

  # This module's own:
  mock_resource "aws_guardduty_detector" {
    defaults = { id = "12abc34d567e8fa901bc2d34e56789f0", arn = "arn:aws:guardduty:eu-west-1:123456789012:detector/12abc34d567e8fa901bc2d34e56789f0" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/dev-guardduty-findings" }
  }
}

variables {
  name_prefix           = "dev"
  kms_key_arn           = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  access_log_bucket_id  = "dev-access-logs-123456789012-eu-west-1"
  vpc_cidr              = "10.20.0.0/16"
  vpc_id                = "vpc-0123456789abcdef0"
  subnet_ids            = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  opensearch_endpoint   = "https://vpc-dev-logs-abc.eu-west-1.es.amazonaws.com"
  opensearch_domain_arn = "arn:aws:es:eu-west-1:123456789012:domain/dev-logs"
  normalizer_package    = { filename = "normalizer.zip", source_code_hash = "aGFzaA==", handler = "normalizer.handler" }
  alerts_topic_arn      = "arn:aws:sns:eu-west-1:123456789012:dev-security-alerts"
}

run "detector_on_findings_exported_encrypted_and_alerted" {
  command = plan

  assert {
    condition     = length(aws_guardduty_detector.this) == 1 && aws_guardduty_detector.this[0].enable
    error_message = "the stack enables a GuardDuty detector"
  }
  assert {
    condition     = toset([for f in aws_guardduty_detector_feature.this : f.name if f.status == "ENABLED"]) == toset(["S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION"])
    error_message = "S3 protection and EBS malware protection are on by default"
  }
  assert {
    condition     = aws_guardduty_publishing_destination.s3.kms_key_arn == var.kms_key_arn
    error_message = "exported findings are encrypted with the stack key"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.bucket.statement : s.sid if s.effect == "Deny"] == ["DenyUploadsWithoutStackKey"]
    error_message = "the findings bucket refuses uploads not encrypted with the stack key"
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.bucket.statement : toset([for c in s.condition : c.variable]) == toset(["aws:SourceAccount", "aws:SourceArn"]) if s.effect != "Deny"])
    error_message = "GuardDuty's grants are bound to this account's detector"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.high_severity.event_pattern).detail.severity == [{ numeric = [">=", 7] }]
    error_message = "high-severity findings (>= 7) reach the alert topic"
  }
  assert {
    condition     = aws_lambda_permission.events.source_account == "123456789012" && aws_lambda_permission.events.source_arn == aws_cloudwatch_event_rule.findings.arn
    error_message = "only the findings rule of this account may invoke the normalizer"
  }
}

run "an_existing_detector_is_reused_not_created" {
  command = plan

  variables {
    existing_detector_id = "98abc34d567e8fa901bc2d34e56789f0"
  }

  assert {
    condition     = length(aws_guardduty_detector.this) == 0
    error_message = "with existing_detector_id no second detector is created"
  }
}

run "an_unknown_feature_is_refused" {
  command = plan

  variables {
    features = ["S3_DATA_EVENTS", "EVERYTHING"]
  }

  expect_failures = [var.features]
}

# Plans the module against a mocked AWS provider (no credentials, no network) and asserts its security properties.
mock_provider "aws" {
  # Computed values come from the mocks already at plan (Terraform >= 1.11), so they can be asserted.
  override_during = plan
  source          = "../_mocks/aws" # the common account, region and create-time ARNs

  # This module's own:
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:dev-security-alerts" }
  }
}

variables {
  name_prefix  = "dev"
  alert_emails = ["secops@example.com"]
}

run "one_rotated_key_encrypts_the_alerts_and_the_log_sink_is_private" {
  command = plan

  assert {
    condition     = aws_kms_key.this.enable_key_rotation && aws_kms_key.this.deletion_window_in_days == 30
    error_message = "the stack key must rotate and keep a 30-day deletion window"
  }
  assert {
    condition     = [for s in jsondecode(aws_kms_key.this.policy).Statement : s.Principal.AWS if s.Action == "kms:*"] == ["arn:aws:iam::123456789012:root"]
    error_message = "only the account root (through IAM) administers the key"
  }
  assert {
    condition     = length([for s in jsondecode(aws_kms_key.this.policy).Statement : s if s.Effect == "Allow" && try(s.Principal.AWS, "") == "*"]) == 0
    error_message = "the key policy must not allow every AWS principal"
  }
  assert {
    condition     = aws_sns_topic.alerts.kms_master_key_id == aws_kms_key.this.arn
    error_message = "the alerts topic must be encrypted with the stack key"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.alerts.statement : s.sid if s.effect == "Deny"] == ["DenyInsecureTransport"]
    error_message = "the alerts topic must refuse publishing without TLS"
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.alerts.statement : length(s.condition) > 0])
    error_message = "every topic policy statement must be bounded by a condition (account or TLS)"
  }
}

run "a_short_deletion_window_is_refused" {
  command = plan

  variables {
    kms_deletion_window_days = 3
  }

  expect_failures = [var.kms_deletion_window_days]
}

# Plans the module against a mocked AWS provider (no credentials, no network) and asserts its security properties.
mock_provider "aws" {
  # Computed values come from the defaults below already at plan (Terraform >= 1.11), so they can be asserted.
  override_during = plan

  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::dev-bucket-123456789012-eu-west-1" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:dev-function" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:dev-queue" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/dev/logs" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/dev-role" }
  }
  mock_resource "aws_security_group" {
    defaults = { id = "sg-0123456789abcdef0" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:dev-topic" }
  }
}

variables {
  name_prefix        = "dev"
  kms_key_arn        = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  vpc_id             = "vpc-0123456789abcdef0"
  subnet_ids         = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  alerts_topic_arn   = "arn:aws:sns:eu-west-1:123456789012:dev-security-alerts"
  detector_id        = "12abc34d567e8fa901bc2d34e56789f0"
  quarantine_vpc_ids = ["vpc-0123456789abcdef0"]
  package            = { filename = "response.zip", source_code_hash = "aGFzaA==", handler = "response.handler" }
}

run "default_policy_grants_only_what_its_actions_need" {
  command = plan

  assert {
    condition     = length(aws_security_group.quarantine) == 1 && aws_security_group.quarantine[0].vpc_id == var.quarantine_vpc_ids[0]
    error_message = "one quarantine group per VPC"
  }
  assert {
    condition     = !contains([for s in data.aws_iam_policy_document.response.statement : s.sid], "DeactivateAccessKeys") && length([for s in data.aws_iam_policy_document.response.statement : s if contains(s.actions, "iam:UpdateAccessKey")]) == 0
    error_message = "deactivating access keys is off by default, so the function gets no permission for it"
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.response.statement : s if contains(s.actions, "wafv2:UpdateIPSet")]) == 0
    error_message = "without a WAF IP set there is no permission to change one"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.response.statement :
    s.effect == "Deny" && contains(s.actions, "iam:PutRolePolicy") && contains(s.resources, "arn:aws:iam::123456789012:role/dev-guardduty-response-role")])
    error_message = "the function can never revoke its own role's sessions (or service roles')"
  }
  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.response.statement : tolist(s.actions) if contains(s.resources, "*") && s.effect == "Allow"])) == toset(["ec2:DescribeInstances", "ec2:DescribeSnapshots", "ec2:DescribeTags"])
    error_message = "only EC2 Describe calls (no resource-level permissions) are allowed on Resource \"*\""
  }
  assert {
    condition     = aws_lambda_permission.findings.source_account == "123456789012" && aws_lambda_permission.findings.principal == "events.amazonaws.com"
    error_message = "only this account's GuardDuty rule invokes the response"
  }
}

run "opting_in_to_key_deactivation_adds_exactly_its_permissions" {
  command = plan

  variables {
    policy = { actions = { deactivate_access_key = { enabled = true } } }
  }

  assert {
    condition     = length([for s in data.aws_iam_policy_document.response.statement : s if contains(s.actions, "iam:UpdateAccessKey") && s.resources == toset(["arn:aws:iam::123456789012:user/*"])]) == 1
    error_message = "key deactivation is granted on IAM users only"
  }
}

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
  name_prefix          = "dev"
  kms_key_arn          = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  access_log_bucket_id = "dev-access-logs-123456789012-eu-west-1"
  vpc_id               = "vpc-0123456789abcdef0"
  subnet_ids           = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  importer_package     = { filename = "importer.zip", source_code_hash = "aGFzaA==", handler = "findings.handler" }
}

run "reports_private_and_the_importer_scoped_to_its_product" {
  command = plan

  assert {
    condition     = [for s in data.aws_iam_policy_document.importer.statement : s.resources if s.sid == "ImportFindingsIntoOwnProduct"] == [toset(["arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"])]
    error_message = "findings may be imported only into this account's own product"
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.importer.statement : !contains(s.resources, "*")])
    error_message = "every importer permission names its resource"
  }
  assert {
    condition     = alltrue([for r in flatten([for s in data.aws_iam_policy_document.importer.statement : tolist(s.resources) if s.sid == "ReadReports"]) : endswith(r, "/*") && length(regexall("/(dependency-check|sonarqube|zap)/", r)) == 1])
    error_message = "the importer reads only the three tools' report prefixes"
  }
  assert {
    condition     = aws_lambda_permission.report_bucket.source_account == "123456789012" && aws_lambda_permission.report_bucket.principal == "s3.amazonaws.com"
    error_message = "only this account's report bucket may invoke the importer"
  }
  assert {
    condition     = length(aws_securityhub_account.this) == 1
    error_message = "Security Hub is enabled by default"
  }
}

run "an_account_whose_security_hub_is_managed_elsewhere" {
  command = plan

  variables {
    manage_security_hub = false
  }

  assert {
    condition     = length(aws_securityhub_account.this) == 0
    error_message = "manage_security_hub = false leaves the account's Security Hub alone"
  }
}

# Plans the module against a mocked AWS provider (no credentials, no network) and asserts its security properties.
mock_provider "aws" {
  # Computed values come from the mocks already at plan (Terraform >= 1.11), so they can be asserted.
  override_during = plan
  source          = "../_mocks/aws" # the common account, region and create-time ARNs
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

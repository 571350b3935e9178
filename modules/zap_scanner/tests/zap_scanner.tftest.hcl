# Plans the module against a mocked AWS provider (no credentials, no network) and asserts its security properties.
mock_provider "aws" {
  # Computed values come from the mocks already at plan (Terraform >= 1.11), so they can be asserted.
  override_during = plan
  source          = "../_mocks/aws" # the common account, region and create-time ARNs

  # This module's own:
  mock_data "aws_ssm_parameter" {
    defaults = { value = "ami-0123456789abcdef0" }
  }
}

variables {
  name_prefix       = "dev"
  kms_key_arn       = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  vpc_id            = "vpc-0123456789abcdef0"
  subnet_ids        = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  report_bucket_id  = "dev-reports-123456789012-eu-west-1"
  report_bucket_arn = "arn:aws:s3:::dev-reports-123456789012-eu-west-1"
}

run "private_imdsv2_encrypted_host_scoped_to_its_reports" {
  command = plan

  assert {
    condition     = !aws_instance.this.associate_public_ip_address && aws_instance.this.subnet_id == var.subnet_ids[0]
    error_message = "the scanner has no public IP and sits in a private subnet"
  }
  assert {
    condition     = aws_instance.this.metadata_options[0].http_tokens == "required" && aws_instance.this.metadata_options[0].http_put_response_hop_limit == 1
    error_message = "instance metadata needs IMDSv2 tokens and does not leave the host"
  }
  assert {
    condition     = aws_instance.this.root_block_device[0].encrypted && aws_instance.this.root_block_device[0].kms_key_id == var.kms_key_arn
    error_message = "the root volume is encrypted with the stack key"
  }
  assert {
    condition     = toset([for r in aws_vpc_security_group_egress_rule.this : r.from_port]) == toset([80, 443])
    error_message = "egress only to web ports"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.instance.statement : s.resources if s.sid == "UploadZapReports"] == [toset(["${var.report_bucket_arn}/zap/*"])]
    error_message = "the host writes only under the zap/ prefix of the report bucket"
  }
  assert {
    condition     = alltrue([for a in flatten([for s in data.aws_iam_policy_document.instance.statement : tolist(s.actions) if contains(s.resources, "*")]) : startswith(a, "ec2messages:") || startswith(a, "ssmmessages:")])
    error_message = "only the SSM agent's message channels (no resource-level permissions) may have Resource \"*\""
  }
}

run "an_unknown_scan_mode_is_refused" {
  command = plan

  variables {
    default_scan_mode = "aggressive"
  }

  expect_failures = [var.default_scan_mode]
}

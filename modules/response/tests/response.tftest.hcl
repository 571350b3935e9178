# Plans the module against a mocked AWS provider (no credentials, no network) and asserts its security properties.
mock_provider "aws" {
  # Computed values come from the mocks already at plan (Terraform >= 1.11), so they can be asserted.
  override_during = plan
  source          = "../_mocks/aws" # the common account, region and create-time ARNs
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

# Plans the module against a mocked AWS provider (no credentials, no network) and asserts its security properties.
mock_provider "aws" {
  # Computed values come from the mocks already at plan (Terraform >= 1.11), so they can be asserted.
  override_during = plan
  source          = "../_mocks/aws" # the common account, region and create-time ARNs
}

variables {
  build_role_arn   = "arn:aws:iam::111111111111:role/devsecops-fleet-build"
  state_bucket_arn = "arn:aws:s3:::devsecops-tfstate-123456789012-eu-west-1"
}

run "drift_role_reads_only_and_reap_is_bound_to_tagged_resources" {
  command = plan

  assert {
    condition     = flatten([for s in data.aws_iam_policy_document.trust.statement : [for p in s.principals : tolist(p.identifiers)]]) == [var.build_role_arn]
    error_message = "only the fleet's build role may assume the member roles"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.read_only.policy_arn == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    error_message = "the drift role reads the account, read-only"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.state.statement : s.resources if s.sid == "LockFiles"] == [toset(["${var.state_bucket_arn}/provision/devsecops/*.tflock"])]
    error_message = "the drift role writes nothing but S3 lock files next to the states"
  }
  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.reap.statement :
    anytrue([for c in s.condition : c.test == "Null" && c.variable == "aws:ResourceTag/Instance" && contains(c.values, "false")]) if contains(s.resources, "*")])
    error_message = "every destructive reap permission on Resource \"*\" needs the instance tag"
  }
  assert {
    condition     = !contains([for s in data.aws_iam_policy_document.state.statement : s.sid], "LockTable")
    error_message = "no DynamoDB permission unless a lock table is named"
  }
}

run "no_reap_role_when_not_asked_for" {
  command = plan

  variables {
    reap_role_name = ""
  }

  assert {
    condition     = length(aws_iam_role.reap) == 0 && length(aws_iam_role_policy.reap) == 0
    error_message = "reap_role_name = \"\" creates no role that can delete"
  }
}

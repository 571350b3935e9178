# Plans the module against a mocked AWS provider (no credentials, no network) and asserts its security properties.
mock_provider "aws" {
  # Computed values come from the mocks already at plan (Terraform >= 1.11), so they can be asserted.
  override_during = plan
  source          = "../_mocks/aws" # the common account, region and create-time ARNs

  # This module's own:
  mock_resource "aws_codebuild_project" {
    defaults = { arn = "arn:aws:codebuild:eu-west-1:123456789012:project/dev-fleet" }
  }
  mock_resource "aws_sfn_state_machine" {
    defaults = { arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:dev-fleet" }
  }
}

variables {
  name_prefix          = "dev"
  kms_key_arn          = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  access_log_bucket_id = "dev-access-logs-123456789012-eu-west-1"
  vpc_id               = "vpc-0123456789abcdef0"
  subnet_ids           = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  alerts_topic_arn     = "arn:aws:sns:eu-west-1:123456789012:dev-security-alerts"
  source_location      = "https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/app"
  package              = { filename = "aggregator.zip", source_code_hash = "aGFzaA==", handler = "fleet.handler" }
  targets = [
    { name = "dev", role = "arn:aws:iam::222222222222:role/devsecops-fleet-drift" },
    { name = "prod", role = "arn:aws:iam::333333333333:role/devsecops-fleet-drift" },
  ]
}

run "builds_assume_only_member_roles_and_everything_is_encrypted" {
  command = plan

  assert {
    condition = toset(flatten([for s in data.aws_iam_policy_document.codebuild.statement : tolist(s.resources) if s.sid == "AssumeMemberRoles"])) == toset([
      "arn:aws:iam::222222222222:role/devsecops-fleet-drift", "arn:aws:iam::333333333333:role/devsecops-fleet-drift",
      "arn:aws:iam::222222222222:role/devsecops-fleet-reap", "arn:aws:iam::333333333333:role/devsecops-fleet-reap",
    ])
    error_message = "the builds may assume the members' drift and reap roles, nothing else"
  }
  assert {
    condition     = aws_codebuild_project.this.encryption_key == var.kms_key_arn && !aws_codebuild_project.this.environment[0].privileged_mode
    error_message = "builds are encrypted with the stack key and unprivileged"
  }
  assert {
    condition     = aws_sfn_state_machine.this.encryption_configuration[0].kms_key_id == var.kms_key_arn && aws_sfn_state_machine.this.tracing_configuration[0].enabled
    error_message = "the state machine is encrypted with the stack key and traced"
  }
  assert {
    condition     = aws_s3_object.targets.kms_key_id == var.kms_key_arn && aws_cloudwatch_log_group.builds.kms_key_id == var.kms_key_arn
    error_message = "the fleet list and build logs are encrypted with the stack key"
  }
  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.state_machine.statement : tolist(s.actions) if contains(s.resources, "*")])) == toset(flatten([for s in data.aws_iam_policy_document.state_machine.statement : tolist(s.actions) if s.sid == "DeliverLogsAndTraces"]))
    error_message = "only log delivery and X-Ray calls (no resource-level permissions) may have Resource \"*\""
  }
}

run "without_reaping_the_builds_cannot_assume_reap_roles" {
  command = plan

  variables {
    reap_schedule = ""
  }

  assert {
    condition     = alltrue([for r in flatten([for s in data.aws_iam_policy_document.codebuild.statement : tolist(s.resources) if s.sid == "AssumeMemberRoles"]) : endswith(r, ":role/devsecops-fleet-drift")])
    error_message = "reap_schedule = \"\" drops every reap role from what the builds may assume"
  }
}

run "a_target_without_a_role_arn_is_refused" {
  command = plan

  variables {
    targets = [{ name = "dev", role = "devsecops-fleet-drift" }]
  }

  expect_failures = [var.targets]
}

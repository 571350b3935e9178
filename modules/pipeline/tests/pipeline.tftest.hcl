# Plans the module against a mocked AWS provider (no credentials, no network) and asserts its security properties.
mock_provider "aws" {
  # Computed values come from the mocks already at plan (Terraform >= 1.11), so they can be asserted.
  override_during = plan
  source          = "../_mocks/aws" # the common account, region and create-time ARNs

  # This module's own:
  mock_resource "aws_codebuild_project" {
    defaults = { arn = "arn:aws:codebuild:eu-west-1:123456789012:project/dev-stage" }
  }
}

variables {
  name_prefix                = "dev"
  kms_key_arn                = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  access_log_bucket_id       = "dev-access-logs-123456789012-eu-west-1"
  vpc_id                     = "vpc-0123456789abcdef0"
  subnet_ids                 = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  report_bucket_id           = "dev-reports-123456789012-eu-west-1"
  report_bucket_arn          = "arn:aws:s3:::dev-reports-123456789012-eu-west-1"
  zap_instance_id            = "i-0123456789abcdef0"
  zap_document_name          = "dev-zap-scan"
  repository                 = "app"
  sonar_host_url             = "https://sonar.example.com"
  sonar_project_key          = "app"
  sonar_token_parameter_name = "/dev/sonar/token"
  dast_target_url            = "https://app.example.com"
  connection_arn             = "arn:aws:codeconnections:eu-west-1:123456789012:connection/00000000-0000-0000-0000-000000000000"
}

run "encrypted_private_unprivileged_stages" {
  command = plan

  assert {
    condition     = alltrue([for p in aws_codebuild_project.this : p.encryption_key == var.kms_key_arn && !p.artifacts[0].encryption_disabled])
    error_message = "every stage encrypts its artifacts with the stack key"
  }
  assert {
    condition     = alltrue([for p in aws_codebuild_project.this : !p.environment[0].privileged_mode])
    error_message = "no stage runs privileged (Docker-in-Docker) unless asked for"
  }
  assert {
    condition     = alltrue([for p in aws_codebuild_project.this : p.vpc_config[0].subnets == toset(var.subnet_ids)])
    error_message = "every stage runs in the private subnets"
  }
  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.codebuild : g.kms_key_id == var.kms_key_arn])
    error_message = "build logs are encrypted with the stack key"
  }
  assert {
    condition     = [for a in aws_codepipeline.this.artifact_store : a.encryption_key[0].id] == [var.kms_key_arn]
    error_message = "the pipeline's artifact store is encrypted with the stack key"
  }
  assert {
    condition = alltrue([for p in aws_codebuild_project.this : alltrue([for v in p.environment[0].environment_variable :
    v.type == "PARAMETER_STORE" if strcontains(lower(v.name), "token")])])
    error_message = "tokens reach the builds from Parameter Store, never as plain text"
  }
  assert {
    condition     = keys(aws_codebuild_project.this) == ["build", "dast", "sast", "sca"]
    error_message = "build, SCA, SAST and DAST stages; no deploy stage unless enabled"
  }
}

run "a_codestar_source_needs_its_connection" {
  command = plan

  variables {
    source_provider = "CodeStarSourceConnection"
    connection_arn  = null
  }

  expect_failures = [aws_codepipeline.this]
}

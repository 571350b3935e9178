# Plans the module against a mocked AWS provider (no credentials, no network) and asserts its security properties.
mock_provider "aws" {
  # Computed values come from the mocks already at plan (Terraform >= 1.11), so they can be asserted.
  override_during = plan
  source          = "../_mocks/aws" # the common account, region and create-time ARNs

  # This module's own:
  mock_resource "aws_opensearch_domain" {
    defaults = { arn = "arn:aws:es:eu-west-1:123456789012:domain/dev-logs", endpoint = "vpc-dev-logs-abc.eu-west-1.es.amazonaws.com" }
  }
}

variables {
  name_prefix          = "dev"
  kms_key_arn          = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  access_log_bucket_id = "dev-access-logs-123456789012-eu-west-1"
  vpc_cidr             = "10.20.0.0/16"
  vpc_id               = "vpc-0123456789abcdef0"
  subnet_ids           = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  configurator_package = { filename = "configurator.zip", source_code_hash = "aGFzaA==", handler = "configurator.handler" }
  alerts_topic_arn     = "arn:aws:sns:eu-west-1:123456789012:dev-security-alerts"
  ingest_role_arns     = ["arn:aws:iam::123456789012:role/dev-firehose"]
  configure_domain     = false # the content file is written by `provision render`; its tests are in Python
}

run "private_encrypted_fine_grained_domain" {
  command = plan

  assert {
    condition = (aws_opensearch_domain.this.encrypt_at_rest[0].enabled && aws_opensearch_domain.this.encrypt_at_rest[0].kms_key_id == var.kms_key_arn &&
    aws_opensearch_domain.this.node_to_node_encryption[0].enabled)
    error_message = "data at rest (stack key) and between nodes must be encrypted"
  }
  assert {
    condition     = aws_opensearch_domain.this.domain_endpoint_options[0].enforce_https && startswith(aws_opensearch_domain.this.domain_endpoint_options[0].tls_security_policy, "Policy-Min-TLS-1-2")
    error_message = "HTTPS only, TLS 1.2 or newer"
  }
  assert {
    condition = (aws_opensearch_domain.this.advanced_security_options[0].enabled &&
      !aws_opensearch_domain.this.advanced_security_options[0].anonymous_auth_enabled &&
    !aws_opensearch_domain.this.advanced_security_options[0].internal_user_database_enabled)
    error_message = "fine-grained access control with IAM users only: no anonymous or internal users"
  }
  assert {
    condition     = length(aws_opensearch_domain.this.vpc_options) == 1 && aws_opensearch_domain.this.vpc_options[0].security_group_ids == toset([aws_security_group.this.id])
    error_message = "the domain lives in the VPC behind its own security group"
  }
  assert {
    condition     = contains([for o in aws_opensearch_domain.this.log_publishing_options : o.log_type if o.enabled], "AUDIT_LOGS")
    error_message = "audit logs are published"
  }
  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.access.statement :
    !contains(flatten([for p in s.principals : tolist(p.identifiers)]), "*")])
    error_message = "the domain policy names its principals: never \"*\""
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.access.statement : s.actions if s.sid == "IngestRolesWriteDocuments"] == [toset(["es:ESHttpPost", "es:ESHttpPut"])]
    error_message = "ingest roles may only write documents"
  }
  assert {
    condition = anytrue([for s in data.aws_iam_policy_document.admin_assume.statement :
    anytrue([for c in s.condition : c.variable == "aws:MultiFactorAuthPresent"])])
    error_message = "people assume the admin role with MFA only"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.vpc[0].from_port == 443 && aws_vpc_security_group_ingress_rule.vpc[0].cidr_ipv4 == var.vpc_cidr
    error_message = "HTTPS from inside the VPC only"
  }
}

run "a_tls_policy_without_forward_secrecy_is_refused" {
  command = plan

  variables {
    tls_security_policy = "Policy-Min-TLS-1-0-2019-07"
  }

  expect_failures = [var.tls_security_policy]
}

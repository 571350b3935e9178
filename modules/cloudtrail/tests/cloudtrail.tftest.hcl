# Plans the module against a mocked AWS provider (no credentials, no network) and asserts its security properties.
mock_provider "aws" {
  # Computed values come from the mocks already at plan (Terraform >= 1.11), so they can be asserted.
  override_during = plan
  source          = "../_mocks/aws"
}

variables {
  name_prefix           = "dev"
  kms_key_arn           = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  access_log_bucket_id  = "dev-access-logs-123456789012-eu-west-1"
  vpc_cidr              = "10.20.0.0/16"
  vpc_id                = "vpc-0123456789abcdef0"
  subnet_ids            = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  opensearch_endpoint   = "https://vpc-dev-logs-abc.eu-west-1.es.amazonaws.com"
  opensearch_domain_arn = "arn:aws:es:eu-west-1:123456789012:domain/dev-logs"
  normalizer_package    = { filename = "normalizer.zip", source_code_hash = "aGFzaA==", handler = "normalizer.handler" }
}

run "multi_region_validated_encrypted_trail_written_only_by_cloudtrail" {
  command = plan

  assert {
    condition = (aws_cloudtrail.this.is_multi_region_trail && aws_cloudtrail.this.include_global_service_events &&
    aws_cloudtrail.this.enable_log_file_validation && aws_cloudtrail.this.kms_key_id == var.kms_key_arn)
    error_message = "the trail must cover every region and global services, validate log files and use SSE-KMS"
  }
  assert {
    condition     = aws_cloudwatch_log_group.trail.kms_key_id == var.kms_key_arn && aws_sns_topic.delivery.kms_master_key_id == var.kms_key_arn
    error_message = "the trail's log group and delivery topic are encrypted with the stack key"
  }
  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.bucket.statement : [for p in s.principals : tolist(p.identifiers)]])) == toset(["cloudtrail.amazonaws.com"])
    error_message = "only CloudTrail is granted access to the trail bucket"
  }
  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.bucket.statement : contains([for c in s.condition : c.variable], "aws:SourceArn")])
    error_message = "every bucket grant is bound to this trail (aws:SourceArn), against confused deputies"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.cloudwatch.statement : s.resources] == [toset(["${aws_cloudwatch_log_group.trail.arn}:log-stream:*"])]
    error_message = "the trail's role writes only its own log group"
  }
}

run "short_log_retention_is_refused" {
  command = plan

  variables {
    log_retention_days = 30
  }

  expect_failures = [var.log_retention_days]
}

run "a_plain_http_opensearch_endpoint_is_refused" {
  command = plan

  variables {
    opensearch_endpoint = "http://vpc-dev-logs-abc.eu-west-1.es.amazonaws.com"
  }

  expect_failures = [var.opensearch_endpoint]
}

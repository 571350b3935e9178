# Plans the module against a mocked AWS provider (no credentials, no network) and asserts its security properties.
mock_provider "aws" {}

variables {
  name                 = "dev-reports"
  kms_key_arn          = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  access_log_bucket_id = "dev-access-logs"
}

run "private_kms_encrypted_versioned_logged" {
  command = plan

  assert {
    condition     = [for r in aws_s3_bucket_server_side_encryption_configuration.this.rule : r.apply_server_side_encryption_by_default[0].sse_algorithm] == ["aws:kms"]
    error_message = "objects must be encrypted with SSE-KMS"
  }
  assert {
    condition     = [for r in aws_s3_bucket_server_side_encryption_configuration.this.rule : r.apply_server_side_encryption_by_default[0].kms_master_key_id] == [var.kms_key_arn]
    error_message = "SSE-KMS must use the given customer-managed key"
  }
  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
    ])
    error_message = "all four public access blocks must be on"
  }
  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "versioning must be enabled"
  }
  assert {
    condition     = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled (BucketOwnerEnforced)"
  }
  assert {
    condition     = length(aws_s3_bucket_logging.this) == 1 && aws_s3_bucket_logging.this[0].target_bucket == var.access_log_bucket_id
    error_message = "server access logs must go to the access-log bucket"
  }
  assert {
    condition = [for s in data.aws_iam_policy_document.tls_only.statement : s.effect] == ["Deny"] && anytrue([
      for c in data.aws_iam_policy_document.tls_only.statement[0].condition : c.variable == "aws:SecureTransport" && contains(c.values, "false")
    ])
    error_message = "the bucket policy must deny every request without TLS, and allow nothing else"
  }
}

run "the_access_log_sink_uses_sse_s3_and_only_admits_s3_logging" {
  command = plan

  variables {
    name                 = "dev-access-logs"
    access_log_bucket_id = null
    is_access_log_bucket = true
  }

  assert {
    condition     = [for r in aws_s3_bucket_server_side_encryption_configuration.this.rule : r.apply_server_side_encryption_by_default[0].sse_algorithm] == ["AES256"]
    error_message = "S3 server access logging delivers only to SSE-S3 buckets"
  }
  assert {
    condition     = length(aws_s3_bucket_logging.this) == 0
    error_message = "the log sink must not log to itself"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.tls_only.statement : flatten(s.principals[*].identifiers) if s.effect == "Allow"] == [["logging.s3.amazonaws.com"]]
    error_message = "only the S3 logging service may write to the log sink"
  }
}

run "a_bad_key_arn_is_refused" {
  command = plan

  variables {
    kms_key_arn = "alias/not-an-arn"
  }

  expect_failures = [var.kms_key_arn]
}

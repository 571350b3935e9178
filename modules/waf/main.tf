data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id  = data.aws_caller_identity.current.account_id
  partition   = data.aws_partition.current.partition
  region      = data.aws_region.current.name
  acl_name    = "${var.name_prefix}-web-acl"
  stream_name = "aws-waf-logs-${var.name_prefix}"
  ec2_arn     = "arn:${local.partition}:ec2:${local.region}:${local.account_id}"
  domain_arn  = var.opensearch_domain_arn
}

# ---------------------------------------------------------------- web ACL

resource "aws_wafv2_web_acl" "this" {
  name        = local.acl_name
  description = "Managed rule groups and a per-IP rate limit for ${var.name_prefix}"
  scope       = var.scope
  tags        = var.tags

  default_action {
    allow {}
  }

  rule {
    name     = "rate-limit-per-ip"
    priority = 0

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit              = var.rate_limit
        aggregate_key_type = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.acl_name}-rate-limit"
      sampled_requests_enabled   = true
    }
  }

  # Addresses the GuardDuty response adds (with an expiry it tracks); any match is blocked.
  rule {
    name     = "guardduty-response-blocked-ips"
    priority = length(var.managed_rule_groups) + 1

    action {
      block {}
    }

    statement {
      ip_set_reference_statement {
        arn = aws_wafv2_ip_set.blocked.arn
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${local.acl_name}-blocked-ips"
      sampled_requests_enabled   = true
    }
  }

  dynamic "rule" {
    for_each = var.managed_rule_groups
    content {
      name     = rule.value
      priority = rule.key + 1

      override_action {
        none {}
      }

      statement {
        managed_rule_group_statement {
          name        = rule.value
          vendor_name = "AWS"
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = "${local.acl_name}-${rule.value}"
        sampled_requests_enabled   = true
      }
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = local.acl_name
    sampled_requests_enabled   = true
  }
}

# Starts empty; the response Lambda owns its addresses (and tags each with its expiry), Terraform only the set.
resource "aws_wafv2_ip_set" "blocked" {
  name               = "${var.name_prefix}-blocked-ips"
  description        = "Remote addresses blocked by the GuardDuty response, each with an expiry tag"
  scope              = var.scope
  ip_address_version = "IPV4"
  addresses          = []
  tags               = var.tags

  lifecycle {
    ignore_changes = [addresses, tags]
  }
}

resource "aws_wafv2_web_acl_association" "alb" {
  count = var.alb_arn == null ? 0 : 1

  resource_arn = var.alb_arn
  web_acl_arn  = aws_wafv2_web_acl.this.arn
}

# ---------------------------------------------------------------- normaliser (Firehose processor)

module "normalizer" {
  source = "../lambda_function"

  function_name = "${var.name_prefix}-waf-normalizer"
  description   = "Firehose processor normalising WAF log records before OpenSearch delivery"
  package       = var.normalizer_package
  kms_key_arn   = var.kms_key_arn
  vpc_id        = var.vpc_id
  subnet_ids    = var.subnet_ids
  # Query-string parameters redacted beyond the built-in list (provisioner/functions/logs/waf.py).
  environment_variables = length(var.redact_query_parameters) > 0 ? { REDACT_QUERY_PARAMETERS = join(",", var.redact_query_parameters) } : {}
  # Records arrive in the invocation and go back in the response: the function needs no network at all.
  egress_cidr_blocks = []
  timeout            = 120
  log_retention_days = var.normalizer_log_retention_days
  tags               = var.tags
}

# ---------------------------------------------------------------- S3 backup

module "backup" {
  source = "../secure_bucket"

  name                 = "${var.name_prefix}-waf-logs-${local.account_id}-${local.region}"
  kms_key_arn          = var.kms_key_arn
  access_log_bucket_id = var.access_log_bucket_id
  force_destroy        = var.force_destroy
  expiration_days      = var.backup_retention_days
  tags                 = var.tags
}

# ---------------------------------------------------------------- Firehose role (no reference to the domain)

data "aws_iam_policy_document" "firehose_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }

    # The condition Firehose documents for its role trust: the stream's own account as external ID.
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "firehose" {
  name               = "${local.stream_name}-firehose"
  description        = "Firehose delivery of WAF logs to OpenSearch and S3"
  assume_role_policy = data.aws_iam_policy_document.firehose_assume.json
  tags               = var.tags
}

resource "aws_cloudwatch_log_group" "firehose" {
  name              = "/aws/kinesisfirehose/${local.stream_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_stream" "opensearch" {
  name           = "OpenSearchDelivery"
  log_group_name = aws_cloudwatch_log_group.firehose.name
}

resource "aws_cloudwatch_log_stream" "s3" {
  name           = "S3Delivery"
  log_group_name = aws_cloudwatch_log_group.firehose.name
}

data "aws_iam_policy_document" "firehose" {
  statement {
    sid = "WriteBackupBucket"
    actions = [
      "s3:AbortMultipartUpload",
      "s3:GetBucketLocation",
      "s3:GetObject",
      "s3:ListBucket",
      "s3:ListBucketMultipartUploads",
      "s3:PutObject",
    ]
    resources = [module.backup.arn, "${module.backup.arn}/*"]
  }

  statement {
    sid       = "UseStackKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "InvokeNormalizer"
    actions   = ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]
    resources = [module.normalizer.function_arn, "${module.normalizer.function_arn}:*"]
  }

  statement {
    sid       = "DescribeDomain"
    actions   = ["es:DescribeDomain", "es:DescribeDomains", "es:DescribeDomainConfig"]
    resources = [local.domain_arn, "${local.domain_arn}/*"]
  }

  statement {
    sid       = "IndexWafLogs"
    actions   = ["es:ESHttpPost", "es:ESHttpPut"]
    resources = ["${local.domain_arn}/_bulk", "${local.domain_arn}/${var.index_name}*"]
  }

  statement {
    sid     = "ReadClusterMetadata"
    actions = ["es:ESHttpGet"]
    resources = [
      "${local.domain_arn}/_all/_settings",
      "${local.domain_arn}/_cluster/stats",
      "${local.domain_arn}/_nodes",
      "${local.domain_arn}/_nodes/stats",
      "${local.domain_arn}/_nodes/*/stats",
      "${local.domain_arn}/_stats",
      "${local.domain_arn}/${var.index_name}*/_mapping/*",
      "${local.domain_arn}/${var.index_name}*/_stats",
    ]
  }

  statement {
    sid = "DescribeNetwork"
    actions = [
      "ec2:DescribeVpcs",
      "ec2:DescribeSubnets",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeNetworkInterfaces",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "DescribeDeliveryVpc"
    actions   = ["ec2:DescribeVpcAttribute"]
    resources = ["${local.ec2_arn}:vpc/${var.vpc_id}"]
  }

  statement {
    sid     = "ManageDeliveryInterfaces"
    actions = ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface"]
    resources = concat(
      ["${local.ec2_arn}:network-interface/*", "${local.ec2_arn}:security-group/${var.opensearch_security_group_id}"],
      [for s in var.subnet_ids : "${local.ec2_arn}:subnet/${s}"],
    )
  }

  statement {
    sid       = "WriteDeliveryErrors"
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.firehose.arn}:log-stream:*"]
  }
}

resource "aws_iam_role_policy" "firehose" {
  name   = "delivery"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose.json
}

# ---------------------------------------------------------------- Firehose stream and WAF logging

resource "aws_kinesis_firehose_delivery_stream" "this" {
  name        = local.stream_name
  destination = "opensearch"
  tags        = var.tags

  server_side_encryption {
    enabled  = true
    key_type = "CUSTOMER_MANAGED_CMK"
    key_arn  = var.kms_key_arn
  }

  opensearch_configuration {
    domain_arn            = local.domain_arn
    role_arn              = aws_iam_role.firehose.arn
    index_name            = var.index_name
    index_rotation_period = "OneDay"
    s3_backup_mode        = var.s3_backup_mode
    retry_duration        = 300

    s3_configuration {
      role_arn            = aws_iam_role.firehose.arn
      bucket_arn          = module.backup.arn
      prefix              = "waf/"
      error_output_prefix = "errors/"
      compression_format  = "GZIP"
      kms_key_arn         = var.kms_key_arn

      cloudwatch_logging_options {
        enabled         = true
        log_group_name  = aws_cloudwatch_log_group.firehose.name
        log_stream_name = aws_cloudwatch_log_stream.s3.name
      }
    }

    # The domain's own security group, whose members may reach each other on 443 (opensearch module).
    vpc_config {
      subnet_ids         = var.subnet_ids
      security_group_ids = [var.opensearch_security_group_id]
      role_arn           = aws_iam_role.firehose.arn
    }

    processing_configuration {
      enabled = true

      processors {
        type = "Lambda"

        parameters {
          parameter_name  = "LambdaArn"
          parameter_value = "${module.normalizer.function_arn}:$LATEST"
        }
      }
    }

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose.name
      log_stream_name = aws_cloudwatch_log_stream.opensearch.name
    }
  }

  # Firehose validates VPC, S3, Lambda and domain access with the role when the stream is created.
  depends_on = [aws_iam_role_policy.firehose]
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  resource_arn            = aws_wafv2_web_acl.this.arn
  log_destination_configs = [aws_kinesis_firehose_delivery_stream.this.arn]

  redacted_fields {
    single_header {
      name = "authorization"
    }
  }

  redacted_fields {
    single_header {
      name = "cookie"
    }
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  trail_name = "${var.name_prefix}-trail"
  # Built from names: the bucket policy and the role trust must exist before the trail does.
  trail_arn   = "arn:${local.partition}:cloudtrail:${local.region}:${local.account_id}:trail/${local.trail_name}"
  bucket_name = "${var.name_prefix}-cloudtrail-${local.account_id}-${local.region}"
  bucket_arn  = "arn:${local.partition}:s3:::${local.bucket_name}"
}

# ---------------------------------------------------------------- bucket

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "CloudTrailAclCheck"
    actions   = ["s3:GetBucketAcl"]
    resources = [local.bucket_arn]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }

  statement {
    sid       = "CloudTrailWrite"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/AWSLogs/${local.account_id}/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-acl"
      values   = ["bucket-owner-full-control"]
    }
  }
}

module "bucket" {
  source = "../secure_bucket"

  name                   = local.bucket_name
  kms_key_arn            = var.kms_key_arn
  access_log_bucket_id   = var.access_log_bucket_id
  force_destroy          = var.force_destroy
  policy_statements_json = data.aws_iam_policy_document.bucket.json
  expiration_days        = var.bucket_retention_days
  tags                   = var.tags
}

# ---------------------------------------------------------------- CloudWatch Logs delivery

resource "aws_cloudwatch_log_group" "trail" {
  name              = "/aws/cloudtrail/${local.trail_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "cloudwatch_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }
}

resource "aws_iam_role" "cloudwatch" {
  name               = "${local.trail_name}-cloudwatch"
  description        = "Lets ${local.trail_name} write to its CloudWatch log group"
  assume_role_policy = data.aws_iam_policy_document.cloudwatch_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "cloudwatch" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.trail.arn}:log-stream:*"]
  }
}

resource "aws_iam_role_policy" "cloudwatch" {
  name   = "cloudwatch-logs"
  role   = aws_iam_role.cloudwatch.id
  policy = data.aws_iam_policy_document.cloudwatch.json
}

# ---------------------------------------------------------------- log-file delivery notifications

resource "aws_sns_topic" "delivery" {
  name              = "${local.trail_name}-delivery"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "delivery" {
  statement {
    sid       = "CloudTrailPublishes"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.delivery.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudtrail.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = [local.trail_arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish", "sns:Subscribe"]
    resources = [aws_sns_topic.delivery.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sns_topic_policy" "delivery" {
  arn    = aws_sns_topic.delivery.arn
  policy = data.aws_iam_policy_document.delivery.json
}

# ---------------------------------------------------------------- trail

resource "aws_cloudtrail" "this" {
  name                          = local.trail_name
  s3_bucket_name                = module.bucket.id
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  kms_key_id                    = var.kms_key_arn
  cloud_watch_logs_group_arn    = "${aws_cloudwatch_log_group.trail.arn}:*"
  cloud_watch_logs_role_arn     = aws_iam_role.cloudwatch.arn
  sns_topic_name                = aws_sns_topic.delivery.name
  tags                          = var.tags

  # CloudTrail checks the bucket policy, topic policy and role permissions when the trail is created.
  depends_on = [module.bucket, aws_iam_role_policy.cloudwatch, aws_sns_topic_policy.delivery]
}

# ---------------------------------------------------------------- normaliser: log group -> Lambda -> OpenSearch

module "normalizer" {
  source = "../lambda_function"

  function_name = "${var.name_prefix}-cloudtrail-normalizer"
  description   = "Normalises CloudTrail events from CloudWatch Logs and indexes them into OpenSearch"
  package       = var.normalizer_package
  opensearch_index = {
    endpoint     = var.opensearch_endpoint
    domain_arn   = var.opensearch_domain_arn
    index_prefix = var.index_prefix
    source       = "cloudtrail"
  }
  kms_key_arn        = var.kms_key_arn
  vpc_id             = var.vpc_id
  subnet_ids         = var.subnet_ids
  egress_cidr_blocks = [var.vpc_cidr]
  log_retention_days = var.normalizer_log_retention_days
  tags               = var.tags
}

resource "aws_lambda_permission" "logs" {
  statement_id   = "CloudWatchLogsSubscription"
  action         = "lambda:InvokeFunction"
  function_name  = module.normalizer.function_name
  principal      = "logs.${local.region}.amazonaws.com"
  source_arn     = "${aws_cloudwatch_log_group.trail.arn}:*"
  source_account = local.account_id
}

resource "aws_cloudwatch_log_subscription_filter" "normalizer" {
  name            = "${local.trail_name}-normalizer"
  log_group_name  = aws_cloudwatch_log_group.trail.name
  filter_pattern  = ""
  destination_arn = module.normalizer.function_arn

  depends_on = [aws_lambda_permission.logs]
}

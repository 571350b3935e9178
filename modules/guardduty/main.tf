data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id   = data.aws_caller_identity.current.account_id
  partition    = data.aws_partition.current.partition
  region       = data.aws_region.current.name
  detector_id  = var.existing_detector_id == null ? aws_guardduty_detector.this[0].id : var.existing_detector_id
  detector_arn = "arn:${local.partition}:guardduty:${local.region}:${local.account_id}:detector/${local.detector_id}"
  bucket_name  = "${var.name_prefix}-guardduty-${local.account_id}-${local.region}"
  bucket_arn   = "arn:${local.partition}:s3:::${local.bucket_name}"
  ip_list_files = merge(
    var.trusted_ip_list_file == "" ? {} : { trusted = var.trusted_ip_list_file },
    { for i, f in var.threat_ip_list_files : "threat-${i}" => f },
  )
  ip_list_urls = { for k, o in aws_s3_object.ip_list : k => "https://s3.amazonaws.com/${o.bucket}/${o.key}" }
}

# ---------------------------------------------------------------- detector

resource "aws_guardduty_detector" "this" {
  count = var.existing_detector_id == null ? 1 : 0

  enable                       = true
  finding_publishing_frequency = var.finding_publishing_frequency
  tags                         = var.tags
}

# Provider 6.x: features replace the deprecated `datasources` block of the detector.
resource "aws_guardduty_detector_feature" "this" {
  for_each = toset(var.features)

  detector_id = local.detector_id
  name        = each.value
  status      = "ENABLED"
}

# IP lists kept in the repository (paths relative to the project root, format checked by provision when the spec
# loads): uploaded next to the exported findings, encrypted with the stack key, then activated below.
resource "aws_s3_object" "ip_list" {
  for_each = local.ip_list_files

  bucket                 = module.bucket.id
  key                    = "ip-lists/${each.key}.txt"
  content                = file("${path.module}/../../${each.value}")
  content_type           = "text/plain"
  server_side_encryption = "aws:kms"
  kms_key_id             = var.kms_key_arn
  tags                   = var.tags
}

resource "aws_guardduty_ipset" "trusted" {
  count = var.trusted_ip_set_location == "" && var.trusted_ip_list_file == "" ? 0 : 1

  name        = "${var.name_prefix}-trusted-ips"
  detector_id = local.detector_id
  format      = "TXT"
  location    = var.trusted_ip_list_file == "" ? var.trusted_ip_set_location : local.ip_list_urls["trusted"]
  activate    = true
  tags        = var.tags
}

resource "aws_guardduty_threatintelset" "this" {
  count = length(var.threat_intel_set_locations) + length(var.threat_ip_list_files)

  name        = "${var.name_prefix}-threat-intel-${count.index}"
  detector_id = local.detector_id
  format      = "TXT"
  location    = concat(var.threat_intel_set_locations, [for i, _ in var.threat_ip_list_files : local.ip_list_urls["threat-${i}"]])[count.index]
  activate    = true
  tags        = var.tags
}

# ---------------------------------------------------------------- findings export to S3

data "aws_iam_policy_document" "bucket" {
  # GuardDuty of this account's detector only: it locates the bucket, then writes findings into it.
  dynamic "statement" {
    for_each = {
      GuardDutyLocatesBucket  = { action = "s3:GetBucketLocation", resource = local.bucket_arn }
      GuardDutyWritesFindings = { action = "s3:PutObject", resource = "${local.bucket_arn}/*" }
    }

    content {
      sid       = statement.key
      actions   = [statement.value.action]
      resources = [statement.value.resource]

      principals {
        type        = "Service"
        identifiers = ["guardduty.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceArn"
        values   = [local.detector_arn]
      }
    }
  }

  statement {
    sid       = "DenyUploadsWithoutStackKey"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["guardduty.amazonaws.com"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = [var.kms_key_arn]
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
  expiration_days        = var.findings_retention_days
  tags                   = var.tags
}

resource "aws_guardduty_publishing_destination" "s3" {
  detector_id      = local.detector_id
  destination_type = "S3"
  destination_arn  = module.bucket.arn
  kms_key_arn      = var.kms_key_arn

  # GuardDuty tests write access when the destination is created.
  depends_on = [module.bucket]
}

# ---------------------------------------------------------------- findings -> normaliser -> OpenSearch

module "normalizer" {
  source = "../lambda_function"

  function_name = "${var.name_prefix}-guardduty-normalizer"
  description   = "Normalises GuardDuty findings from EventBridge and indexes them into OpenSearch"
  package       = var.normalizer_package
  opensearch_index = {
    endpoint     = var.opensearch_endpoint
    domain_arn   = var.opensearch_domain_arn
    index_prefix = var.index_prefix
    source       = "guardduty"
  }
  kms_key_arn        = var.kms_key_arn
  vpc_id             = var.vpc_id
  subnet_ids         = var.subnet_ids
  egress_cidr_blocks = [var.vpc_cidr]
  log_retention_days = var.normalizer_log_retention_days
  tags               = var.tags
}

resource "aws_cloudwatch_event_rule" "findings" {
  name        = "${var.name_prefix}-guardduty-findings"
  description = "Every GuardDuty finding of this account and region"
  event_pattern = jsonencode({
    source        = ["aws.guardduty"]
    "detail-type" = ["GuardDuty Finding"]
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "normalizer" {
  rule = aws_cloudwatch_event_rule.findings.name
  arn  = module.normalizer.function_arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 10
  }
}

resource "aws_lambda_permission" "events" {
  statement_id   = "EventBridgeGuardDutyFindings"
  action         = "lambda:InvokeFunction"
  function_name  = module.normalizer.function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.findings.arn
  source_account = local.account_id
}

resource "aws_cloudwatch_event_rule" "high_severity" {
  name        = "${var.name_prefix}-guardduty-high-severity"
  description = "GuardDuty findings of severity >= ${var.alert_min_severity}, for the alert topic"
  event_pattern = jsonencode({
    source        = ["aws.guardduty"]
    "detail-type" = ["GuardDuty Finding"]
    detail = {
      severity = [{ numeric = [">=", var.alert_min_severity] }]
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "alerts" {
  rule = aws_cloudwatch_event_rule.high_severity.name
  arn  = var.alerts_topic_arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 10
  }
}

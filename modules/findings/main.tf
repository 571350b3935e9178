data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  region        = data.aws_region.current.name
  function_name = "${var.name_prefix}-findings-importer"
  # Report keys are <tool>/<repository>/<branch>/<build_id>/<file>.json; only these prefixes reach the importer.
  tools       = ["dependency-check", "sonarqube", "zap"]
  product_arn = "arn:${local.partition}:securityhub:${local.region}:${local.account_id}:product/${local.account_id}/default"
  hub_arn     = "arn:${local.partition}:securityhub:${local.region}:${local.account_id}:hub/default"
}

# --- Security Hub --------------------------------------------------------------------------------------------

resource "aws_securityhub_account" "this" {
  count = var.manage_security_hub ? 1 : 0

  enable_default_standards  = false
  control_finding_generator = "SECURITY_CONTROL"
  auto_enable_controls      = true
}

resource "aws_securityhub_standards_subscription" "foundational" {
  count = var.enable_foundational_standard ? 1 : 0

  standards_arn = "arn:${local.partition}:securityhub:${local.region}::standards/aws-foundational-security-best-practices/v/1.0.0"

  depends_on = [aws_securityhub_account.this]
}

# --- Report bucket -------------------------------------------------------------------------------------------

module "report_bucket" {
  source = "../secure_bucket"

  name                 = "${var.name_prefix}-reports-${local.account_id}-${local.region}"
  kms_key_arn          = var.kms_key_arn
  access_log_bucket_id = var.access_log_bucket_id
  force_destroy        = var.force_destroy
  expiration_days      = var.report_retention_days
  tags                 = var.tags
}

# --- Importer Lambda -----------------------------------------------------------------------------------------

# What the importer itself does; the lambda_function module adds logs, DLQ, tracing and ENI permissions.
data "aws_iam_policy_document" "importer" {
  statement {
    sid       = "ReadReports"
    actions   = ["s3:GetObject"]
    resources = [for tool in local.tools : "${module.report_bucket.arn}/${tool}/*"]
  }

  statement {
    sid       = "DecryptReports"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "ImportFindingsIntoOwnProduct"
    actions   = ["securityhub:BatchImportFindings"]
    resources = [local.product_arn]
  }

  statement {
    sid       = "UpdateAndReadFindings"
    actions   = ["securityhub:BatchUpdateFindings", "securityhub:GetFindings"]
    resources = [local.hub_arn]
  }
}

# No environment variables (the importer derives account and region from its context), hence no function key.
module "importer" {
  source = "../lambda_function"

  function_name = local.function_name
  description   = "Imports dependency-check, SonarQube and ZAP reports into Security Hub"
  package       = var.importer_package
  kms_key_arn   = var.kms_key_arn
  vpc_id        = var.vpc_id
  subnet_ids    = var.subnet_ids
  # S3 and Security Hub are AWS APIs, reached through NAT or the VPC's interface endpoints.
  https_egress_to_internet = true
  policy_json              = data.aws_iam_policy_document.importer.json
  timeout                  = var.timeout_seconds
  reserved_concurrency     = var.reserved_concurrency
  log_format               = "Text"
  log_retention_days       = var.log_retention_days
  tags                     = var.tags
}

resource "aws_lambda_permission" "report_bucket" {
  statement_id   = "AllowReportBucketNotifications"
  action         = "lambda:InvokeFunction"
  function_name  = module.importer.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = module.report_bucket.arn
  source_account = local.account_id
}

resource "aws_s3_bucket_notification" "reports" {
  bucket = module.report_bucket.id

  dynamic "lambda_function" {
    for_each = local.tools

    content {
      id                  = "import-${lambda_function.value}"
      lambda_function_arn = module.importer.function_arn
      events              = ["s3:ObjectCreated:*"]
      filter_prefix       = "${lambda_function.value}/"
      filter_suffix       = ".json"
    }
  }

  depends_on = [aws_lambda_permission.report_bucket]
}

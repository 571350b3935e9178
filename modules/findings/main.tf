data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  function_name = "${var.name_prefix}-findings-importer"
  # Report keys are <tool>/<repository>/<branch>/<build_id>/<file>.json; only these prefixes reach the importer.
  tools       = ["dependency-check", "sonarqube", "zap"]
  product_arn = "arn:${local.partition}:securityhub:${var.region}:${local.account_id}:product/${local.account_id}/default"
  hub_arn     = "arn:${local.partition}:securityhub:${var.region}:${local.account_id}:hub/default"
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

  standards_arn = "arn:${local.partition}:securityhub:${var.region}::standards/aws-foundational-security-best-practices/v/1.0.0"

  depends_on = [aws_securityhub_account.this]
}

# --- Report bucket -------------------------------------------------------------------------------------------

module "report_bucket" {
  source = "../secure_bucket"

  name                 = "${var.name_prefix}-reports-${local.account_id}-${var.region}"
  kms_key_arn          = var.kms_key_arn
  access_log_bucket_id = var.access_log_bucket_id
  force_destroy        = var.force_destroy
  expiration_days      = var.report_retention_days
  tags                 = var.tags
}

# --- Importer Lambda -----------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "importer" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

resource "aws_sqs_queue" "dlq" {
  name                      = "${local.function_name}-dlq"
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = 1209600

  tags = var.tags
}

resource "aws_security_group" "importer" {
  name        = local.function_name
  description = "Findings importer Lambda: no inbound, HTTPS out to S3 and Security Hub"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = local.function_name })
}

resource "aws_vpc_security_group_egress_rule" "importer_https" {
  security_group_id = aws_security_group.importer.id
  description       = "HTTPS to AWS APIs (VPC endpoints or NAT)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"

  tags = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "importer" {
  name               = local.function_name
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "importer" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.importer.arn}:*"]
  }

  statement {
    sid       = "ReadReports"
    actions   = ["s3:GetObject"]
    resources = [for tool in local.tools : "${module.report_bucket.arn}/${tool}/*"]
  }

  statement {
    sid       = "DecryptReportsAndUseDlq"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.region}.amazonaws.com", "sqs.${var.region}.amazonaws.com"]
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

  statement {
    sid       = "DeadLetterQueue"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }

  # X-Ray and the Describe calls of the VPC attachment support no resource-level scoping.
  statement {
    sid = "TracingAndEniDiscovery"
    actions = [
      "xray:PutTraceSegments",
      "xray:PutTelemetryRecords",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSubnets",
    ]
    resources = ["*"]
  }

  statement {
    sid     = "ManageOwnEnis"
    actions = ["ec2:CreateNetworkInterface"]
    resources = concat(
      ["arn:${local.partition}:ec2:${var.region}:${local.account_id}:network-interface/*"],
      [for s in var.subnet_ids : "arn:${local.partition}:ec2:${var.region}:${local.account_id}:subnet/${s}"],
      ["arn:${local.partition}:ec2:${var.region}:${local.account_id}:security-group/${aws_security_group.importer.id}"],
    )
  }

  statement {
    sid = "ReleaseOwnEnis"
    actions = [
      "ec2:DeleteNetworkInterface",
      "ec2:AssignPrivateIpAddresses",
      "ec2:UnassignPrivateIpAddresses",
    ]
    resources = ["arn:${local.partition}:ec2:${var.region}:${local.account_id}:network-interface/*"]
  }
}

resource "aws_iam_role_policy" "importer" {
  name   = "findings-importer"
  role   = aws_iam_role.importer.id
  policy = data.aws_iam_policy_document.importer.json
}

# No environment variables (the importer derives account and region from its context), hence no kms_key_arn:
# a key without variables is a perpetual diff.
resource "aws_lambda_function" "importer" {
  function_name                  = local.function_name
  description                    = "Imports dependency-check, SonarQube and ZAP reports into Security Hub"
  role                           = aws_iam_role.importer.arn
  runtime                        = "python3.12"
  handler                        = var.importer_package.handler
  filename                       = var.importer_package.filename
  source_code_hash               = var.importer_package.source_code_hash
  memory_size                    = 256
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrency

  tracing_config {
    mode = "Active"
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dlq.arn
  }

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = [aws_security_group.importer.id]
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.importer.name
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.importer]
}

resource "aws_lambda_permission" "report_bucket" {
  statement_id   = "AllowReportBucketNotifications"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.importer.function_name
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
      lambda_function_arn = aws_lambda_function.importer.arn
      events              = ["s3:ObjectCreated:*"]
      filter_prefix       = "${lambda_function.value}/"
      filter_suffix       = ".json"
    }
  }

  depends_on = [aws_lambda_permission.report_bucket]
}

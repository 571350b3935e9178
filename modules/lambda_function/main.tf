data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  ec2_arn    = "arn:${local.partition}:ec2:${local.region}:${local.account_id}"
  # Every function carries LOG_LEVEL, so every function has environment variables encrypted with the stack key
  # (Lambda stores no key for a function without variables: a perpetual diff, and a plan Checkov misreads).
  # A normaliser also gets where it indexes (opensearch_index), as that variable's description promises.
  index_environment = var.opensearch_index == null ? {} : {
    OPENSEARCH_ENDPOINT = var.opensearch_index.endpoint
    INDEX_PREFIX        = var.opensearch_index.index_prefix
  }
  environment  = merge({ LOG_LEVEL = var.log_level }, local.index_environment, var.environment_variables)
  egress_cidrs = toset(concat(var.egress_cidr_blocks, var.https_egress_to_internet ? ["0.0.0.0/0"] : []))
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

resource "aws_iam_role" "this" {
  name               = "${var.function_name}-role"
  description        = "Execution role of ${var.function_name}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sqs_queue" "dlq" {
  name                              = "${var.function_name}-dlq"
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  message_retention_seconds         = 1209600
  tags                              = var.tags
}

# What every function of this stack needs (its own log group, tracing, the DLQ, the key and VPC networking),
# merged with the function's own permissions. One document, not a second policy counted on policy_json: that
# JSON is often unknown at plan time (it names resources still to be created), which count cannot take.
data "aws_iam_policy_document" "runtime" {
  source_policy_documents = var.policy_json == null ? [] : [var.policy_json]

  # A normaliser indexes into its own index family only (and `_bulk`, which names the index per document).
  dynamic "statement" {
    for_each = var.opensearch_index == null ? [] : [var.opensearch_index]

    content {
      sid       = "IndexDocuments"
      actions   = ["es:ESHttpPost", "es:ESHttpPut"]
      resources = ["${statement.value.domain_arn}/_bulk", "${statement.value.domain_arn}/${statement.value.index_prefix}-${statement.value.source}-*"]
    }
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:log-stream:*"]
  }

  statement {
    sid       = "SendTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "DeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }

  # The key as the function's own services use it: the encrypted DLQ and its environment variables.
  statement {
    sid       = "UseStackKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sqs.${local.region}.amazonaws.com", "lambda.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "DescribeNetwork"
    actions   = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"]
    resources = ["*"]
  }

  statement {
    sid     = "ManageOwnNetworkInterfaces"
    actions = ["ec2:CreateNetworkInterface"]
    resources = concat(
      ["${local.ec2_arn}:network-interface/*", "${local.ec2_arn}:security-group/${aws_security_group.this.id}"],
      [for s in var.subnet_ids : "${local.ec2_arn}:subnet/${s}"],
    )
  }

  statement {
    sid = "ReleaseOwnNetworkInterfaces"
    actions = [
      "ec2:DeleteNetworkInterface",
      "ec2:AssignPrivateIpAddresses",
      "ec2:UnassignPrivateIpAddresses",
    ]
    resources = ["${local.ec2_arn}:network-interface/*"]
  }
}

resource "aws_iam_role_policy" "runtime" {
  name   = "runtime"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.runtime.json
}

resource "aws_security_group" "this" {
  name        = "${var.function_name}-lambda"
  description = "Network interfaces of the ${var.function_name} Lambda function: no inbound, HTTPS out only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = var.function_name })
}

resource "aws_vpc_security_group_egress_rule" "https" {
  for_each = local.egress_cidrs

  security_group_id = aws_security_group.this.id
  description       = "HTTPS to ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  function_name                  = var.function_name
  description                    = var.description
  role                           = aws_iam_role.this.arn
  runtime                        = "python3.12"
  handler                        = var.package.handler
  filename                       = var.package.filename
  source_code_hash               = var.package.source_code_hash
  timeout                        = var.timeout
  memory_size                    = var.memory_size
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn
  tags                           = var.tags

  environment {
    variables = local.environment
  }

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = [aws_security_group.this.id]
  }

  tracing_config {
    mode = "Active"
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dlq.arn
  }

  logging_config {
    log_format = var.log_format
    log_group  = aws_cloudwatch_log_group.this.name
  }

  # Networking and logging permissions must exist before Lambda validates the role.
  depends_on = [aws_iam_role_policy.runtime]
}

# Content the aws provider cannot manage (FGAC roles and mappings, index templates, ISM retention, the alert
# channel, Dashboards saved objects, monitors) is applied from inside the VPC by a Lambda that signs as the admin
# role. `provision render` writes the content to build/opensearch-content.json; the invocation is replaced (so the
# Lambda runs again) whenever the content, the values bound into it or the Lambda's code change. The Lambda reads
# every object first and writes only differences, so a re-run is harmless; a refusal by OpenSearch fails the
# invocation with OpenSearch's own error text, which stops the apply.

locals {
  content_file = var.content_file == null ? "${path.root}/build/opensearch-content.json" : var.content_file
  content      = var.configure_domain ? file(local.content_file) : "{\"objects\":[]}"

  # Values only known at apply time; the content names them as "${name}" placeholders.
  bindings = {
    admin_role_arn          = local.admin_role_arn
    ingest_role_arns        = var.ingest_role_arns
    alerts_topic_arn        = var.alerts_topic_arn
    alerts_publish_role_arn = aws_iam_role.alerts_publish.arn
  }
}

# ---------------------------------------------------------------- role OpenSearch assumes to publish alerts

data "aws_iam_policy_document" "alerts_publish_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["es.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "alerts_publish" {
  name               = "${var.name_prefix}-os-alerts-publish"
  description        = "Assumed by OpenSearch (${local.domain_name}) to publish alert notifications to the SNS topic"
  assume_role_policy = data.aws_iam_policy_document.alerts_publish_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "alerts_publish" {
  statement {
    sid       = "PublishAlerts"
    actions   = ["sns:Publish"]
    resources = [var.alerts_topic_arn]
  }

  # The topic is encrypted with the stack key.
  statement {
    sid       = "EncryptForTopic"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sns.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "alerts_publish" {
  name   = "publish-alerts"
  role   = aws_iam_role.alerts_publish.id
  policy = data.aws_iam_policy_document.alerts_publish.json
}

# ---------------------------------------------------------------- configurator Lambda

data "aws_iam_policy_document" "configurator" {
  statement {
    sid       = "ActAsDomainAdmin"
    actions   = ["sts:AssumeRole"]
    resources = [local.admin_role_arn]
  }
}

module "configurator" {
  source = "../lambda_function"

  function_name        = "${var.name_prefix}-os-configurator"
  description          = "Applies the OpenSearch content of ${local.domain_name} (roles, templates, retention, dashboards, monitors)"
  package              = var.configurator_package
  kms_key_arn          = var.kms_key_arn
  vpc_id               = var.vpc_id
  subnet_ids           = local.subnet_ids
  egress_cidr_blocks   = [var.vpc_cidr] # the domain and the VPC's STS interface endpoint
  policy_json          = data.aws_iam_policy_document.configurator.json
  timeout              = 600
  memory_size          = 256
  reserved_concurrency = 1
  log_retention_days   = var.log_retention_days
  tags                 = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "configurator" {
  security_group_id            = aws_security_group.this.id
  description                  = "HTTPS from the configurator Lambda"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = module.configurator.security_group_id
  tags                         = var.tags
}

resource "aws_lambda_invocation" "configure" {
  count = var.configure_domain ? 1 : 0

  function_name = module.configurator.function_name
  input = jsonencode({
    mode           = "apply"
    endpoint       = "https://${aws_opensearch_domain.this.endpoint}"
    admin_role_arn = local.admin_role_arn
    content        = local.content
    bindings       = local.bindings
  })

  triggers = {
    content  = sha256(local.content)
    bindings = sha256(jsonencode(local.bindings))
    code     = var.configurator_package.source_code_hash
  }

  depends_on = [
    aws_opensearch_domain_policy.this,
    aws_iam_role_policy.admin,
    aws_iam_role_policy.alerts_publish,
    aws_vpc_security_group_ingress_rule.configurator,
  ]
}

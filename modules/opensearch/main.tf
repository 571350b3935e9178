data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id  = data.aws_caller_identity.current.account_id
  partition   = data.aws_partition.current.partition
  region      = data.aws_region.current.name
  domain_name = "${var.name_prefix}-os"
  # Built from the name so the log resource policy does not wait for the domain.
  domain_arn = "arn:${local.partition}:es:${local.region}:${local.account_id}:domain/${local.domain_name}"

  zone_count = var.zone_awareness ? var.availability_zone_count : 1
  subnet_ids = slice(var.subnet_ids, 0, min(local.zone_count, length(var.subnet_ids)))

  admin_role_arn = var.admin_role_arn == null ? aws_iam_role.admin[0].arn : var.admin_role_arn

  log_types = {
    index_slow  = "INDEX_SLOW_LOGS"
    search_slow = "SEARCH_SLOW_LOGS"
    application = "ES_APPLICATION_LOGS"
    audit       = "AUDIT_LOGS"
  }
}

# ---------------------------------------------------------------- admin (FGAC master) role, when none is given

data "aws_iam_policy_document" "admin_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }

    condition {
      test     = "Bool"
      variable = "aws:MultiFactorAuthPresent"
      values   = ["true"]
    }
  }

  # The configurator Lambda applies the domain's content as this role (configurator.tf).
  statement {
    sid     = "ConfiguratorActsAsAdmin"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = [module.configurator.role_arn]
    }
  }
}

resource "aws_iam_role" "admin" {
  count = var.admin_role_arn == null ? 1 : 0

  name                 = "${var.name_prefix}-opensearch-admin"
  description          = "Fine-grained access control master user of ${local.domain_name}"
  assume_role_policy   = data.aws_iam_policy_document.admin_assume.json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "admin" {
  statement {
    sid = "AdministerDomainContent"
    actions = [
      "es:ESHttpGet",
      "es:ESHttpHead",
      "es:ESHttpPost",
      "es:ESHttpPut",
      "es:ESHttpDelete",
      "es:ESHttpPatch",
    ]
    resources = [local.domain_arn, "${local.domain_arn}/*"]
  }

  statement {
    sid       = "DescribeDomain"
    actions   = ["es:DescribeDomain", "es:DescribeDomainConfig"]
    resources = [local.domain_arn]
  }

  # Creating the SNS Notifications channel hands OpenSearch the publish role.
  statement {
    sid       = "PassAlertsPublishRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.alerts_publish.arn]
  }
}

resource "aws_iam_role_policy" "admin" {
  count = var.admin_role_arn == null ? 1 : 0

  name   = "opensearch-admin"
  role   = aws_iam_role.admin[0].id
  policy = data.aws_iam_policy_document.admin.json
}

# ---------------------------------------------------------------- network

resource "aws_security_group" "this" {
  name        = "${local.domain_name}-domain"
  description = "HTTPS clients of the ${local.domain_name} OpenSearch domain"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "vpc" {
  count = var.allow_vpc_cidr ? 1 : 0

  security_group_id = aws_security_group.this.id
  description       = "HTTPS from inside the VPC"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.vpc_cidr
  tags              = var.tags
}

# Members of the group reach each other on 443: Firehose delivers to the domain through this group (waf module).
resource "aws_vpc_security_group_ingress_rule" "members" {
  security_group_id            = aws_security_group.this.id
  description                  = "HTTPS from members of this group (Firehose delivery)"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.this.id
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "members" {
  security_group_id            = aws_security_group.this.id
  description                  = "HTTPS to members of this group (Firehose delivery to the domain)"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.this.id
  tags                         = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  for_each = toset(var.allowed_security_group_ids)

  security_group_id            = aws_security_group.this.id
  description                  = "HTTPS from client security group ${each.value}"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = each.value
  tags                         = var.tags
}

# ---------------------------------------------------------------- logs

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.log_types

  name              = "/aws/opensearch/${local.domain_name}/${replace(each.key, "_", "-")}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "logs" {
  statement {
    sid       = "OpenSearchPublishesDomainLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for g in aws_cloudwatch_log_group.this : "${g.arn}:*"]

    principals {
      type        = "Service"
      identifiers = ["es.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.domain_arn]
    }
  }
}

resource "aws_cloudwatch_log_resource_policy" "this" {
  policy_name     = "${local.domain_name}-log-publishing"
  policy_document = data.aws_iam_policy_document.logs.json
}

# ---------------------------------------------------------------- domain

resource "aws_opensearch_domain" "this" {
  domain_name    = local.domain_name
  engine_version = var.engine_version
  tags           = var.tags

  cluster_config {
    instance_type            = var.instance_type
    instance_count           = var.instance_count
    zone_awareness_enabled   = var.zone_awareness
    dedicated_master_enabled = var.dedicated_master_enabled
    dedicated_master_type    = var.dedicated_master_enabled ? var.dedicated_master_type : null
    dedicated_master_count   = var.dedicated_master_enabled ? var.dedicated_master_count : null

    dynamic "zone_awareness_config" {
      for_each = var.zone_awareness ? [var.availability_zone_count] : []
      content {
        availability_zone_count = zone_awareness_config.value
      }
    }
  }

  vpc_options {
    subnet_ids         = local.subnet_ids
    security_group_ids = [aws_security_group.this.id]
  }

  ebs_options {
    ebs_enabled = true
    volume_type = "gp3"
    volume_size = var.ebs_volume_size
  }

  encrypt_at_rest {
    enabled    = true
    kms_key_id = var.kms_key_arn
  }

  node_to_node_encryption {
    enabled = true
  }

  domain_endpoint_options {
    enforce_https       = true
    tls_security_policy = var.tls_security_policy
  }

  advanced_security_options {
    enabled                        = true
    anonymous_auth_enabled         = false
    internal_user_database_enabled = false

    master_user_options {
      master_user_arn = local.admin_role_arn
    }
  }

  log_publishing_options {
    log_type                 = "INDEX_SLOW_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.this["index_slow"].arn
    enabled                  = true
  }

  log_publishing_options {
    log_type                 = "SEARCH_SLOW_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.this["search_slow"].arn
    enabled                  = true
  }

  log_publishing_options {
    log_type                 = "ES_APPLICATION_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.this["application"].arn
    enabled                  = true
  }

  log_publishing_options {
    log_type                 = "AUDIT_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.this["audit"].arn
    enabled                  = true
  }

  software_update_options {
    auto_software_update_enabled = true
  }

  depends_on = [aws_cloudwatch_log_resource_policy.this]
}

# Ingest roles may only write documents to their indices; the admin role administers the domain. Reading and
# role mapping happen inside OpenSearch under fine-grained access control (see README).
data "aws_iam_policy_document" "access" {
  statement {
    sid       = "AdminRole"
    actions   = ["es:ESHttp*"]
    resources = ["${aws_opensearch_domain.this.arn}/*"]

    principals {
      type        = "AWS"
      identifiers = [local.admin_role_arn]
    }
  }

  dynamic "statement" {
    for_each = length(var.ingest_role_arns) > 0 ? [1] : []
    content {
      sid     = "IngestRolesWriteDocuments"
      actions = ["es:ESHttpPost", "es:ESHttpPut"]
      resources = concat(
        ["${aws_opensearch_domain.this.arn}/_bulk"],
        [for p in var.ingest_index_patterns : "${aws_opensearch_domain.this.arn}/${p}"],
      )

      principals {
        type        = "AWS"
        identifiers = var.ingest_role_arns
      }
    }
  }

  # Analysts search and read; what they may see is limited inside OpenSearch (role security_analyst).
  dynamic "statement" {
    for_each = length(var.analyst_role_arns) > 0 ? [1] : []
    content {
      sid       = "AnalystRolesRead"
      actions   = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"]
      resources = ["${aws_opensearch_domain.this.arn}/*"]

      principals {
        type        = "AWS"
        identifiers = var.analyst_role_arns
      }
    }
  }

  # Firehose checks the cluster and index mappings before delivering.
  dynamic "statement" {
    for_each = length(var.ingest_role_arns) > 0 ? [1] : []
    content {
      sid     = "IngestRolesReadClusterMetadata"
      actions = ["es:ESHttpGet"]
      resources = concat(
        [
          "${aws_opensearch_domain.this.arn}/_all/_settings",
          "${aws_opensearch_domain.this.arn}/_cluster/stats",
          "${aws_opensearch_domain.this.arn}/_nodes",
          "${aws_opensearch_domain.this.arn}/_nodes/stats",
          "${aws_opensearch_domain.this.arn}/_nodes/*/stats",
          "${aws_opensearch_domain.this.arn}/_stats",
        ],
        [for p in var.ingest_index_patterns : "${aws_opensearch_domain.this.arn}/${p}/_mapping/*"],
        [for p in var.ingest_index_patterns : "${aws_opensearch_domain.this.arn}/${p}/_stats"],
      )

      principals {
        type        = "AWS"
        identifiers = var.ingest_role_arns
      }
    }
  }
}

resource "aws_opensearch_domain_policy" "this" {
  domain_name     = aws_opensearch_domain.this.domain_name
  access_policies = data.aws_iam_policy_document.access.json
}

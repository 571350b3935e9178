# --- CodeBuild -----------------------------------------------------------------------------------------------

resource "aws_security_group" "codebuild" {
  name        = "${var.name_prefix}-codebuild"
  description = "CodeBuild projects of the pipeline: no inbound, egress on the configured ports only"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name_prefix}-codebuild" })
}

resource "aws_vpc_security_group_egress_rule" "codebuild" {
  for_each = toset([for p in var.codebuild_egress_ports : tostring(p)])

  security_group_id = aws_security_group.codebuild.id
  description       = "TCP ${each.value} (AWS APIs, SonarQube, tool and vulnerability-feed downloads)"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.value)
  to_port           = tonumber(each.value)
  cidr_ipv4         = "0.0.0.0/0"

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "codebuild" {
  for_each = local.projects

  name              = "/aws/codebuild/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

resource "aws_iam_role" "codebuild" {
  for_each = local.projects

  name               = "${var.name_prefix}-codebuild-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume["codebuild"].json

  tags = var.tags
}

# What every project needs: its own log group, the pipeline artifacts, the key, and ENIs in the VPC.
data "aws_iam_policy_document" "codebuild_common" {
  for_each = local.projects

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.codebuild[each.key].arn}:*"]
  }

  statement {
    sid       = "PipelineArtifacts"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"]
    resources = ["${module.artifacts.arn}/*"]
  }

  statement {
    sid       = "ArtifactBucketLocation"
    actions   = ["s3:GetBucketAcl", "s3:GetBucketLocation"]
    resources = [module.artifacts.arn]
  }

  statement {
    sid       = "UseStackKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
  }

  # Describe calls support no resource-level scoping.
  statement {
    sid = "DiscoverVpc"
    actions = [
      "ec2:DescribeDhcpOptions",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeVpcs",
    ]
    resources = ["*"]
  }

  statement {
    sid     = "CreateEniInOwnSubnets"
    actions = ["ec2:CreateNetworkInterface"]
    resources = concat(
      ["${local.arn_prefix}:ec2:${local.region}:${local.account_id}:network-interface/*"],
      local.subnet_arns,
      ["${local.arn_prefix}:ec2:${local.region}:${local.account_id}:security-group/${aws_security_group.codebuild.id}"],
    )
  }

  statement {
    sid       = "DeleteEni"
    actions   = ["ec2:DeleteNetworkInterface"]
    resources = ["${local.arn_prefix}:ec2:${local.region}:${local.account_id}:network-interface/*"]
  }

  statement {
    sid       = "AuthorizeCodeBuildOnEni"
    actions   = ["ec2:CreateNetworkInterfacePermission"]
    resources = ["${local.arn_prefix}:ec2:${local.region}:${local.account_id}:network-interface/*"]

    condition {
      test     = "StringEquals"
      variable = "ec2:AuthorizedService"
      values   = ["codebuild.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "ec2:Subnet"
      values   = local.subnet_arns
    }
  }

  dynamic "statement" {
    for_each = each.value.report_tool == null ? [] : [each.value.report_tool]

    content {
      sid       = "UploadOwnReports"
      actions   = ["s3:PutObject"]
      resources = ["${var.report_bucket_arn}/${statement.value}/*"]
    }
  }

  dynamic "statement" {
    for_each = length(each.value.secrets) > 0 ? [1] : []

    content {
      sid     = "ReadOwnSecureParameters"
      actions = ["ssm:GetParameters"]
      resources = [
        for name in values(each.value.secrets) :
        "${local.arn_prefix}:ssm:${local.region}:${local.account_id}:parameter/${trimprefix(name, "/")}"
      ]
    }
  }
}

# The DAST project may run only the scan document, only on the scanner instance.
data "aws_iam_policy_document" "dast" {
  statement {
    sid     = "RunZapDocumentOnScanner"
    actions = ["ssm:SendCommand"]
    resources = [
      "${local.arn_prefix}:ec2:${local.region}:${local.account_id}:instance/${var.zap_instance_id}",
      "${local.arn_prefix}:ssm:${local.region}:${local.account_id}:document/${var.zap_document_name}",
    ]
  }

  # GetCommandInvocation supports no resource-level scoping.
  statement {
    sid       = "ReadCommandStatus"
    actions   = ["ssm:GetCommandInvocation"]
    resources = ["*"]
  }

  statement {
    sid       = "ReadZapReports"
    actions   = ["s3:GetObject"]
    resources = ["${var.report_bucket_arn}/zap/*"]
  }
}

locals {
  extra_policies = {
    dast   = data.aws_iam_policy_document.dast.json
    deploy = var.deploy_policy_json
  }
  # Keys decided from variables only: the policy JSON itself is unknown until the referenced ARNs exist.
  extra_policy_keys = concat(["dast"], var.deploy_enabled && var.deploy_policy_json != null ? ["deploy"] : [])
}

resource "aws_iam_role_policy" "codebuild" {
  for_each = local.projects

  name   = "codebuild-${each.key}"
  role   = aws_iam_role.codebuild[each.key].id
  policy = data.aws_iam_policy_document.codebuild_common[each.key].json
}

resource "aws_iam_role_policy" "codebuild_extra" {
  for_each = { for k in local.extra_policy_keys : k => local.extra_policies[k] }

  name   = "codebuild-${each.key}-stage"
  role   = aws_iam_role.codebuild[each.key].id
  policy = each.value
}

resource "aws_codebuild_project" "this" {
  for_each = local.projects

  name           = "${var.name_prefix}-${each.key}"
  description    = each.value.description
  service_role   = aws_iam_role.codebuild[each.key].arn
  encryption_key = var.kms_key_arn
  build_timeout  = each.value.timeout

  source {
    type      = "CODEPIPELINE"
    buildspec = each.value.buildspec
  }

  artifacts {
    type                = "CODEPIPELINE"
    encryption_disabled = false
  }

  environment {
    type            = "LINUX_CONTAINER"
    compute_type    = each.value.compute
    image           = var.codebuild_image
    privileged_mode = each.value.privileged

    dynamic "environment_variable" {
      for_each = each.value.env

      content {
        name  = environment_variable.key
        value = environment_variable.value
        type  = "PLAINTEXT"
      }
    }

    dynamic "environment_variable" {
      for_each = each.value.secrets

      content {
        name  = environment_variable.key
        value = environment_variable.value
        type  = "PARAMETER_STORE"
      }
    }
  }

  dynamic "cache" {
    for_each = each.value.cache ? [1] : []

    content {
      type     = "S3"
      location = "${module.artifacts.id}/cache/${each.key}"
    }
  }

  vpc_config {
    vpc_id             = var.vpc_id
    subnets            = var.subnet_ids
    security_group_ids = [aws_security_group.codebuild.id]
  }

  logs_config {
    cloudwatch_logs {
      status     = "ENABLED"
      group_name = aws_cloudwatch_log_group.codebuild[each.key].name
    }

    s3_logs {
      status = "DISABLED"
    }
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.codebuild, aws_iam_role_policy.codebuild_extra]
}

# --- One build per environment: `provision drift` (or `reap`) with the environment's own role ------------------

resource "aws_cloudwatch_log_group" "builds" {
  name              = "/aws/codebuild/${local.project_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "codebuild_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["codebuild.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "codebuild" {
  name               = "${var.name_prefix}-fleet-build"
  assume_role_policy = data.aws_iam_policy_document.codebuild_trust.json

  tags = var.tags
}

data "aws_iam_policy_document" "codebuild" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.builds.arn}:*"]
  }

  statement {
    sid       = "WriteOwnReport"
    actions   = ["s3:PutObject"]
    resources = ["${module.results.arn}/runs/*"]
  }

  statement {
    sid       = "UseStackKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
  }

  # The builds act in member accounts only through the roles `fleet_member` creates there.
  statement {
    sid       = "AssumeMemberRoles"
    actions   = ["sts:AssumeRole"]
    resources = concat(local.member_roles, var.reap_schedule == "" ? [] : local.reap_roles)
  }
}

resource "aws_iam_role_policy" "codebuild" {
  name   = "fleet-build"
  role   = aws_iam_role.codebuild.id
  policy = data.aws_iam_policy_document.codebuild.json
}

resource "aws_codebuild_project" "this" {
  name           = local.project_name
  description    = "provision drift/reap for one environment of the fleet (started by the ${local.state_machine_name} state machine)"
  service_role   = aws_iam_role.codebuild.arn
  encryption_key = var.kms_key_arn
  build_timeout  = var.build_timeout_minutes

  source {
    type      = var.source_type
    location  = var.source_location
    buildspec = var.buildspec
  }

  artifacts {
    type = "NO_ARTIFACTS"
  }

  environment {
    compute_type                = "BUILD_GENERAL1_SMALL"
    image                       = var.build_image
    type                        = "LINUX_CONTAINER"
    image_pull_credentials_type = "CODEBUILD"
    privileged_mode             = false

    environment_variable {
      name  = "DRIFT_FAIL_ON_DRIFT"
      value = "false" # drift is a result, not a failed build: only errors fail it
    }
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.builds.name
    }

    s3_logs {
      status = "DISABLED"
    }
  }

  tags = var.tags
}

# --- CodePipeline --------------------------------------------------------------------------------------------

resource "aws_iam_role" "pipeline" {
  name               = "${var.name_prefix}-codepipeline"
  assume_role_policy = data.aws_iam_policy_document.assume["codepipeline"].json

  tags = var.tags
}

data "aws_iam_policy_document" "pipeline" {
  statement {
    sid       = "ArtifactStore"
    actions   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:GetBucketVersioning"]
    resources = [module.artifacts.arn, "${module.artifacts.arn}/*"]
  }

  statement {
    sid       = "ArtifactKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "RunStageProjects"
    actions   = ["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:StopBuild"]
    resources = [for p in aws_codebuild_project.this : p.arn]
  }

  dynamic "statement" {
    for_each = local.codecommit ? [1] : []

    content {
      sid = "ReadCodeCommitSource"
      actions = [
        "codecommit:GetBranch",
        "codecommit:GetCommit",
        "codecommit:GetRepository",
        "codecommit:UploadArchive",
        "codecommit:GetUploadArchiveStatus",
        "codecommit:CancelUploadArchive",
      ]
      resources = [local.source_arn]
    }
  }

  dynamic "statement" {
    for_each = local.codecommit ? [] : [1]

    content {
      sid       = "UseSourceConnection"
      actions   = ["codestar-connections:UseConnection", "codeconnections:UseConnection"]
      resources = [local.source_arn]
    }
  }

  dynamic "statement" {
    for_each = var.require_manual_approval && var.approval_topic_arn != null ? [1] : []

    content {
      sid       = "NotifyApprovers"
      actions   = ["sns:Publish"]
      resources = [var.approval_topic_arn]
    }
  }
}

resource "aws_iam_role_policy" "pipeline" {
  name   = "codepipeline"
  role   = aws_iam_role.pipeline.id
  policy = data.aws_iam_policy_document.pipeline.json
}

resource "aws_codepipeline" "this" {
  name           = local.pipeline_name
  role_arn       = aws_iam_role.pipeline.arn
  pipeline_type  = "V2"
  execution_mode = "QUEUED"

  lifecycle {
    precondition {
      condition     = local.codecommit || var.connection_arn != null
      error_message = "The source_provider CodeStarSourceConnection needs connection_arn."
    }
  }

  artifact_store {
    type     = "S3"
    location = module.artifacts.id

    encryption_key {
      type = "KMS"
      id   = var.kms_key_arn
    }
  }

  stage {
    name = "Source"

    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = var.source_provider
      version          = "1"
      output_artifacts = ["source_output"]

      configuration = local.codecommit ? {
        RepositoryName       = var.repository
        BranchName           = var.branch
        PollForSourceChanges = "false"
        OutputArtifactFormat = "CODE_ZIP"
        } : {
        ConnectionArn        = local.source_arn
        FullRepositoryId     = var.repository
        BranchName           = var.branch
        OutputArtifactFormat = "CODE_ZIP"
      }
    }
  }

  # Build, then the three scans, each a CodeBuild project on the source (the scans fail the stage on findings).
  dynamic "stage" {
    for_each = local.codebuild_stages

    content {
      name = stage.value.stage

      action {
        name             = stage.value.action
        category         = stage.value.category
        owner            = "AWS"
        provider         = "CodeBuild"
        version          = "1"
        input_artifacts  = ["source_output"]
        output_artifacts = stage.value.outputs

        configuration = {
          ProjectName = aws_codebuild_project.this[stage.value.project].name
        }
      }
    }
  }

  dynamic "stage" {
    for_each = var.require_manual_approval ? [1] : []

    content {
      name = "Approval"

      action {
        name     = "Approve"
        category = "Approval"
        owner    = "AWS"
        provider = "Manual"
        version  = "1"

        configuration = var.approval_topic_arn == null ? {
          CustomData = "SCA, SAST and DAST passed for ${var.repository}@${var.branch}"
          } : {
          CustomData      = "SCA, SAST and DAST passed for ${var.repository}@${var.branch}"
          NotificationArn = var.approval_topic_arn
        }
      }
    }
  }

  dynamic "stage" {
    for_each = var.deploy_enabled ? [1] : []

    content {
      name = "Deploy"

      action {
        name            = "Deploy"
        category        = "Build"
        owner           = "AWS"
        provider        = "CodeBuild"
        version         = "1"
        input_artifacts = ["build_output"]

        configuration = {
          ProjectName = aws_codebuild_project.this["deploy"].name
        }
      }
    }
  }

  dynamic "trigger" {
    for_each = local.codecommit ? [] : [1]

    content {
      provider_type = "CodeStarSourceConnection"

      git_configuration {
        source_action_name = "Source"

        push {
          branches {
            includes = [var.branch]
          }
        }
      }
    }
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.pipeline]
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  region        = data.aws_region.current.name
  pipeline_name = "${var.name_prefix}-devsecops"
  codecommit    = var.source_provider == "CodeCommit"
  arn_prefix    = "arn:${local.partition}"

  # One severity threshold, expressed in each tool's own scale.
  thresholds = {
    critical = { cvss = "9.0", sonar = "BLOCKER", sonar_impacts = "BLOCKER", zap_riskcode = "3" }
    high     = { cvss = "7.0", sonar = "BLOCKER,CRITICAL", sonar_impacts = "BLOCKER,HIGH", zap_riskcode = "3" }
    medium   = { cvss = "4.0", sonar = "BLOCKER,CRITICAL,MAJOR", sonar_impacts = "BLOCKER,HIGH,MEDIUM", zap_riskcode = "2" }
    low      = { cvss = "0.1", sonar = "BLOCKER,CRITICAL,MAJOR,MINOR", sonar_impacts = "BLOCKER,HIGH,MEDIUM,LOW", zap_riskcode = "1" }
  }
  threshold = local.thresholds[var.fail_on_severity]

  # Report keys are <tool>/<repository>/<branch>/<build_id>/report.json. The importer reads the repository as
  # every segment between tool and branch (owner/name stays intact), so only the branch must be one segment.
  report_env = {
    REPORT_BUCKET = var.report_bucket_id
    REPOSITORY    = var.repository
    BRANCH_SLUG   = replace(var.branch, "/[^A-Za-z0-9._=-]/", "_")
  }

  all_projects = {
    build = {
      description = "Build: the application's own buildspec"
      buildspec   = var.build_buildspec
      compute     = "BUILD_GENERAL1_SMALL"
      privileged  = var.build_privileged_mode
      timeout     = 60
      env         = {}
      secrets     = {}
      cache       = false
      report_tool = null
    }
    sca = {
      description = "SCA: OWASP Dependency-Check, fails on CVSS >= ${local.threshold.cvss}"
      buildspec   = file("${path.module}/buildspecs/sca.yml")
      compute     = "BUILD_GENERAL1_MEDIUM"
      privileged  = false
      timeout     = 90
      env = merge(local.report_env, {
        DC_VERSION   = var.dependency_check_version
        FAIL_ON_CVSS = local.threshold.cvss
      })
      secrets     = var.nvd_api_key_parameter_name == null ? {} : { NVD_API_KEY = var.nvd_api_key_parameter_name }
      cache       = true
      report_tool = "dependency-check"
    }
    sast = {
      description = "SAST: SonarQube scanner with the quality gate"
      buildspec   = file("${path.module}/buildspecs/sast.yml")
      compute     = "BUILD_GENERAL1_MEDIUM"
      privileged  = false
      timeout     = 60
      env = merge(local.report_env, {
        SONAR_HOST_URL        = var.sonar_host_url
        SONAR_PROJECT_KEY     = var.sonar_project_key
        SONAR_SCANNER_VERSION = var.sonar_scanner_version
        SONAR_FAIL_SEVERITIES = local.threshold.sonar
        SONAR_FAIL_IMPACTS    = local.threshold.sonar_impacts
      })
      secrets     = { SONAR_TOKEN = var.sonar_token_parameter_name }
      cache       = false
      report_tool = "sonarqube"
    }
    dast = {
      description = "DAST: ZAP scan of ${var.dast_target_url} on the scanner host through SSM"
      buildspec   = file("${path.module}/buildspecs/dast.yml")
      compute     = "BUILD_GENERAL1_SMALL"
      privileged  = false
      timeout     = var.dast_timeout_minutes + 15
      env = merge(local.report_env, {
        ZAP_INSTANCE_ID      = var.zap_instance_id
        ZAP_DOCUMENT_NAME    = var.zap_document_name
        DAST_TARGET_URL      = var.dast_target_url
        DAST_SCAN_MODE       = var.dast_scan_mode
        DAST_TIMEOUT_MINUTES = tostring(var.dast_timeout_minutes)
        ZAP_FAIL_RISKCODE    = local.threshold.zap_riskcode
      })
      secrets     = {}
      cache       = false
      report_tool = null # the scanner host uploads ZAP reports; this project only reads them
    }
    deploy = {
      description = "Deploy: the application's deploy buildspec"
      buildspec   = var.deploy_buildspec
      compute     = "BUILD_GENERAL1_SMALL"
      privileged  = false
      timeout     = 60
      env         = {}
      secrets     = {}
      cache       = false
      report_tool = null
    }
  }
  projects = { for k, v in local.all_projects : k => v if k != "deploy" || var.deploy_enabled }

  # Terraform 1.0 has no cross-variable validation: this conversion fails the plan with a readable message.
  connection_given = !local.codecommit && var.connection_arn == null ? tobool("source_provider CodeStarSourceConnection needs connection_arn") : true

  codebuild_stages = [
    { stage = "Build", action = "Build", project = "build", category = "Build", outputs = ["build_output"] },
    { stage = "SCA", action = "DependencyCheck", project = "sca", category = "Test", outputs = null },
    { stage = "SAST", action = "SonarQube", project = "sast", category = "Test", outputs = null },
    { stage = "DAST", action = "ZAP", project = "dast", category = "Test", outputs = null },
  ]

  subnet_arns = [for s in var.subnet_ids : "${local.arn_prefix}:ec2:${local.region}:${local.account_id}:subnet/${s}"]
  source_arn = local.codecommit ? "${local.arn_prefix}:codecommit:${local.region}:${local.account_id}:${var.repository}" : (
    local.connection_given ? var.connection_arn : null
  )
}

# --- Artifact bucket -----------------------------------------------------------------------------------------

module "artifacts" {
  source = "../secure_bucket"

  name                 = "${var.name_prefix}-artifacts-${local.account_id}-${local.region}"
  kms_key_arn          = var.kms_key_arn
  access_log_bucket_id = var.access_log_bucket_id
  force_destroy        = var.force_destroy
  expiration_days      = var.artifact_retention_days
  tags                 = var.tags
}

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

# Trust of each service role: this account only, and for EventBridge only the source rule of this pipeline.
data "aws_iam_policy_document" "assume" {
  for_each = {
    codebuild    = null
    codepipeline = null
    events       = "${local.arn_prefix}:events:${local.region}:${local.account_id}:rule/${local.pipeline_name}-source"
  }

  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["${each.key}.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    dynamic "condition" {
      for_each = each.value == null ? [] : [each.value]

      content {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = [condition.value]
      }
    }
  }
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

# --- CodeCommit change detection (connections detect changes themselves) ---------------------------------------

resource "aws_cloudwatch_event_rule" "codecommit" {
  count = local.codecommit ? 1 : 0

  name        = "${local.pipeline_name}-source"
  description = "Start ${local.pipeline_name} on pushes to ${var.repository}@${var.branch}"

  event_pattern = jsonencode({
    source        = ["aws.codecommit"]
    "detail-type" = ["CodeCommit Repository State Change"]
    resources     = [local.source_arn]
    detail = {
      event         = ["referenceCreated", "referenceUpdated"]
      referenceType = ["branch"]
      referenceName = [var.branch]
    }
  })

  tags = var.tags
}

resource "aws_iam_role" "events" {
  count = local.codecommit ? 1 : 0

  name               = "${var.name_prefix}-pipeline-trigger"
  assume_role_policy = data.aws_iam_policy_document.assume["events"].json

  tags = var.tags
}

data "aws_iam_policy_document" "events" {
  statement {
    sid       = "StartThisPipeline"
    actions   = ["codepipeline:StartPipelineExecution"]
    resources = [aws_codepipeline.this.arn]
  }
}

resource "aws_iam_role_policy" "events" {
  count = local.codecommit ? 1 : 0

  name   = "start-pipeline"
  role   = aws_iam_role.events[0].id
  policy = data.aws_iam_policy_document.events.json
}

resource "aws_cloudwatch_event_target" "codecommit" {
  count = local.codecommit ? 1 : 0

  rule     = aws_cloudwatch_event_rule.codecommit[0].name
  arn      = aws_codepipeline.this.arn
  role_arn = aws_iam_role.events[0].arn
}

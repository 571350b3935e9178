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

  codebuild_stages = [
    { stage = "Build", action = "Build", project = "build", category = "Build", outputs = ["build_output"] },
    { stage = "SCA", action = "DependencyCheck", project = "sca", category = "Test", outputs = null },
    { stage = "SAST", action = "SonarQube", project = "sast", category = "Test", outputs = null },
    { stage = "DAST", action = "ZAP", project = "dast", category = "Test", outputs = null },
  ]

  subnet_arns = [for s in var.subnet_ids : "${local.arn_prefix}:ec2:${local.region}:${local.account_id}:subnet/${s}"]
  source_arn = local.codecommit ? "${local.arn_prefix}:codecommit:${local.region}:${local.account_id}:${var.repository}" : (
    var.connection_arn
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

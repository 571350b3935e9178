# --- The state machine: a Distributed Map over the fleet list, one build per environment, then the aggregation --

locals {
  build_task = {
    Type     = "Task"
    Resource = "${local.arn_prefix}:states:::codebuild:startBuild.sync"
    Parameters = {
      ProjectName = aws_codebuild_project.this.name
      EnvironmentVariablesOverride = [
        { Name = "FLEET_COMMAND", Type = "PLAINTEXT", "Value.$" = "$.command" },
        { Name = "FLEET_TARGET", Type = "PLAINTEXT", "Value.$" = "$.name" },
        { Name = "FLEET_ROLE_ARN", Type = "PLAINTEXT", "Value.$" = "$.role" },
        { Name = "FLEET_REAP_ROLE_ARN", Type = "PLAINTEXT", "Value.$" = "$.reap_role" },
        { Name = "FLEET_RESULT_URI", Type = "PLAINTEXT", "Value.$" = "States.Format('s3://${module.results.id}/runs/{}/{}.json', $.run, $.name)" },
      ]
    }
    ResultSelector = { "build.$" = "$.Build.Id", "status.$" = "$.Build.BuildStatus" }
    # Throttled starts are retried; a failed build is not (its report says why, or the aggregation says none came).
    Retry = [{
      ErrorEquals     = ["CodeBuild.AccountLimitExceededException", "CodeBuild.ThrottlingException"]
      IntervalSeconds = 30
      MaxAttempts     = 6
      BackoffRate     = 2
    }]
    End = true
  }

  definition = {
    Comment = "provision fleet: one CodeBuild build per environment (drift, or reap), then one merged report"
    StartAt = "Mode"
    States = {
      Mode = {
        Type    = "Choice"
        Choices = [{ Variable = "$.mode", StringEquals = "reap", Next = "Reap" }]
        Default = "Drift"
      }
      Drift = { Type = "Pass", Result = { command = "drift" }, ResultPath = "$.fleet", Next = "EachEnvironment" }
      Reap  = { Type = "Pass", Result = { command = "reap" }, ResultPath = "$.fleet", Next = "EachEnvironment" }
      EachEnvironment = {
        Type = "Map"
        ItemReader = {
          Resource     = "${local.arn_prefix}:states:::s3:getObject"
          ReaderConfig = { InputType = "JSON" }
          Parameters   = { Bucket = module.results.id, Key = local.targets_key }
        }
        ItemSelector = {
          "name.$"      = "$$.Map.Item.Value.name"
          "role.$"      = "$$.Map.Item.Value.role"
          "reap_role.$" = "$$.Map.Item.Value.reap_role"
          "command.$"   = "$.fleet.command"
          "run.$"       = "$$.Execution.Name"
        }
        ItemProcessor = {
          ProcessorConfig = { Mode = "DISTRIBUTED", ExecutionType = "STANDARD" }
          StartAt         = "Build"
          States          = { Build = local.build_task }
        }
        MaxConcurrency             = var.max_concurrency
        ToleratedFailurePercentage = var.tolerated_failure_percentage
        ResultPath                 = null # results live in S3; a Map's output is capped at 256 KiB
        # Past the tolerated failures the map fails, and the aggregation still reports every environment.
        Catch = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.map_error", Next = "Aggregate" }]
        Next  = "Aggregate"
      }
      Aggregate = {
        Type           = "Task"
        Resource       = "${local.arn_prefix}:states:::lambda:invoke"
        Parameters     = { FunctionName = module.aggregator.function_arn, Payload = { "run.$" = "$$.Execution.Name" } }
        ResultSelector = { "report.$" = "$.Payload" }
        Retry = [{
          ErrorEquals     = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"]
          IntervalSeconds = 2
          MaxAttempts     = 3
          BackoffRate     = 2
        }]
        End = true
      }
    }
  }
}

resource "aws_cloudwatch_log_group" "state_machine" {
  name              = "/aws/vendedlogs/states/${local.state_machine_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "states_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "state_machine" {
  name               = "${var.name_prefix}-fleet-states"
  assume_role_policy = data.aws_iam_policy_document.states_trust.json

  tags = var.tags
}

data "aws_iam_policy_document" "state_machine" {
  statement {
    sid       = "ReadFleetList"
    actions   = ["s3:GetObject"]
    resources = ["${module.results.arn}/${local.targets_key}"]
  }

  statement {
    sid       = "UseStackKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "RunBuilds"
    actions   = ["codebuild:StartBuild", "codebuild:StopBuild", "codebuild:BatchGetBuilds"]
    resources = [aws_codebuild_project.this.arn]
  }

  # startBuild.sync waits through this managed EventBridge rule.
  statement {
    sid       = "SyncBuildCompletion"
    actions   = ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
    resources = ["${local.arn_prefix}:events:${local.region}:${local.account_id}:rule/StepFunctionsGetEventForCodeBuildStartBuildRule"]
  }

  # A Distributed Map runs its items as child executions of this state machine.
  statement {
    sid       = "RunChildExecutions"
    actions   = ["states:StartExecution"]
    resources = [local.state_machine_arn]
  }

  statement {
    sid       = "WatchChildExecutions"
    actions   = ["states:DescribeExecution", "states:StopExecution"]
    resources = [local.child_execution_arn]
  }

  statement {
    sid       = "Aggregate"
    actions   = ["lambda:InvokeFunction"]
    resources = [module.aggregator.function_arn]
  }

  # CloudWatch Logs delivery and X-Ray accept no resource-level scoping.
  statement {
    sid = "DeliverLogsAndTraces"
    actions = [
      "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
      "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "fleet-states"
  role   = aws_iam_role.state_machine.id
  policy = data.aws_iam_policy_document.state_machine.json
}

resource "aws_sfn_state_machine" "this" {
  name       = local.state_machine_name
  role_arn   = aws_iam_role.state_machine.arn
  definition = jsonencode(local.definition)
  type       = "STANDARD"

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = true # names, roles, build ids and the fleet summary; the reports stay in the bucket
    level                  = "ALL"
  }

  tracing_configuration {
    enabled = true
  }

  encryption_configuration {
    type                              = "CUSTOMER_MANAGED_KMS_KEY"
    kms_key_id                        = var.kms_key_arn
    kms_data_key_reuse_period_seconds = 300
  }

  tags = var.tags
}

# --- Schedules: drift nightly, reap hourly ---------------------------------------------------------------------

data "aws_iam_policy_document" "scheduler_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name_prefix}-fleet-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_trust.json

  tags = var.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "StartFleetRuns"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.this.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "fleet-scheduler"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "this" {
  for_each = { for mode, expression in { drift = var.drift_schedule, reap = var.reap_schedule } : mode => expression if expression != "" }

  name                = "${var.name_prefix}-fleet-${each.key}"
  schedule_expression = each.value
  kms_key_arn         = var.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sfn_state_machine.this.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ mode = each.key })

    retry_policy {
      maximum_retry_attempts = 2
    }
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  region        = data.aws_region.current.name
  ec2_arn       = "arn:${local.partition}:ec2:${local.region}:${local.account_id}"
  iam_arn       = "arn:${local.partition}:iam::${local.account_id}"
  function_name = "${var.name_prefix}-guardduty-response"
  own_role_name = "${local.function_name}-role"
  # The same defaults as provisioner/functions/response/policy.py DEFAULT_POLICY (tested): an action that is
  # off gets no permission at all.
  isolate_enabled = try(var.policy.actions.isolate_instance.enabled, true)
  key_enabled     = try(var.policy.actions.deactivate_access_key.enabled, false)
  revoke_enabled  = try(var.policy.actions.revoke_role_sessions.enabled, true)
  block_enabled   = try(var.policy.actions.block_remote_ip.enabled, true) && var.blocked_ip_set_arn != ""
  tag_keys        = ["gd-response:*"]
}

# ---------------------------------------------------------------- quarantine security groups

# No ingress and no egress rule: Terraform removes the default allow-all egress rule AWS adds.
resource "aws_security_group" "quarantine" {
  for_each = toset(var.quarantine_vpc_ids)

  name        = "${var.name_prefix}-quarantine-${each.value}"
  description = "GuardDuty response quarantine: no inbound or outbound rules; network interfaces of isolated instances"
  vpc_id      = each.value
  tags        = merge(var.tags, { Name = "${var.name_prefix}-quarantine" })
}

# ---------------------------------------------------------------- permissions (only what enabled actions need)

data "aws_iam_policy_document" "response" {
  statement {
    sid       = "ReadFindingContext"
    actions   = ["ec2:DescribeInstances", "ec2:DescribeSnapshots", "ec2:DescribeTags"]
    resources = ["*"] # these Describe calls support no resource-level permissions
  }

  statement {
    sid       = "ReadTerminationProtection"
    actions   = ["ec2:DescribeInstanceAttribute"]
    resources = ["${local.ec2_arn}:instance/*"]
  }

  dynamic "statement" {
    for_each = local.isolate_enabled ? [1] : []
    content {
      sid     = "MoveInterfacesToQuarantineOnly"
      actions = ["ec2:ModifyNetworkInterfaceAttribute"]
      # Every security group named in the call must be a quarantine group: no other group can be set.
      resources = concat(
        [for kind in ["network-interface", "instance", "subnet", "vpc"] : "${local.ec2_arn}:${kind}/*"],
        [for sg in aws_security_group.quarantine : "${local.ec2_arn}:security-group/${sg.id}"],
      )
    }
  }

  dynamic "statement" {
    for_each = local.isolate_enabled ? [1] : []
    content {
      sid       = "EnableTerminationProtection"
      actions   = ["ec2:ModifyInstanceAttribute"]
      resources = ["${local.ec2_arn}:instance/*"]
    }
  }

  dynamic "statement" {
    for_each = local.isolate_enabled ? [1] : []
    content {
      sid       = "SnapshotAttachedVolumes"
      actions   = ["ec2:CreateSnapshot"]
      resources = ["${local.ec2_arn}:volume/*"]
    }
  }

  dynamic "statement" {
    for_each = local.isolate_enabled ? [1] : []
    content {
      sid       = "CreateEvidenceSnapshotsTagged"
      actions   = ["ec2:CreateSnapshot"]
      resources = ["arn:${local.partition}:ec2:${local.region}::snapshot/*"]

      condition {
        test     = "Null"
        variable = "aws:RequestTag/gd-response:finding-id"
        values   = ["false"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.isolate_enabled ? [1] : []
    content {
      sid       = "TagOnlyWithResponseKeys"
      actions   = ["ec2:CreateTags"]
      resources = ["${local.ec2_arn}:instance/*", "${local.ec2_arn}:network-interface/*"]

      condition {
        test     = "ForAllValues:StringLike"
        variable = "aws:TagKeys"
        values   = local.tag_keys
      }
    }
  }

  dynamic "statement" {
    for_each = local.isolate_enabled ? [1] : []
    content {
      sid       = "TagSnapshotsAtCreation"
      actions   = ["ec2:CreateTags"]
      resources = ["arn:${local.partition}:ec2:${local.region}::snapshot/*"]

      condition {
        test     = "StringEquals"
        variable = "ec2:CreateAction"
        values   = ["CreateSnapshot"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.key_enabled ? [1] : []
    content {
      sid       = "DeactivateUserAccessKeys"
      actions   = ["iam:ListAccessKeys", "iam:ListUserTags", "iam:UpdateAccessKey"]
      resources = ["${local.iam_arn}:user/*"]
    }
  }

  dynamic "statement" {
    for_each = local.key_enabled ? [1] : []
    content {
      sid       = "TagUsersWithResponseKeys"
      actions   = ["iam:TagUser"]
      resources = ["${local.iam_arn}:user/*"]

      condition {
        test     = "ForAllValues:StringLike"
        variable = "aws:TagKeys"
        values   = local.tag_keys
      }
    }
  }

  dynamic "statement" {
    for_each = local.revoke_enabled ? [1] : []
    content {
      sid       = "RevokeRoleSessions"
      actions   = ["iam:GetRole", "iam:GetRolePolicy", "iam:PutRolePolicy"]
      resources = ["${local.iam_arn}:role/*"]
    }
  }

  dynamic "statement" {
    for_each = local.revoke_enabled ? [1] : []
    content {
      sid       = "TagRolesWithResponseKeys"
      actions   = ["iam:TagRole"]
      resources = ["${local.iam_arn}:role/*"]

      condition {
        test     = "ForAllValues:StringLike"
        variable = "aws:TagKeys"
        values   = local.tag_keys
      }
    }
  }

  # The function never writes policies onto its own role or a service-linked role.
  dynamic "statement" {
    for_each = local.revoke_enabled ? [1] : []
    content {
      sid       = "NeverRewriteOwnOrServiceRoles"
      effect    = "Deny"
      actions   = ["iam:PutRolePolicy", "iam:TagRole"]
      resources = ["${local.iam_arn}:role/${local.own_role_name}", "${local.iam_arn}:role/aws-service-role/*"]
    }
  }

  dynamic "statement" {
    for_each = local.block_enabled ? [1] : []
    content {
      sid = "BlockRemoteAddresses"
      actions = [
        "wafv2:GetIPSet",
        "wafv2:UpdateIPSet",
        "wafv2:ListTagsForResource",
        "wafv2:TagResource",
        "wafv2:UntagResource",
      ]
      resources = [var.blocked_ip_set_arn]
    }
  }

  statement {
    sid       = "NoteOnFinding"
    actions   = ["guardduty:UpdateFindingsFeedback"]
    resources = ["arn:${local.partition}:guardduty:${local.region}:${local.account_id}:detector/${var.detector_id}"]
  }

  statement {
    sid       = "NoteOnSecurityHubFinding"
    actions   = ["securityhub:BatchUpdateFindings"]
    resources = ["arn:${local.partition}:securityhub:${local.region}:${local.account_id}:hub/default"]
  }

  statement {
    sid       = "NotifyAlertTopic"
    actions   = ["sns:Publish"]
    resources = [var.alerts_topic_arn]
  }

  statement {
    sid       = "EncryptForAlertTopic"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sns.${local.region}.amazonaws.com"]
    }
  }
}

module "function" {
  source = "../lambda_function"

  function_name = local.function_name
  description   = "GuardDuty automated response: isolate, preserve evidence, contain credentials, block, notify"
  package       = var.package
  environment_variables = {
    RESPONSE_POLICY    = jsonencode(var.policy)
    QUARANTINE_GROUPS  = jsonencode({ for vpc, sg in aws_security_group.quarantine : vpc => sg.id })
    ALERT_TOPIC_ARN    = var.alerts_topic_arn
    BLOCKED_IP_SET_ARN = var.blocked_ip_set_arn
    OWN_ROLE_NAME      = local.own_role_name
  }
  kms_key_arn              = var.kms_key_arn
  vpc_id                   = var.vpc_id
  subnet_ids               = var.subnet_ids
  https_egress_to_internet = true # AWS APIs (EC2, IAM, WAF, GuardDuty, SNS) through the NAT gateway
  policy_json              = data.aws_iam_policy_document.response.json
  timeout                  = 300
  reserved_concurrency     = 5
  log_retention_days       = var.log_retention_days
  tags                     = var.tags
}

# ---------------------------------------------------------------- triggers

resource "aws_cloudwatch_event_rule" "findings" {
  name        = "${var.name_prefix}-guardduty-response"
  description = "Every GuardDuty finding, for the automated response (the policy decides what to do)"
  event_pattern = jsonencode({
    source        = ["aws.guardduty"]
    "detail-type" = ["GuardDuty Finding"]
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "findings" {
  rule = aws_cloudwatch_event_rule.findings.name
  arn  = module.function.function_arn

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 5
  }
}

resource "aws_lambda_permission" "findings" {
  statement_id   = "EventBridgeGuardDutyFindings"
  action         = "lambda:InvokeFunction"
  function_name  = module.function.function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.findings.arn
  source_account = local.account_id
}

resource "aws_cloudwatch_event_rule" "sweep" {
  name                = "${var.name_prefix}-guardduty-response-sweep"
  description         = "Removes expired addresses from the WAF block list"
  schedule_expression = var.sweep_schedule
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "sweep" {
  rule = aws_cloudwatch_event_rule.sweep.name
  arn  = module.function.function_arn
}

resource "aws_lambda_permission" "sweep" {
  statement_id   = "EventBridgeSweepSchedule"
  action         = "lambda:InvokeFunction"
  function_name  = module.function.function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.sweep.arn
  source_account = local.account_id
}

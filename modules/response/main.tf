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
  revocable_roles = try(tolist(var.policy.revocable_roles), [])
  # REVOCABLE_TAG of provisioner/functions/response/policy.py: IAM evaluates aws:ResourceTag on roles.
  revocable_tag = { test = "StringEquals", variable = "aws:ResourceTag/SecurityResponseRevocable", values = ["true"] }
}

# ---------------------------------------------------------------- quarantine security groups

# No ingress and no egress rule: Terraform removes the default allow-all egress rule AWS adds. `count`, not
# for_each: the VPC ids come from the network module and are unknown until it is applied, their number is not.
resource "aws_security_group" "quarantine" {
  count = length(var.quarantine_vpc_ids)

  name        = "${var.name_prefix}-quarantine-${var.quarantine_vpc_ids[count.index]}"
  description = "GuardDuty response quarantine: no inbound or outbound rules; network interfaces of isolated instances"
  vpc_id      = var.quarantine_vpc_ids[count.index]
  tags        = merge(var.tags, { Name = "${var.name_prefix}-quarantine" })
}

# ---------------------------------------------------------------- permissions (only what enabled actions need)

locals {
  snapshot_arn = "arn:${local.partition}:ec2:${local.region}::snapshot/*"
  own_keys     = [{ test = "ForAllValues:StringLike", variable = "aws:TagKeys", values = local.tag_keys }]
  # One row per statement; `enabled` keeps an action's permissions out of the role while the action is off.
  permissions = {
    ReadFindingContext = {
      enabled   = true, effect = "Allow", conditions = []
      actions   = ["ec2:DescribeInstances", "ec2:DescribeSnapshots", "ec2:DescribeTags"]
      resources = ["*"] # these Describe calls support no resource-level permissions
    }
    ReadTerminationProtection = {
      enabled   = true, effect = "Allow", conditions = []
      actions   = ["ec2:DescribeInstanceAttribute"]
      resources = ["${local.ec2_arn}:instance/*"]
    }
    # Every security group named in the call must be a quarantine group: no other group can be set.
    MoveInterfacesToQuarantineOnly = {
      enabled = local.isolate_enabled, effect = "Allow", conditions = []
      actions = ["ec2:ModifyNetworkInterfaceAttribute"]
      resources = concat(
        [for kind in ["network-interface", "instance", "subnet", "vpc"] : "${local.ec2_arn}:${kind}/*"],
        [for sg in aws_security_group.quarantine : "${local.ec2_arn}:security-group/${sg.id}"],
      )
    }
    EnableTerminationProtection = {
      enabled   = local.isolate_enabled, effect = "Allow", conditions = []
      actions   = ["ec2:ModifyInstanceAttribute"]
      resources = ["${local.ec2_arn}:instance/*"]
    }
    # ec2:Attribute is the only key naming the attribute a ModifyInstanceAttribute call sets (Service
    # Authorization Reference). Fail-safe: any other attribute is refused where AWS supplies the key; where it
    # does not, ForAnyValue finds no value and this Deny does not apply.
    OnlyTerminationProtection = {
      enabled    = local.isolate_enabled, effect = "Deny"
      actions    = ["ec2:ModifyInstanceAttribute"]
      resources  = ["*"]
      conditions = [{ test = "ForAnyValue:StringNotEqualsIgnoreCase", variable = "ec2:Attribute", values = ["disableApiTermination"] }]
    }
    SnapshotAttachedVolumes = {
      enabled   = local.isolate_enabled, effect = "Allow", conditions = []
      actions   = ["ec2:CreateSnapshot"]
      resources = ["${local.ec2_arn}:volume/*"]
    }
    CreateEvidenceSnapshotsTagged = {
      enabled    = local.isolate_enabled, effect = "Allow"
      actions    = ["ec2:CreateSnapshot"]
      resources  = [local.snapshot_arn]
      conditions = [{ test = "Null", variable = "aws:RequestTag/gd-response:finding-id", values = ["false"] }]
    }
    TagOnlyWithResponseKeys = {
      enabled   = local.isolate_enabled, effect = "Allow", conditions = local.own_keys
      actions   = ["ec2:CreateTags"]
      resources = ["${local.ec2_arn}:instance/*", "${local.ec2_arn}:network-interface/*"]
    }
    TagSnapshotsAtCreation = {
      enabled    = local.isolate_enabled, effect = "Allow"
      actions    = ["ec2:CreateTags"]
      resources  = [local.snapshot_arn]
      conditions = [{ test = "StringEquals", variable = "ec2:CreateAction", values = ["CreateSnapshot"] }]
    }
    DeactivateUserAccessKeys = {
      enabled   = local.key_enabled, effect = "Allow", conditions = []
      actions   = ["iam:ListAccessKeys", "iam:ListUserTags", "iam:UpdateAccessKey"]
      resources = ["${local.iam_arn}:user/*"]
    }
    TagUsersWithResponseKeys = {
      enabled   = local.key_enabled, effect = "Allow", conditions = local.own_keys
      actions   = ["iam:TagUser"]
      resources = ["${local.iam_arn}:user/*"]
    }
    ReadRoleTags = {
      enabled   = local.revoke_enabled, effect = "Allow", conditions = []
      actions   = ["iam:GetRole"]
      resources = ["${local.iam_arn}:role/*"]
    }
    # Sessions are revoked only on roles the policy names (revocable_roles) or that carry the revocable tag.
    RevokeSessionsOfListedRoles = {
      enabled   = local.revoke_enabled && length(local.revocable_roles) > 0, effect = "Allow", conditions = []
      actions   = ["iam:GetRolePolicy", "iam:PutRolePolicy"]
      resources = [for name in local.revocable_roles : "${local.iam_arn}:role/${name}"]
    }
    RevokeSessionsOfTaggedRoles = {
      enabled    = local.revoke_enabled, effect = "Allow"
      actions    = ["iam:GetRolePolicy", "iam:PutRolePolicy"]
      resources  = ["${local.iam_arn}:role/*"]
      conditions = [local.revocable_tag]
    }
    TagListedRolesWithResponseKeys = {
      enabled   = local.revoke_enabled && length(local.revocable_roles) > 0, effect = "Allow", conditions = local.own_keys
      actions   = ["iam:TagRole"]
      resources = [for name in local.revocable_roles : "${local.iam_arn}:role/${name}"]
    }
    TagTaggedRolesWithResponseKeys = {
      enabled    = local.revoke_enabled, effect = "Allow"
      actions    = ["iam:TagRole"]
      resources  = ["${local.iam_arn}:role/*"]
      conditions = concat(local.own_keys, [local.revocable_tag])
    }
    # The function never writes policies onto its own role or a service-linked role.
    NeverRewriteOwnOrServiceRoles = {
      enabled   = local.revoke_enabled, effect = "Deny", conditions = []
      actions   = ["iam:PutRolePolicy", "iam:TagRole"]
      resources = ["${local.iam_arn}:role/${local.own_role_name}", "${local.iam_arn}:role/aws-service-role/*"]
    }
    BlockRemoteAddresses = {
      enabled   = local.block_enabled, effect = "Allow", conditions = []
      actions   = ["wafv2:GetIPSet", "wafv2:UpdateIPSet", "wafv2:ListTagsForResource", "wafv2:TagResource", "wafv2:UntagResource"]
      resources = [var.blocked_ip_set_arn]
    }
    NoteOnFinding = {
      enabled   = true, effect = "Allow", conditions = []
      actions   = ["guardduty:UpdateFindingsFeedback"]
      resources = ["arn:${local.partition}:guardduty:${local.region}:${local.account_id}:detector/${var.detector_id}"]
    }
    NoteOnSecurityHubFinding = {
      enabled   = true, effect = "Allow", conditions = []
      actions   = ["securityhub:BatchUpdateFindings"]
      resources = ["arn:${local.partition}:securityhub:${local.region}:${local.account_id}:hub/default"]
    }
    NotifyAlertTopic = {
      enabled   = true, effect = "Allow", conditions = []
      actions   = ["sns:Publish"]
      resources = [var.alerts_topic_arn]
    }
    EncryptForAlertTopic = {
      enabled    = true, effect = "Allow"
      actions    = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources  = [var.kms_key_arn]
      conditions = [{ test = "StringEquals", variable = "kms:ViaService", values = ["sns.${local.region}.amazonaws.com"] }]
    }
  }
}

data "aws_iam_policy_document" "response" {
  dynamic "statement" {
    for_each = { for sid, row in local.permissions : sid => row if row.enabled }

    content {
      sid       = statement.key
      effect    = statement.value.effect
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions

        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
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
    QUARANTINE_GROUPS  = jsonencode(zipmap(var.quarantine_vpc_ids, aws_security_group.quarantine[*].id))
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

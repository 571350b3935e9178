data "aws_partition" "current" {}

locals {
  arn_prefix = "arn:${data.aws_partition.current.partition}"
  states     = "${var.state_bucket_arn}/${var.state_key_prefix}*"
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = [var.build_role_arn]
    }
  }
}

# --- Drift: read-only, plus what `terraform plan` needs of the state --------------------------------------------

resource "aws_iam_role" "drift" {
  name                 = var.drift_role_name
  description          = "provision fleet drift: read-only view of the account and its Terraform states"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "read_only" {
  role       = aws_iam_role.drift.name
  policy_arn = "${local.arn_prefix}:iam::aws:policy/ReadOnlyAccess"
}

data "aws_iam_policy_document" "state" {
  statement {
    sid       = "ReadStates"
    actions   = ["s3:GetObject"]
    resources = [local.states]
  }

  # `terraform plan` takes the state lock: S3-native lock files, or the DynamoDB table where it is still used.
  statement {
    sid       = "LockFiles"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.states}.tflock"]
  }

  dynamic "statement" {
    for_each = var.lock_table_arn == "" ? [] : [var.lock_table_arn]

    content {
      sid       = "LockTable"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "drift_state" {
  name   = "terraform-state"
  role   = aws_iam_role.drift.id
  policy = data.aws_iam_policy_document.state.json
}

# --- Reap: deletes only what carries the ephemeral-instance tag ---------------------------------------------------

resource "aws_iam_role" "reap" {
  count = var.reap_role_name == "" ? 0 : 1

  name                 = var.reap_role_name
  description          = "provision fleet reap: tears down expired ephemeral instances (resources tagged ${var.instance_tag_key})"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "reap_read_only" {
  count = length(aws_iam_role.reap)

  role       = aws_iam_role.reap[0].name
  policy_arn = "${local.arn_prefix}:iam::aws:policy/ReadOnlyAccess"
}

data "aws_iam_policy_document" "reap" {
  # Destructive calls only on resources that carry the instance tag (services that evaluate aws:ResourceTag on
  # delete); anything without the tag stays out of reach, whatever the call.
  statement {
    sid = "DestroyTaggedInstanceResources"
    actions = [
      "cloudtrail:DeleteTrail", "cloudtrail:StopLogging", "codebuild:DeleteProject",
      "codepipeline:DeletePipeline", "ec2:DeleteSecurityGroup", "ec2:DeleteSubnet", "ec2:DeleteVpc",
      "ec2:TerminateInstances", "ec2:DeleteVpcEndpoints", "ec2:DeleteNatGateway", "ec2:ReleaseAddress",
      "ec2:DeleteRouteTable", "ec2:DeleteInternetGateway", "ec2:DeleteFlowLogs", "es:DeleteDomain",
      "events:DeleteRule", "events:RemoveTargets", "firehose:DeleteDeliveryStream", "iam:DeleteRole",
      "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "kms:ScheduleKeyDeletion", "lambda:DeleteFunction",
      "logs:DeleteLogGroup", "sns:DeleteTopic", "sqs:DeleteQueue", "wafv2:DeleteWebACL",
    ]
    resources = ["*"]

    condition {
      test     = "Null"
      variable = "aws:ResourceTag/${var.instance_tag_key}"
      values   = ["false"]
    }
  }

  # Objects carry no tags the condition could read: emptying is limited to the instances' state keys' siblings,
  # and buckets are deleted only with the tag (the bucket-level call supports it).
  statement {
    sid       = "EmptyTaggedBuckets"
    actions   = ["s3:DeleteBucket", "s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = ["*"]

    condition {
      test     = "Null"
      variable = "aws:ResourceTag/${var.instance_tag_key}"
      values   = ["false"]
    }
  }

  statement {
    sid       = "InstanceStates"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [local.states]
  }
}

resource "aws_iam_role_policy" "reap" {
  count = length(aws_iam_role.reap)

  name   = "reap-tagged"
  role   = aws_iam_role.reap[0].id
  policy = data.aws_iam_policy_document.reap.json
}

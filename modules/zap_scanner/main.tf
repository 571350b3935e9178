data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_ssm_parameter" "al2023" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  # The public AMI parameter is a plain String, so its insecure_value is not a secret.
  ami_id = var.ami_id != null ? var.ami_id : data.aws_ssm_parameter.al2023.insecure_value

  egress_rules = {
    for pair in setproduct(var.egress_cidr_blocks, var.egress_ports) : "${pair[0]}:${pair[1]}" => {
      cidr = pair[0]
      port = pair[1]
    }
  }

  document_name = "${var.name_prefix}-zap-scan"
}

# --- Network: no inbound rules at all; the host is driven through SSM only. ---------------------------------

resource "aws_security_group" "this" {
  name        = "${var.name_prefix}-zap-scanner"
  description = "ZAP scanner host: no inbound access, egress to the scanned app and AWS APIs only"
  vpc_id      = var.vpc_id

  tags = merge(var.tags, { Name = "${var.name_prefix}-zap-scanner" })
}

resource "aws_vpc_security_group_egress_rule" "this" {
  for_each = local.egress_rules

  security_group_id = aws_security_group.this.id
  description       = "TCP ${each.value.port} to ${each.value.cidr} (AWS APIs, packages, app under test)"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr

  tags = var.tags
}

# --- Instance role: the SSM agent's Run Command channel plus writing reports under zap/. ------------------

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name_prefix}-zap-scanner"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

# Written out instead of AmazonSSMManagedInstanceCore: that policy also grants parameter reads, inventory,
# patching and association APIs this host does not use. Run Command needs registration plus the message channels.
data "aws_iam_policy_document" "instance" {
  statement {
    sid       = "SsmAgentRegistersItself"
    actions   = ["ssm:UpdateInstanceInformation"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:instance/*"]
  }

  # These message-channel actions support no resource-level scoping (resource "*" is the only form).
  statement {
    sid = "SsmAgentMessageChannels"
    actions = [
      "ec2messages:AcknowledgeMessage",
      "ec2messages:DeleteMessage",
      "ec2messages:FailMessage",
      "ec2messages:GetEndpoint",
      "ec2messages:GetMessages",
      "ec2messages:SendReply",
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "UploadZapReports"
    actions   = ["s3:PutObject"]
    resources = ["${var.report_bucket_arn}/zap/*"]
  }

  statement {
    sid       = "EncryptReportsThroughS3"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "zap-scanner"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.instance.json
}

resource "aws_iam_instance_profile" "this" {
  name = "${var.name_prefix}-zap-scanner"
  role = aws_iam_role.this.name

  tags = var.tags
}

# --- The host ------------------------------------------------------------------------------------------------

resource "aws_instance" "this" {
  ami                         = local.ami_id
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_ids[0]
  vpc_security_group_ids      = [aws_security_group.this.id]
  iam_instance_profile        = aws_iam_instance_profile.this.name
  associate_public_ip_address = false
  monitoring                  = true
  ebs_optimized               = true

  user_data = templatefile("${path.module}/scripts/user_data.sh.tftpl", {
    zap_version = var.zap_version
    zap_sha256  = var.zap_sha256 == null ? "" : var.zap_sha256
  })
  user_data_replace_on_change = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    encrypted             = true
    kms_key_id            = var.kms_key_arn
    volume_type           = "gp3"
    volume_size           = var.root_volume_size
    delete_on_termination = true
  }

  tags        = merge(var.tags, { Name = "${var.name_prefix}-zap-scanner" })
  volume_tags = var.tags

  # The role policy must exist before the agent first registers.
  depends_on = [aws_iam_role_policy.this]
}

# --- The scan command ----------------------------------------------------------------------------------------

resource "aws_ssm_document" "scan" {
  name            = local.document_name
  document_type   = "Command"
  document_format = "JSON"
  target_type     = "/AWS::EC2::Instance"

  content = jsonencode({
    schemaVersion = "2.2"
    description   = "Run an OWASP ZAP scan of TargetUrl on the scanner host and upload the JSON report to s3://${var.report_bucket_id}/<ReportKey>."
    parameters = {
      TargetUrl = {
        type           = "String"
        description    = "http(s) URL of the deployed application to scan."
        allowedPattern = "^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/%+=&?-]*)?$"
      }
      ReportKey = {
        type           = "String"
        description    = "Object key of the report: zap/<repository (may be owner/name)>/<branch>/<build_id>/report.json."
        allowedPattern = "^zap(/[A-Za-z0-9_=-][A-Za-z0-9._=-]*){3,}/report\\.json$"
      }
      ScanMode = {
        type          = "String"
        description   = "baseline (spider + passive rules) or full (adds the active scan)."
        default       = var.default_scan_mode
        allowedValues = ["baseline", "full"]
      }
      Commit = {
        type           = "String"
        description    = "Commit ID stored as the report's commit metadata (optional)."
        default        = ""
        allowedPattern = "^[0-9a-fA-F]{0,64}$"
      }
    }
    mainSteps = [
      {
        action = "aws:runShellScript"
        name   = "zapScan"
        inputs = {
          timeoutSeconds = var.scan_timeout_minutes * 60 + 300
          runCommand = concat(
            [
              "TARGET_URL='{{ TargetUrl }}'",
              "REPORT_KEY='{{ ReportKey }}'",
              "SCAN_MODE='{{ ScanMode }}'",
              "COMMIT_ID='{{ Commit }}'",
              "MAX_MINUTES=${var.scan_timeout_minutes}",
              "REPORT_BUCKET='${var.report_bucket_id}'",
              "AWS_REGION='${local.region}'",
            ],
            split("\n", chomp(file("${path.module}/scripts/zap_scan.sh"))),
          )
        }
      },
    ]
  })

  tags = var.tags
}

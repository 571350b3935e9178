# --- The last step: every build's report merged, the alert topic told only when the fleet's drift changed ------

data "aws_iam_policy_document" "aggregator" {
  statement {
    sid       = "ReadTargetsAndReports"
    actions   = ["s3:GetObject"]
    resources = ["${module.results.arn}/${local.targets_key}", "${module.results.arn}/runs/*", "${module.results.arn}/notified.json"]
  }

  statement {
    sid       = "WriteFleetReportAndFingerprint"
    actions   = ["s3:PutObject"]
    resources = ["${module.results.arn}/runs/*", "${module.results.arn}/latest.json", "${module.results.arn}/notified.json"]
  }

  # GetObject on a missing key answers 403 instead of 404 without ListBucket.
  statement {
    sid       = "TellMissingReports"
    actions   = ["s3:ListBucket"]
    resources = [module.results.arn]
  }

  statement {
    sid       = "UseStackKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "NotifyOnChange"
    actions   = ["sns:Publish"]
    resources = [var.alerts_topic_arn]
  }
}

module "aggregator" {
  source = "../lambda_function"

  function_name = "${var.name_prefix}-fleet-aggregator"
  description   = "Merges the fleet's drift reports and notifies the alert topic when the drift changed"
  package       = var.package
  environment_variables = {
    RESULTS_BUCKET   = module.results.id
    ALERTS_TOPIC_ARN = var.alerts_topic_arn
  }
  kms_key_arn              = var.kms_key_arn
  vpc_id                   = var.vpc_id
  subnet_ids               = var.subnet_ids
  https_egress_to_internet = true # S3 and SNS through the NAT gateway or VPC endpoints
  policy_json              = data.aws_iam_policy_document.aggregator.json
  timeout                  = 300
  reserved_concurrency     = 2
  log_retention_days       = var.log_retention_days
  tags                     = var.tags
}

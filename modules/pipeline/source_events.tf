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

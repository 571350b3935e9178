data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  arn_prefix = "arn:${local.partition}"

  project_name       = "${var.name_prefix}-fleet"
  state_machine_name = "${var.name_prefix}-fleet"
  state_machine_arn  = "${local.arn_prefix}:states:${local.region}:${local.account_id}:stateMachine:${local.state_machine_name}"
  # Distributed Map child executions are named <state machine>/<map run>:<id>.
  child_execution_arn = "${local.arn_prefix}:states:${local.region}:${local.account_id}:execution:${local.state_machine_name}/*"
  targets_key         = "fleet.json"
  member_roles        = distinct([for t in var.targets : t.role])
  # Each target's reap role: the same account, the role `fleet_member` creates for reaping.
  fleet_list = [for t in var.targets : merge(t, { reap_role = replace(t.role, "/:role/.*$/", ":role/${var.reap_role_name}") })]
  reap_roles = distinct([for t in local.fleet_list : t.reap_role])
}

# --- Results: the fleet list, one drift report per build, the merged report, the last notified fingerprint ----

module "results" {
  source = "../secure_bucket"

  name                 = "${var.name_prefix}-fleet-${local.account_id}-${local.region}"
  kms_key_arn          = var.kms_key_arn
  access_log_bucket_id = var.access_log_bucket_id
  force_destroy        = var.force_destroy
  tags                 = var.tags
}

resource "aws_s3_object" "targets" {
  bucket       = module.results.id
  key          = local.targets_key
  content      = jsonencode(local.fleet_list)
  content_type = "application/json"
  kms_key_id   = var.kms_key_arn

  tags = var.tags
}

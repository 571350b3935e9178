# Terraform 1.0 validation blocks cannot compare two variables: these locals fail the plan with a readable
# message instead (the error shows the text passed to tobool).
locals {
  check_zone_awareness_nodes   = var.zone_awareness && var.instance_count % var.availability_zone_count != 0 ? tobool("zone_awareness needs instance_count to be a multiple of availability_zone_count (even for 2 zones)") : true
  check_zone_awareness_subnets = var.zone_awareness && length(var.subnet_ids) < var.availability_zone_count ? tobool("zone_awareness needs one subnet per availability zone in subnet_ids") : true
}

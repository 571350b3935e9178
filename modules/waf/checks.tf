# Terraform 1.0 validation blocks cannot compare two variables: these locals fail the plan with a readable
# message instead (the error shows the text passed to tobool).
locals {
  check_cloudfront_region = var.scope == "CLOUDFRONT" && local.region != "us-east-1" ? tobool("scope CLOUDFRONT needs the stack region us-east-1") : true
  check_alb_scope         = var.scope == "CLOUDFRONT" && var.alb_arn != null ? tobool("alb_arn can only be associated with a REGIONAL web ACL") : true
}

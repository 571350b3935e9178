output "function_arn" {
  description = "ARN of the guardduty_response Lambda."
  value       = module.function.function_arn
}

output "role_arn" {
  description = "Execution role of the guardduty_response Lambda."
  value       = module.function.role_arn
}

output "quarantine_security_group_ids" {
  description = "Quarantine security group (no rules) per VPC id."
  value       = zipmap(var.quarantine_vpc_ids, aws_security_group.quarantine[*].id)
}

output "findings_rule_arn" {
  description = "EventBridge rule that delivers GuardDuty findings to the response Lambda."
  value       = aws_cloudwatch_event_rule.findings.arn
}

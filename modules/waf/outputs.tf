output "web_acl_arn" {
  description = "ARN of the WAFv2 web ACL."
  value       = aws_wafv2_web_acl.this.arn
}

output "firehose_role_arn" {
  description = "Role Firehose uses to deliver WAF logs (an OpenSearch ingest role)."
  value       = aws_iam_role.firehose.arn
}

output "normalizer_role_arn" {
  description = "Execution role of the waf_normalizer Lambda (Firehose processor)."
  value       = module.normalizer.role_arn
}

output "firehose_stream_arn" {
  description = "ARN of the aws-waf-logs-* Firehose stream."
  value       = aws_kinesis_firehose_delivery_stream.this.arn
}

output "blocked_ip_set_arn" {
  description = "WAFv2 IP set the web ACL blocks; the GuardDuty response adds remote addresses to it."
  value       = aws_wafv2_ip_set.blocked.arn
}

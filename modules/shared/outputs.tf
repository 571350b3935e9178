output "kms_key_arn" {
  description = "ARN of the stack's customer-managed KMS key."
  value       = aws_kms_key.this.arn
}

output "kms_key_id" {
  description = "Key ID of the stack's customer-managed KMS key."
  value       = aws_kms_key.this.key_id
}

output "access_log_bucket_id" {
  description = "Name of the bucket receiving S3 server access logs of every other bucket."
  value       = module.access_logs.id

  # S3 refuses PutBucketLogging until the sink's policy admits the logging service: a bucket that is quick to
  # create must not race the policy (seen with the fleet stack, which has few other resources to wait for).
  depends_on = [module.access_logs]
}

output "alerts_topic_arn" {
  description = "ARN of the KMS-encrypted SNS topic for security alerts."
  value       = aws_sns_topic.alerts.arn
}

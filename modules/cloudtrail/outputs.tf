output "trail_arn" {
  description = "ARN of the multi-region trail."
  value       = aws_cloudtrail.this.arn
}

output "log_group_name" {
  description = "CloudWatch log group receiving the trail."
  value       = aws_cloudwatch_log_group.trail.name
}

output "normalizer_role_arn" {
  description = "Execution role of the cloudtrail_normalizer Lambda (an OpenSearch ingest role)."
  value       = module.normalizer.role_arn
}

output "bucket_id" {
  description = "Bucket holding the trail's log files."
  value       = module.bucket.id
}

output "delivery_topic_arn" {
  description = "KMS-encrypted SNS topic notified of each log file CloudTrail delivers."
  value       = aws_sns_topic.delivery.arn
}

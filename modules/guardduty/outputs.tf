output "detector_id" {
  description = "ID of the GuardDuty detector."
  value       = local.detector_id
}

output "normalizer_role_arn" {
  description = "Execution role of the guardduty_normalizer Lambda (an OpenSearch ingest role)."
  value       = module.normalizer.role_arn
}

output "findings_bucket_id" {
  description = "Bucket GuardDuty exports findings to."
  value       = module.bucket.id
}

output "report_bucket_id" {
  description = "Name of the report bucket (scan reports under <tool>/<repository>/<branch>/<build_id>/report.json)."
  value       = module.report_bucket.id
}

output "report_bucket_arn" {
  description = "ARN of the report bucket."
  value       = module.report_bucket.arn
}

output "importer_function_arn" {
  description = "ARN of the findings-importer Lambda."
  value       = module.importer.function_arn
}

output "importer_function_name" {
  description = "Name of the findings-importer Lambda."
  value       = module.importer.function_name
}

output "importer_role_arn" {
  description = "ARN of the findings-importer's execution role."
  value       = module.importer.role_arn
}

output "dlq_arn" {
  description = "ARN of the importer's dead-letter queue (failed asynchronous invocations)."
  value       = module.importer.dead_letter_queue_arn
}

output "instance_id" {
  description = "ID of the ZAP scanner instance (target of ssm:SendCommand)."
  value       = aws_instance.this.id
}

output "instance_arn" {
  description = "ARN of the ZAP scanner instance."
  value       = aws_instance.this.arn
}

output "ssm_document_name" {
  description = "Name of the SSM Command document that runs a scan and uploads the report."
  value       = aws_ssm_document.scan.name
}

output "ssm_document_arn" {
  description = "ARN of the scan document."
  value       = aws_ssm_document.scan.arn
}

output "security_group_id" {
  description = "Security group of the scanner host (egress only)."
  value       = aws_security_group.this.id
}

output "role_arn" {
  description = "ARN of the scanner host's IAM role."
  value       = aws_iam_role.this.arn
}

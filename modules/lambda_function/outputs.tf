output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "role_arn" {
  description = "ARN of the function's execution role (does not depend on the function or its extra policy)."
  value       = aws_iam_role.this.arn
}

output "security_group_id" {
  description = "Security group of the function's network interfaces."
  value       = aws_security_group.this.id
}

output "dead_letter_queue_arn" {
  description = "ARN of the function's dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

# Consumers (normalisers, the WAF Firehose) get the domain only once its content is applied, so the first
# documents meet the index templates and ISM policies instead of creating unmanaged indices.
output "domain_arn" {
  description = "ARN of the OpenSearch domain (available once the configurator has applied the content)."
  value       = aws_opensearch_domain.this.arn
  depends_on  = [aws_lambda_invocation.configure]
}

output "domain_endpoint" {
  description = "HTTPS endpoint of the domain (VPC-internal), with scheme (available once the content is applied)."
  value       = "https://${aws_opensearch_domain.this.endpoint}"
  depends_on  = [aws_lambda_invocation.configure]
}

output "domain_name" {
  description = "Name of the OpenSearch domain."
  value       = aws_opensearch_domain.this.domain_name
}

output "security_group_id" {
  description = "Security group of the domain."
  value       = aws_security_group.this.id
}

output "admin_role_arn" {
  description = "ARN of the fine-grained-access-control master role."
  value       = local.admin_role_arn
}

output "configurator_function_name" {
  description = "Lambda that applies (mode apply) or compares (mode compare, used by drift) the OpenSearch content."
  value       = module.configurator.function_name
}

output "alerts_publish_role_arn" {
  description = "Role OpenSearch assumes to publish monitor notifications to the alert topic."
  value       = aws_iam_role.alerts_publish.arn
}

output "configurator_event" {
  description = "The configurator's invocation event without mode and content (JSON; null when configure_domain is false): provision drift adds mode compare and the rendered content."
  value = var.configure_domain ? jsonencode({
    endpoint       = "https://${aws_opensearch_domain.this.endpoint}"
    admin_role_arn = local.admin_role_arn
    bindings       = local.bindings
  }) : null
}

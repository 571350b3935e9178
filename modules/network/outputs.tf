output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, in the order of private_subnet_cidrs."
  value       = aws_subnet.private[*].id
}

output "public_subnet_ids" {
  description = "IDs of the public (NAT) subnets; empty when egress_mode is endpoints_only."
  value       = aws_subnet.public[*].id
}

output "private_route_table_ids" {
  description = "IDs of the private route tables (one per private subnet)."
  value       = aws_route_table.private[*].id
}

output "endpoint_security_group_id" {
  description = "Security group of the interface VPC endpoints (HTTPS from the VPC CIDR)."
  value       = aws_security_group.endpoints.id
}

output "flow_log_group_name" {
  description = "CloudWatch Logs group receiving the VPC flow logs."
  value       = aws_cloudwatch_log_group.flow_logs.name
}

output "internet_egress" {
  description = "Whether private subnets have a route to the internet (egress_mode = nat)."
  value       = local.nat_count > 0
}

output "drift_role_arn" {
  description = "Role the fleet's drift builds assume in this account."
  value       = aws_iam_role.drift.arn
}

output "reap_role_arn" {
  description = "Role the fleet's reap builds assume in this account (empty without one)."
  value       = join("", aws_iam_role.reap[*].arn)
}

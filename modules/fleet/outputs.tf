output "state_machine_arn" {
  description = "ARN of the fleet state machine (start it with input {\"mode\": \"drift\"} or {\"mode\": \"reap\"})."
  value       = aws_sfn_state_machine.this.arn
}

output "results_bucket" {
  description = "Bucket holding fleet.json (the targets), runs/<run>/<environment>.json, latest.json and notified.json."
  value       = module.results.id
}

output "build_role_arn" {
  description = "Role of the fleet's builds: the principal each member account's fleet_member roles trust."
  value       = aws_iam_role.codebuild.arn
}

output "codebuild_project_name" {
  description = "CodeBuild project that runs one environment's drift or reap."
  value       = aws_codebuild_project.this.name
}

output "pipeline_name" {
  description = "Name of the CodePipeline."
  value       = aws_codepipeline.this.name
}

output "pipeline_arn" {
  description = "ARN of the CodePipeline."
  value       = aws_codepipeline.this.arn
}

output "artifact_bucket_id" {
  description = "Name of the KMS-encrypted artifact bucket."
  value       = module.artifacts.id
}

output "artifact_bucket_arn" {
  description = "ARN of the artifact bucket."
  value       = module.artifacts.arn
}

output "codebuild_project_names" {
  description = "CodeBuild project name per stage (build, sca, sast, dast and, when enabled, deploy)."
  value       = { for k, p in aws_codebuild_project.this : k => p.name }
}

output "codebuild_role_arns" {
  description = "IAM role ARN per CodeBuild project."
  value       = { for k, r in aws_iam_role.codebuild : k => r.arn }
}

output "pipeline_role_arn" {
  description = "ARN of the CodePipeline service role."
  value       = aws_iam_role.pipeline.arn
}

output "codebuild_security_group_id" {
  description = "Security group of the CodeBuild projects."
  value       = aws_security_group.codebuild.id
}

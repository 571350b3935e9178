variable "name_prefix" {
  description = "Prefix for every resource name (environment-specific)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.name_prefix))
    error_message = "The name_prefix must be 3-24 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "ARN of the KMS key for the artifact store, CodeBuild artifacts and the CodeBuild log groups."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "The kms_key_arn must be a full KMS key ARN."
  }
}

variable "access_log_bucket_id" {
  description = "Bucket receiving the artifact bucket's server access logs."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket_id))
    error_message = "The access_log_bucket_id must be an S3 bucket name."
  }
}

variable "vpc_id" {
  description = "VPC the CodeBuild projects run in."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "The vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the CodeBuild projects (need NAT for tool downloads and the NVD feed)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "The subnet_ids must hold at least one subnet ID (subnet-...)."
  }
}

variable "report_bucket_id" {
  description = "Name of the report bucket (findings module); each scan stage uploads <tool>/<repository>/<branch>/<build_id>/report.json."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.report_bucket_id))
    error_message = "The report_bucket_id must be an S3 bucket name."
  }
}

variable "report_bucket_arn" {
  description = "ARN of the report bucket."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.report_bucket_arn))
    error_message = "The report_bucket_arn must be an S3 bucket ARN."
  }
}

variable "zap_instance_id" {
  description = "ID of the ZAP scanner instance (zap_scanner module) the DAST stage sends its command to."
  type        = string

  validation {
    condition     = can(regex("^i-[0-9a-f]{8,17}$", var.zap_instance_id))
    error_message = "The zap_instance_id must be an EC2 instance ID (i-...)."
  }
}

variable "zap_document_name" {
  description = "Name of the zap_scanner module's SSM Command document."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,128}$", var.zap_document_name))
    error_message = "The zap_document_name must be an SSM document name."
  }
}

variable "source_provider" {
  description = "Where the source comes from: CodeCommit, or CodeStarSourceConnection (GitHub, GitLab, Bitbucket through a CodeConnections connection)."
  type        = string
  default     = "CodeStarSourceConnection"

  validation {
    condition     = contains(["CodeCommit", "CodeStarSourceConnection"], var.source_provider)
    error_message = "The source_provider must be CodeCommit or CodeStarSourceConnection."
  }
}

variable "repository" {
  description = "CodeCommit repository name, or owner/name of the repository behind the connection."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.repository))
    error_message = "The repository must be a repository name or owner/name."
  }
}

variable "branch" {
  description = "Branch the pipeline builds."
  type        = string
  default     = "main"

  validation {
    condition     = can(regex("^[A-Za-z0-9_./-]{1,200}$", var.branch)) && !can(regex("\\.\\.", var.branch))
    error_message = "The branch must be a git branch name (letters, digits, _ . / -)."
  }
}

variable "connection_arn" {
  description = "ARN of the CodeStar/CodeConnections connection; required when source_provider is CodeStarSourceConnection."
  type        = string
  default     = null

  validation {
    condition     = var.connection_arn == null || can(regex("^arn:aws[a-z-]*:(codestar-connections|codeconnections):[a-z0-9-]+:[0-9]{12}:connection/[0-9a-f-]+$", var.connection_arn))
    error_message = "The connection_arn must be null or a codestar-connections/codeconnections connection ARN."
  }
}

variable "fail_on_severity" {
  description = "Lowest severity that fails a scan stage: critical (CVSS >= 9), high (>= 7), medium (>= 4) or low (> 0). ZAP has no critical level: critical and high both fail on High alerts."
  type        = string
  default     = "high"

  validation {
    condition     = contains(["critical", "high", "medium", "low"], var.fail_on_severity)
    error_message = "The fail_on_severity must be critical, high, medium or low."
  }
}

variable "sonar_host_url" {
  description = "Base URL of the SonarQube server (https only)."
  type        = string

  validation {
    condition     = can(regex("^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$", var.sonar_host_url))
    error_message = "The sonar_host_url must be an https URL (the SonarQube token travels with every request)."
  }
}

variable "sonar_project_key" {
  description = "SonarQube project key."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.:-]{1,400}$", var.sonar_project_key))
    error_message = "The sonar_project_key may contain letters, digits, _ . : and -."
  }
}

variable "sonar_token_parameter_name" {
  description = "Name of the SSM Parameter Store SecureString holding the SonarQube token (read by CodeBuild, never stored in Terraform)."
  type        = string

  validation {
    condition     = can(regex("^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.sonar_token_parameter_name))
    error_message = "The sonar_token_parameter_name must be an SSM parameter name such as /ci/sonar-token."
  }
}

variable "sonar_scanner_version" {
  description = "sonar-scanner-cli release the SAST stage downloads."
  type        = string
  default     = "7.1.0.4889"

  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]+){2,3}$", var.sonar_scanner_version))
    error_message = "The sonar_scanner_version must be a release number such as 7.1.0.4889."
  }
}

variable "dependency_check_version" {
  description = "OWASP Dependency-Check release the SCA stage downloads."
  type        = string
  default     = "12.1.0"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.dependency_check_version))
    error_message = "The dependency_check_version must be a release number such as 12.1.0."
  }
}

variable "nvd_api_key_parameter_name" {
  description = "Optional SSM SecureString with an NVD API key (speeds up the vulnerability feed download a lot)."
  type        = string
  default     = null

  validation {
    condition     = var.nvd_api_key_parameter_name == null || can(regex("^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.nvd_api_key_parameter_name))
    error_message = "The nvd_api_key_parameter_name must be null or an SSM parameter name."
  }
}

variable "dast_target_url" {
  description = "URL of the deployed application the DAST stage scans (must match the scan document's pattern)."
  type        = string

  validation {
    condition     = can(regex("^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/%+=&?-]*)?$", var.dast_target_url))
    error_message = "The dast_target_url must be an http(s) URL without quotes, spaces or shell characters."
  }
}

variable "dast_scan_mode" {
  description = "ZAP scan mode: baseline (spider + passive rules) or full (adds the active scan)."
  type        = string
  default     = "baseline"

  validation {
    condition     = contains(["baseline", "full"], var.dast_scan_mode)
    error_message = "The dast_scan_mode must be baseline or full."
  }
}

variable "dast_timeout_minutes" {
  description = "How long the DAST stage waits for the scan command to reach a terminal status."
  type        = number
  default     = 75

  validation {
    condition     = var.dast_timeout_minutes >= 10 && var.dast_timeout_minutes <= 465 && floor(var.dast_timeout_minutes) == var.dast_timeout_minutes
    error_message = "The dast_timeout_minutes must be a whole number between 10 and 465."
  }
}

variable "build_buildspec" {
  description = "Path of the application's own buildspec in the repository (Build stage)."
  type        = string
  default     = "buildspec.yml"

  validation {
    condition     = can(regex("^[A-Za-z0-9_./-]+\\.ya?ml$", var.build_buildspec))
    error_message = "The build_buildspec must be a relative path to a .yml/.yaml file."
  }
}

variable "build_privileged_mode" {
  description = "Run the Build stage in privileged mode (only for Docker image builds)."
  type        = bool
  default     = false
}

variable "codebuild_image" {
  description = "CodeBuild image of every project."
  type        = string
  default     = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
}

variable "codebuild_egress_ports" {
  description = "TCP ports the CodeBuild projects may reach (HTTPS for AWS APIs and tool downloads; add SonarQube's port if it differs)."
  type        = list(number)
  default     = [443]

  validation {
    condition     = length(var.codebuild_egress_ports) >= 1 && alltrue([for p in var.codebuild_egress_ports : p >= 1 && p <= 65535 && floor(p) == p])
    error_message = "The codebuild_egress_ports must be TCP port numbers between 1 and 65535."
  }
}

variable "require_manual_approval" {
  description = "Insert a manual approval stage after DAST."
  type        = bool
  default     = false
}

variable "approval_topic_arn" {
  description = "SNS topic notified when an approval is pending (e.g. shared.alerts_topic_arn); null for none."
  type        = string
  default     = null

  validation {
    condition     = var.approval_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.approval_topic_arn))
    error_message = "The approval_topic_arn must be null or an SNS topic ARN."
  }
}

variable "deploy_enabled" {
  description = "Add a Deploy stage running the repository's deploy buildspec on the Build output."
  type        = bool
  default     = false
}

variable "deploy_buildspec" {
  description = "Path of the deploy buildspec in the repository."
  type        = string
  default     = "buildspec-deploy.yml"

  validation {
    condition     = can(regex("^[A-Za-z0-9_./-]+\\.ya?ml$", var.deploy_buildspec))
    error_message = "The deploy_buildspec must be a relative path to a .yml/.yaml file."
  }
}

variable "deploy_policy_json" {
  description = "IAM policy document (JSON) with exactly what the Deploy stage needs; null grants nothing beyond logs and artifacts."
  type        = string
  default     = null

  validation {
    condition     = var.deploy_policy_json == null || can(jsondecode(var.deploy_policy_json).Statement)
    error_message = "The deploy_policy_json must be a JSON policy document with a Statement list."
  }
}

variable "log_retention_days" {
  description = "Days CodeBuild logs are kept (audit logs: at least 365)."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a CloudWatch Logs retention value of at least 365."
  }
}

variable "artifact_retention_days" {
  description = "Days pipeline artifacts are kept."
  type        = number
  default     = 90

  validation {
    condition     = var.artifact_retention_days >= 1 && floor(var.artifact_retention_days) == var.artifact_retention_days
    error_message = "The artifact_retention_days must be a whole number >= 1."
  }
}

variable "force_destroy" {
  description = "Allow destroying the artifact bucket while it still holds objects (ephemeral environments only)."
  type        = bool
  default     = false
}

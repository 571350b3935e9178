variable "name_prefix" {
  description = "Prefix for every resource name; used in every resource name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,23}$", var.name_prefix))
    error_message = "The name_prefix must be 2-24 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "Stack KMS key (results bucket, logs, Lambda environment, state machine, schedules)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "The kms_key_arn must be a full KMS key ARN."
  }
}

variable "access_log_bucket_id" {
  description = "Bucket receiving the results bucket's server access logs (wiring shared.access_log_bucket_id)."
  type        = string
}

variable "alerts_topic_arn" {
  description = "SNS topic told when the fleet's drift changes (new, different, resolved); silent otherwise."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the aggregation Lambda."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the aggregation Lambda (it reaches S3 and SNS through VPC endpoints or NAT)."
  type        = list(string)
}

variable "targets" {
  description = "The fleet: one entry per environment, as `provision envs --format github-matrix` prints (`name` is what `provision drift --env` takes, `role` the role its build assumes)."
  type = list(object({
    name = string
    role = string
  }))

  validation {
    condition     = alltrue([for t in var.targets : can(regex("^[a-z][a-z0-9-]*$", t.name)) && can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", t.role))])
    error_message = "Each target needs a name (an environment or workspace id) and a role ARN."
  }
}

variable "package" {
  description = "Package of the fleet_aggregator Lambda, built by provision (wiring lambda.fleet_aggregator)."
  type = object({
    filename         = string
    source_code_hash = string
    handler          = string
  })
}

variable "source_type" {
  description = "Where CodeBuild gets the project repository (environments/ and modules/): CODECOMMIT, GITHUB, GITHUB_ENTERPRISE, BITBUCKET or S3."
  type        = string
  default     = "CODECOMMIT"

  validation {
    condition     = contains(["CODECOMMIT", "GITHUB", "GITHUB_ENTERPRISE", "BITBUCKET", "S3"], var.source_type)
    error_message = "The source_type must be CODECOMMIT, GITHUB, GITHUB_ENTERPRISE, BITBUCKET or S3."
  }
}

variable "source_location" {
  description = "The project repository's clone URL (or bucket/key for S3)."
  type        = string
}

variable "buildspec" {
  description = "Buildspec path in the repository; it runs `provision drift` (or `reap`) for FLEET_TARGET with FLEET_ROLE_ARN and writes the report to FLEET_RESULT_URI."
  type        = string
  default     = "ci/codebuild/fleet-buildspec.yml"
}

variable "build_image" {
  description = "CodeBuild managed image (Python 3.11+ and make; `make install` installs provision with pip)."
  type        = string
  default     = "aws/codebuild/standard:7.0"
}

variable "build_timeout_minutes" {
  description = "Timeout of one environment's build."
  type        = number
  default     = 30
}

variable "max_concurrency" {
  description = "Builds running at once (the Distributed Map's MaxConcurrency); mind the account's CodeBuild concurrency quota."
  type        = number
  default     = 20

  validation {
    condition     = var.max_concurrency >= 1 && var.max_concurrency <= 1000
    error_message = "The max_concurrency must be between 1 and 1000."
  }
}

variable "tolerated_failure_percentage" {
  description = "Failed builds (in percent) the run tolerates before it stops starting more; failed ones are reported as errors either way."
  type        = number
  default     = 10

  validation {
    condition     = var.tolerated_failure_percentage >= 0 && var.tolerated_failure_percentage <= 100
    error_message = "The tolerated_failure_percentage must be between 0 and 100."
  }
}

variable "drift_schedule" {
  description = "EventBridge Scheduler expression of the nightly drift run."
  type        = string
  default     = "cron(41 5 * * ? *)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.drift_schedule))
    error_message = "The drift_schedule must be a rate(...) or cron(...) expression."
  }
}

variable "reap_schedule" {
  description = "EventBridge Scheduler expression of the reap run (tears down expired ephemeral instances); empty = no reap schedule."
  type        = string
  default     = "rate(1 hour)"

  validation {
    condition     = var.reap_schedule == "" || can(regex("^(rate|cron)\\(.+\\)$", var.reap_schedule))
    error_message = "The reap_schedule must be empty or a rate(...) or cron(...) expression."
  }
}

variable "member_role_name" {
  description = "Name of the drift role in each member account (modules/fleet_member); the builds may assume only roles of these names."
  type        = string
  default     = "devsecops-fleet-drift"
}

variable "reap_role_name" {
  description = "Name of the reap role in each member account (modules/fleet_member, destroy rights on ephemeral instances only)."
  type        = string
  default     = "devsecops-fleet-reap"
}

variable "log_retention_days" {
  description = "Retention of the builds', state machine's and Lambda's log groups."
  type        = number
  default     = 365
}

variable "force_destroy" {
  description = "Allow Terraform to delete the results bucket while it still holds reports."
  type        = bool
  default     = false
}

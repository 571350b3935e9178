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
  description = "ARN of the KMS key encrypting the report bucket, the importer's log group and its DLQ."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "The kms_key_arn must be a full KMS key ARN."
  }
}

variable "access_log_bucket_id" {
  description = "Bucket receiving the report bucket's server access logs."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket_id))
    error_message = "The access_log_bucket_id must be an S3 bucket name."
  }
}

variable "vpc_id" {
  description = "VPC the importer Lambda runs in."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "The vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the importer Lambda (need a route to S3 and Security Hub: NAT or VPC endpoints)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "The subnet_ids must hold at least one subnet ID (subnet-...)."
  }
}

variable "importer_package" {
  description = "The findings_importer Lambda package built by provision (wiring: lambda.findings_importer)."
  type = object({
    filename         = string
    source_code_hash = string
    handler          = string
  })
}

variable "manage_security_hub" {
  description = "Enable Security Hub in this account and region (false when it is already enabled, e.g. by an organization admin)."
  type        = bool
  default     = true
}

variable "enable_foundational_standard" {
  description = "Subscribe to the AWS Foundational Security Best Practices standard."
  type        = bool
  default     = false
}

variable "report_retention_days" {
  description = "Days scan reports are kept in the report bucket."
  type        = number
  default     = 365

  validation {
    condition     = var.report_retention_days >= 30 && floor(var.report_retention_days) == var.report_retention_days
    error_message = "The report_retention_days must be a whole number of at least 30."
  }
}

variable "log_retention_days" {
  description = "Days the importer's CloudWatch logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a CloudWatch Logs retention value of at least 365."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions of the importer (caps Security Hub API pressure)."
  type        = number
  default     = 5

  validation {
    condition     = var.reserved_concurrency >= 1 && var.reserved_concurrency <= 100 && floor(var.reserved_concurrency) == var.reserved_concurrency
    error_message = "The reserved_concurrency must be a whole number between 1 and 100."
  }
}

variable "timeout_seconds" {
  description = "Importer timeout in seconds."
  type        = number
  default     = 120

  validation {
    condition     = var.timeout_seconds >= 10 && var.timeout_seconds <= 900
    error_message = "The timeout_seconds must be between 10 and 900."
  }
}

variable "force_destroy" {
  description = "Allow destroying the report bucket while it still holds reports (ephemeral environments only)."
  type        = bool
  default     = false
}

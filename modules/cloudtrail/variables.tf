variable "name_prefix" {
  description = "Prefix for every resource name; the trail is named <name_prefix>-trail."
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

variable "vpc_cidr" {
  description = "CIDR of the VPC; the normaliser may reach OpenSearch inside it on 443."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the normaliser Lambda."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the normaliser Lambda."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "Stack KMS key (trail logs, bucket, log group, Lambda)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "The kms_key_arn must be a full KMS key ARN."
  }
}

variable "access_log_bucket_id" {
  description = "Bucket receiving the trail bucket's server access logs."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the CloudTrail CloudWatch log group (audit log: at least 365)."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a CloudWatch Logs retention value of at least 365."
  }
}

variable "bucket_retention_days" {
  description = "Days trail log files are kept in S3 (audit log: at least 365)."
  type        = number
  default     = 731

  validation {
    condition     = var.bucket_retention_days >= 365
    error_message = "The bucket_retention_days must be at least 365."
  }
}

variable "force_destroy" {
  description = "Allow destroying the trail bucket with its logs (ephemeral environments only)."
  type        = bool
  default     = false
}

variable "normalizer_package" {
  description = "Package of the cloudtrail_normalizer Lambda, built by provision (wiring lambda.cloudtrail_normalizer)."
  type = object({
    filename         = string
    source_code_hash = string
    handler          = string
  })
}

variable "opensearch_endpoint" {
  description = "OpenSearch endpoint with scheme (https://...), from the opensearch module."
  type        = string

  validation {
    condition     = can(regex("^https://", var.opensearch_endpoint))
    error_message = "The opensearch_endpoint must start with https://."
  }
}

variable "opensearch_domain_arn" {
  description = "ARN of the OpenSearch domain the normaliser writes to."
  type        = string
}

variable "index_prefix" {
  description = "Prefix of the daily indices the normaliser writes, <index_prefix>-cloudtrail-YYYY.MM.DD (the opensearch module's ingest_index_patterns, templates and monitors expect logs)."
  type        = string
  default     = "logs"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]*$", var.index_prefix))
    error_message = "The index_prefix must be a lowercase index name."
  }
}

variable "normalizer_log_retention_days" {
  description = "Retention of the normaliser Lambda's log group."
  type        = number
  default     = 365
}

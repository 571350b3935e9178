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

variable "access_log_bucket_id" {
  description = "Bucket receiving the findings bucket's server access logs."
  type        = string
}

variable "force_destroy" {
  description = "Allow destroying the findings bucket with its objects (ephemeral environments only)."
  type        = bool
  default     = false
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

variable "normalizer_log_retention_days" {
  description = "Retention of the normaliser Lambda's log group."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "Stack KMS key (published findings, Lambda, log group)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "The kms_key_arn must be a full KMS key ARN."
  }
}

variable "alerts_topic_arn" {
  description = "SNS alert topic (from shared) receiving findings of severity >= alert_min_severity."
  type        = string
}

variable "alert_min_severity" {
  description = "Lowest GuardDuty severity sent to the alert topic (7 = high)."
  type        = number
  default     = 7

  validation {
    condition     = var.alert_min_severity >= 1 && var.alert_min_severity <= 10
    error_message = "The alert_min_severity must be between 1 and 10."
  }
}

variable "existing_detector_id" {
  description = "Use this account's existing GuardDuty detector instead of creating one (one detector per region)."
  type        = string
  default     = null
}

variable "finding_publishing_frequency" {
  description = "How often updated findings are exported."
  type        = string
  default     = "FIFTEEN_MINUTES"

  validation {
    condition     = contains(["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"], var.finding_publishing_frequency)
    error_message = "The finding_publishing_frequency must be FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS."
  }
}

variable "features" {
  description = "Detector features to enable (S3 protection and EBS malware protection by default)."
  type        = list(string)
  default     = ["S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION"]

  validation {
    condition = alltrue([for f in var.features : contains([
      "S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS",
      "EKS_RUNTIME_MONITORING", "LAMBDA_NETWORK_LOGS", "RUNTIME_MONITORING",
    ], f)])
    error_message = "Unknown GuardDuty feature name."
  }
}

variable "trusted_ip_set_location" {
  description = "S3 URL of a trusted-IP list (TXT format); empty = none."
  type        = string
  default     = ""

  validation {
    condition     = var.trusted_ip_set_location == "" || can(regex("^(s3://|https://s3[.-])", var.trusted_ip_set_location))
    error_message = "The trusted_ip_set_location must be an s3:// or https://s3... URL."
  }
}

variable "threat_intel_set_locations" {
  description = "S3 URLs of threat-intelligence lists (TXT format), at most 6."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.threat_intel_set_locations) <= 6 && alltrue([for l in var.threat_intel_set_locations : can(regex("^(s3://|https://s3[.-])", l))])
    error_message = "At most 6 threat_intel_set_locations, each an s3:// or https://s3... URL."
  }
}

variable "trusted_ip_list_file" {
  description = "Trusted-IP list in the repository (path from the project root, one IPv4 address or CIDR per line); uploaded and activated. Empty = none."
  type        = string
  default     = ""

  validation {
    condition     = var.trusted_ip_list_file == "" || can(regex("^[A-Za-z0-9_][A-Za-z0-9_./-]*$", var.trusted_ip_list_file))
    error_message = "The trusted_ip_list_file must be a relative path inside the project."
  }
}

variable "threat_ip_list_files" {
  description = "Threat lists in the repository (paths from the project root, one IPv4 address or CIDR per line); uploaded and activated. With threat_intel_set_locations at most 6."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.threat_ip_list_files) <= 6 && alltrue([for f in var.threat_ip_list_files : can(regex("^[A-Za-z0-9_][A-Za-z0-9_./-]*$", f))])
    error_message = "At most 6 threat_ip_list_files, each a relative path inside the project."
  }
}

variable "findings_retention_days" {
  description = "Days exported findings are kept in S3."
  type        = number
  default     = 365

  validation {
    condition     = var.findings_retention_days >= 365
    error_message = "The findings_retention_days must be at least 365."
  }
}

variable "normalizer_package" {
  description = "Package of the guardduty_normalizer Lambda, built by provision (wiring lambda.guardduty_normalizer)."
  type = object({
    filename         = string
    source_code_hash = string
    handler          = string
  })
}

variable "index_prefix" {
  description = "Prefix of the daily indices the normaliser writes, <index_prefix>-guardduty-YYYY.MM.DD (the opensearch module's ingest_index_patterns, templates and monitors expect logs)."
  type        = string
  default     = "logs"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]*$", var.index_prefix))
    error_message = "The index_prefix must be a lowercase index name."
  }
}

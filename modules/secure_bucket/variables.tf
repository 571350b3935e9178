variable "name" {
  description = "Globally unique bucket name."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name))
    error_message = "The bucket name must be 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key used for default encryption (SSE-KMS, bucket key on)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "The kms_key_arn must be a full KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "access_log_bucket_id" {
  description = "Bucket receiving this bucket's server access logs (ignored when is_access_log_bucket is true)."
  type        = string
  default     = null
}

variable "is_access_log_bucket" {
  description = "This bucket IS the access-log bucket: no logging target, SSE-S3 encryption (S3 log delivery cannot write SSE-KMS) and a policy admitting the S3 logging service for this account."
  type        = bool
  default     = false
}

variable "force_destroy" {
  description = "Allow Terraform to delete the bucket while it still holds objects (for short-lived environments)."
  type        = bool
  default     = false
}

variable "policy_statements_json" {
  description = "Extra bucket policy statements as a JSON policy document; merged with the TLS-only deny."
  type        = string
  default     = null

  validation {
    condition     = var.policy_statements_json == null || can(jsondecode(var.policy_statements_json).Statement)
    error_message = "The policy_statements_json must be a JSON policy document with a Statement list."
  }
}

variable "expiration_days" {
  description = "Expire current object versions after this many days (null keeps them)."
  type        = number
  default     = null

  validation {
    condition     = var.expiration_days == null || try(var.expiration_days >= 1 && floor(var.expiration_days) == var.expiration_days, false)
    error_message = "The expiration_days must be null or a whole number >= 1."
  }
}

variable "noncurrent_expiration_days" {
  description = "Delete noncurrent object versions after this many days."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_expiration_days >= 1 && floor(var.noncurrent_expiration_days) == var.noncurrent_expiration_days
    error_message = "The noncurrent_expiration_days must be a whole number >= 1."
  }
}

variable "tags" {
  description = "Tags applied to the bucket."
  type        = map(string)
  default     = {}
}

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

variable "vpc_id" {
  description = "VPC of the response Lambda's network interfaces."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the response Lambda (it calls AWS APIs through the NAT gateway or VPC endpoints)."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "Stack KMS key (Lambda environment, log group, dead-letter queue; the alert topic is encrypted with it)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "The kms_key_arn must be a full KMS key ARN."
  }
}

variable "alerts_topic_arn" {
  description = "SNS alert topic that receives one message per response (what was done and how to undo it)."
  type        = string
}

variable "detector_id" {
  description = "GuardDuty detector whose findings get a feedback note (wiring guardduty.detector_id)."
  type        = string
}

variable "quarantine_vpc_ids" {
  description = "VPCs to manage a quarantine security group (no rules) in; instances elsewhere cannot be isolated."
  type        = list(string)

  validation {
    condition     = length(var.quarantine_vpc_ids) > 0 && alltrue([for v in var.quarantine_vpc_ids : can(regex("^vpc-[0-9a-f]+$", v))])
    error_message = "The quarantine_vpc_ids must name at least one VPC (vpc-...)."
  }
}

variable "blocked_ip_set_arn" {
  description = "WAFv2 IP set the stack's web ACL blocks (wiring waf.blocked_ip_set_arn); empty = block_remote_ip unavailable."
  type        = string
  default     = ""

  validation {
    condition     = var.blocked_ip_set_arn == "" || can(regex("^arn:[a-z-]+:wafv2:[a-z0-9-]+:[0-9]{12}:(regional|global)/ipset/[A-Za-z0-9_-]+/[a-f0-9-]+$", var.blocked_ip_set_arn))
    error_message = "The blocked_ip_set_arn must be a WAFv2 IP set ARN or empty."
  }
}

variable "policy" {
  description = "Response policy (dry_run, exempt_tag{key,value,protected}, exempt_instances, revocable_roles, notify, actions.<name>.enabled/min_severity); validated by provision when the spec loads, defaults in provisioner/functions/response/policy.py."
  type        = any
  default     = {}
}

variable "sweep_schedule" {
  description = "EventBridge schedule of the sweep that removes expired WAF blocks."
  type        = string
  default     = "rate(1 hour)"

  validation {
    condition     = can(regex("^(rate|cron)\\(.+\\)$", var.sweep_schedule))
    error_message = "The sweep_schedule must be an EventBridge rate(...) or cron(...) expression."
  }
}

variable "package" {
  description = "Package of the guardduty_response Lambda, built by provision (wiring lambda.guardduty_response)."
  type = object({
    filename         = string
    source_code_hash = string
    handler          = string
  })
}

variable "log_retention_days" {
  description = "Retention of the response Lambda's log group (the log is part of the response record)."
  type        = number
  default     = 731
}

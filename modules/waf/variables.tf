variable "name_prefix" {
  description = "Prefix for every resource name."
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
  description = "CIDR of the VPC; Firehose reaches OpenSearch inside it on 443."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the Firehose delivery (and the normaliser Lambda)."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for Firehose and the normaliser Lambda."
  type        = list(string)
}

variable "force_destroy" {
  description = "Allow destroying the WAF log backup bucket with its objects (ephemeral environments only)."
  type        = bool
  default     = false
}

variable "opensearch_domain_arn" {
  description = "ARN of the OpenSearch domain Firehose delivers to."
  type        = string
}

variable "normalizer_log_retention_days" {
  description = "Retention of the waf_normalizer Lambda's log group."
  type        = number
  default     = 365
}

variable "opensearch_security_group_id" {
  description = "Security group of the OpenSearch domain; Firehose delivers through it (members reach each other on 443)."
  type        = string
}

variable "kms_key_arn" {
  description = "Stack KMS key (Firehose, backup bucket, log group, Lambda)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "The kms_key_arn must be a full KMS key ARN."
  }
}

variable "access_log_bucket_id" {
  description = "Bucket receiving the backup bucket's server access logs."
  type        = string
}

variable "scope" {
  description = "REGIONAL (ALB, API Gateway) or CLOUDFRONT (then the stack region must be us-east-1)."
  type        = string
  default     = "REGIONAL"

  validation {
    condition     = contains(["REGIONAL", "CLOUDFRONT"], var.scope)
    error_message = "The scope must be REGIONAL or CLOUDFRONT."
  }
}

# WCU per AWS managed rule group (AWS WAF developer guide); a web ACL may use 1500 WCU without extra charges.
variable "managed_rule_groups" {
  description = "AWS managed rule groups, evaluated in this order after the rate-based rule. Total WCU (see README) plus 3 for the rate rule and the response block list must stay <= 1500."
  type        = list(string)
  default = [
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesLinuxRuleSet",
    "AWSManagedRulesAdminProtectionRuleSet",
  ]

  validation {
    condition = alltrue([for g in var.managed_rule_groups : contains(keys({
      AWSManagedRulesCommonRuleSet          = 700, AWSManagedRulesSQLiRuleSet = 200, AWSManagedRulesKnownBadInputsRuleSet = 200,
      AWSManagedRulesAmazonIpReputationList = 25, AWSManagedRulesAnonymousIpList = 50, AWSManagedRulesLinuxRuleSet = 200,
      AWSManagedRulesUnixRuleSet            = 100, AWSManagedRulesPHPRuleSet = 100, AWSManagedRulesWordPressRuleSet = 100,
      AWSManagedRulesAdminProtectionRuleSet = 100, AWSManagedRulesWindowsRuleSet = 200,
    }), g)])
    error_message = "Unknown managed rule group: use one of the groups listed in the module README (their WCU is known)."
  }

  validation {
    condition = 3 + sum(concat([0], [for g in var.managed_rule_groups : lookup({
      AWSManagedRulesCommonRuleSet          = 700, AWSManagedRulesSQLiRuleSet = 200, AWSManagedRulesKnownBadInputsRuleSet = 200,
      AWSManagedRulesAmazonIpReputationList = 25, AWSManagedRulesAnonymousIpList = 50, AWSManagedRulesLinuxRuleSet = 200,
      AWSManagedRulesUnixRuleSet            = 100, AWSManagedRulesPHPRuleSet = 100, AWSManagedRulesWordPressRuleSet = 100,
      AWSManagedRulesAdminProtectionRuleSet = 100, AWSManagedRulesWindowsRuleSet = 200,
    }, g, 0)])) <= 1500
    error_message = "The managed rule groups exceed the 1500 WCU web ACL capacity (3 WCU are used by the rate-based rule and the response block list); see the WCU table in the README."
  }

  validation {
    condition     = length(distinct(var.managed_rule_groups)) == length(var.managed_rule_groups)
    error_message = "Each managed rule group may appear once."
  }
}

variable "rate_limit" {
  description = "Requests per client IP per 5 minutes before the rate-based rule blocks."
  type        = number
  default     = 2000

  validation {
    condition     = var.rate_limit >= 100 && var.rate_limit <= 2000000000
    error_message = "The rate_limit must be between 100 and 2,000,000,000."
  }
}

variable "alb_arn" {
  description = "Application Load Balancer to protect (REGIONAL scope only); null = no association."
  type        = string
  default     = null

  validation {
    condition     = var.alb_arn == null || can(regex("^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:loadbalancer/app/", var.alb_arn))
    error_message = "The alb_arn must be an Application Load Balancer ARN."
  }
}

variable "index_name" {
  description = "OpenSearch index Firehose writes to, rotated daily as <index_name>-YYYY-MM-DD (must match an ingest_index_patterns entry of the opensearch module)."
  type        = string
  default     = "logs-waf"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]*$", var.index_name))
    error_message = "The index_name must be a lowercase index name."
  }
}

variable "s3_backup_mode" {
  description = "Which records Firehose also writes to the S3 backup bucket."
  type        = string
  default     = "AllDocuments"

  validation {
    condition     = contains(["AllDocuments", "FailedDocumentsOnly"], var.s3_backup_mode)
    error_message = "The s3_backup_mode must be AllDocuments or FailedDocumentsOnly."
  }
}

variable "backup_retention_days" {
  description = "Days WAF log backups are kept in S3."
  type        = number
  default     = 365

  validation {
    condition     = var.backup_retention_days >= 365
    error_message = "The backup_retention_days must be at least 365."
  }
}

variable "log_retention_days" {
  description = "Retention of the Firehose delivery-error log group."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a CloudWatch Logs retention value of at least 365."
  }
}

variable "normalizer_package" {
  description = "Package of the waf_normalizer Lambda, built by provision (wiring lambda.waf_normalizer)."
  type = object({
    filename         = string
    source_code_hash = string
    handler          = string
  })
}

variable "redact_query_parameters" {
  description = "Query-string parameter names whose values the normaliser redacts, in addition to its built-in list (token, password, secret, api_key, access_token, ...: provisioner/functions/logs/waf.py)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.redact_query_parameters : can(regex("^[A-Za-z0-9_.~-]{1,128}$", name))])
    error_message = "Each redact_query_parameters entry must be a query parameter name (letters, digits, _ . ~ -)."
  }
}

variable "name_prefix" {
  description = "Prefix for every resource name; the domain is named <name_prefix>-os."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,23}$", var.name_prefix))
    error_message = "The name_prefix must be 2-24 lowercase letters, digits or hyphens, starting with a letter (domain names are limited to 28 characters)."
  }
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}

variable "vpc_cidr" {
  description = "CIDR of the VPC; clients in it may reach the domain on 443."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && var.vpc_cidr != "0.0.0.0/0"
    error_message = "The vpc_cidr must be a valid IPv4 CIDR block narrower than 0.0.0.0/0."
  }
}

variable "vpc_id" {
  description = "VPC the domain is placed in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (one per availability zone used; the first one without zone awareness)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "At least one private subnet is required."
  }
}

variable "allow_vpc_cidr" {
  description = "Allow HTTPS from the whole VPC CIDR. Set false to admit only allowed_security_group_ids."
  type        = bool
  default     = true
}

variable "allowed_security_group_ids" {
  description = "Security groups whose members may reach the domain on 443."
  type        = list(string)
  default     = []
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for encryption at rest and the log groups."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "The kms_key_arn must be a full KMS key ARN."
  }
}

variable "admin_role_arn" {
  description = "IAM role that becomes the fine-grained-access-control master user. null creates a role <name_prefix>-opensearch-admin that principals of this account with sts:AssumeRole on it can use."
  type        = string
  default     = null

  validation {
    condition     = var.admin_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.admin_role_arn))
    error_message = "The admin_role_arn must be an IAM role ARN."
  }
}

variable "ingest_role_arns" {
  description = "Roles that write documents (normaliser Lambdas, the WAF Firehose role)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.ingest_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", a))])
    error_message = "Every ingest_role_arns entry must be an IAM role ARN."
  }
}

variable "ingest_index_patterns" {
  description = "Index name patterns the ingest roles may write to (the normalisers' INDEX_PREFIX values and the WAF Firehose index)."
  type        = list(string)
  default     = ["logs-cloudtrail-*", "logs-guardduty-*", "logs-waf-*"]

  validation {
    condition     = length(var.ingest_index_patterns) > 0 && alltrue([for p in var.ingest_index_patterns : can(regex("^[a-z0-9][a-z0-9_.-]*\\*?$", p))])
    error_message = "Each ingest_index_patterns entry must be a lowercase index name, optionally ending in *."
  }
}

variable "engine_version" {
  description = "OpenSearch engine version."
  type        = string
  default     = "OpenSearch_2.19"

  validation {
    condition     = can(regex("^OpenSearch_[0-9]+\\.[0-9]+$", var.engine_version))
    error_message = "The engine_version must look like OpenSearch_2.19."
  }
}

variable "instance_type" {
  description = "Data node instance type."
  type        = string
  default     = "t3.medium.search"

  validation {
    condition     = can(regex("\\.search$", var.instance_type)) && !can(regex("^t2\\.", var.instance_type))
    error_message = "The instance_type must be an OpenSearch type (*.search); t2 types lack encryption at rest."
  }
}

variable "instance_count" {
  description = "Number of data nodes (even when zone_awareness is on)."
  type        = number
  default     = 2

  validation {
    condition     = var.instance_count >= 1 && floor(var.instance_count) == var.instance_count
    error_message = "The instance_count must be a whole number >= 1."
  }
}

variable "zone_awareness" {
  description = "Spread data nodes over availability_zone_count zones (needs an even instance_count)."
  type        = bool
  default     = false
}

variable "availability_zone_count" {
  description = "Zones used with zone awareness (2 or 3); needs that many subnet_ids."
  type        = number
  default     = 2

  validation {
    condition     = contains([2, 3], var.availability_zone_count)
    error_message = "The availability_zone_count must be 2 or 3."
  }
}

variable "dedicated_master_enabled" {
  description = "Run dedicated master nodes."
  type        = bool
  default     = false
}

variable "dedicated_master_type" {
  description = "Instance type of the dedicated masters."
  type        = string
  default     = "m6g.large.search"
}

variable "dedicated_master_count" {
  description = "Number of dedicated master nodes (3 or 5)."
  type        = number
  default     = 3

  validation {
    condition     = contains([3, 5], var.dedicated_master_count)
    error_message = "The dedicated_master_count must be 3 or 5."
  }
}

variable "ebs_volume_size" {
  description = "EBS volume size per data node, GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.ebs_volume_size >= 10
    error_message = "The ebs_volume_size must be at least 10 GiB."
  }
}

variable "log_retention_days" {
  description = "Retention of the domain's CloudWatch log groups (audit logs included)."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a CloudWatch Logs retention value of at least 365 (audit logs)."
  }
}

variable "tls_security_policy" {
  description = "TLS policy of the HTTPS endpoint."
  type        = string
  default     = "Policy-Min-TLS-1-2-PFS-2023-10"

  validation {
    condition     = contains(["Policy-Min-TLS-1-2-PFS-2023-10", "Policy-Min-TLS-1-2-RFC9151-FIPS-2024-08"], var.tls_security_policy)
    error_message = "The tls_security_policy must be a TLS 1.2+ policy with forward secrecy."
  }
}

# ---------------------------------------------------------------- content applied by the configurator Lambda

variable "configurator_package" {
  description = "Deployment package of the opensearch_configurator Lambda built by provision (wiring: lambda.opensearch_configurator)."
  type = object({
    filename         = string
    source_code_hash = string
    handler          = string
  })
}

variable "alerts_topic_arn" {
  description = "SNS topic every monitor notifies (through a Notifications channel and a role this module creates)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.alerts_topic_arn))
    error_message = "The alerts_topic_arn must be an SNS topic ARN."
  }
}

variable "analyst_role_arns" {
  description = "IAM roles given read-only access: the security_analyst OpenSearch role (read logs-*, Dashboards read-only) and es:ESHttpGet/Head/Post on the domain."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.analyst_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", a))])
    error_message = "Every analyst_role_arns entry must be an IAM role ARN."
  }
}

variable "index_retention" {
  description = "Per index family (cloudtrail, guardduty, waf): days an index stays writable (hot_days), then read-only until deleted at delete_days. provision builds the ISM policies from it."
  type = map(object({
    hot_days    = number
    delete_days = number
  }))
  default = {
    cloudtrail = { hot_days = 30, delete_days = 365 }
    guardduty  = { hot_days = 30, delete_days = 365 }
    waf        = { hot_days = 7, delete_days = 90 }
  }

  validation {
    condition = alltrue([for f in ["cloudtrail", "guardduty", "waf"] : contains(keys(var.index_retention), f)]) && alltrue([
      for r in values(var.index_retention) : r.hot_days >= 1 && r.hot_days < r.delete_days && floor(r.hot_days) == r.hot_days && floor(r.delete_days) == r.delete_days
    ])
    error_message = "The index_retention needs cloudtrail, guardduty and waf entries, each with whole days 1 <= hot_days < delete_days."
  }
}

variable "configure_domain" {
  description = "Invoke the configurator Lambda during apply. Set false only where Lambdas cannot run: the content is then not applied."
  type        = bool
  default     = true
}

variable "content_file" {
  description = "Content file the configurator applies; null = build/opensearch-content.json in the root module, written by `provision render`."
  type        = string
  default     = null
}

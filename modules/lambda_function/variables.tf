variable "function_name" {
  description = "Lambda function name (also names its role, queue, security group and log group)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.function_name))
    error_message = "The function_name must be 1-56 letters, digits, hyphens or underscores (room for the -dlq suffix)."
  }
}

variable "description" {
  description = "What the function does."
  type        = string
}

variable "package" {
  description = "Deployment package built by `provision` (deterministic zip): path, base64 SHA-256 and handler."
  type = object({
    filename         = string
    source_code_hash = string
    handler          = string
  })
}

variable "environment_variables" {
  description = "Environment variables of the function, encrypted with the KMS key (none: no environment and no key on the function)."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the log group, the dead-letter queue and environment variables (if any)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "The kms_key_arn must be a full KMS key ARN."
  }
}

variable "vpc_id" {
  description = "VPC the function runs in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the function's network interfaces."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "At least one subnet is required."
  }
}

variable "egress_cidr_blocks" {
  description = "CIDR blocks the function may reach on TCP 443 (e.g. the VPC CIDR where OpenSearch lives). Empty = no egress."
  type        = list(string)
  default     = []

  validation {
    condition     = !contains(var.egress_cidr_blocks, "0.0.0.0/0") && !contains(var.egress_cidr_blocks, "::/0")
    error_message = "Egress to the whole internet is not allowed here; name the CIDR blocks the function must reach (or set https_egress_to_internet)."
  }
}

variable "https_egress_to_internet" {
  description = "Also allow TCP 443 to any address: for functions that call AWS APIs through a NAT gateway (no inbound either way)."
  type        = bool
  default     = false
}

variable "policy_json" {
  description = "Extra IAM policy (JSON) for what the function itself does, merged into the role's policy (statement sids must not repeat the module's)."
  type        = string
  default     = null
}

variable "timeout" {
  description = "Function timeout in seconds."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "The timeout must be between 1 and 900 seconds."
  }
}

variable "memory_size" {
  description = "Function memory in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "The memory_size must be between 128 and 10240 MB."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions (caps the function's share of the account limit)."
  type        = number
  default     = 2

  validation {
    condition     = var.reserved_concurrency >= 1
    error_message = "The reserved_concurrency must be at least 1."
  }
}

variable "log_format" {
  description = "Log format of the function (JSON wraps each log line; Text keeps the runtime's plain lines)."
  type        = string
  default     = "JSON"

  validation {
    condition     = contains(["JSON", "Text"], var.log_format)
    error_message = "The log_format must be JSON or Text."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's CloudWatch log group."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a CloudWatch Logs retention value (e.g. 365, 731)."
  }
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}

variable "log_level" {
  description = "LOG_LEVEL of the function's logger (every function reads it through provisioner.functions.common.log_level)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "The log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "opensearch_index" {
  description = "For a normaliser: the OpenSearch domain it indexes into. Sets OPENSEARCH_ENDPOINT and INDEX_PREFIX and lets the role write only `_bulk` and `<index_prefix>-<source>-*` of that domain; null = the function does not index."
  type = object({
    endpoint     = string
    domain_arn   = string
    index_prefix = string
    source       = string
  })
  default = null
}

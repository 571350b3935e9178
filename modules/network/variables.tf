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

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 28, false)
    error_message = "The vpc_cidr must be an IPv4 CIDR block with a prefix length between /16 and /28."
  }
}

variable "private_subnet_cidrs" {
  description = "CIDR blocks of the private subnets (scanner host, OpenSearch, Lambdas, CodeBuild), spread over the availability zones in order."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_cidrs) >= 1 && alltrue([for c in var.private_subnet_cidrs : can(cidrhost(c, 0))])
    error_message = "The private_subnet_cidrs must hold at least one IPv4 CIDR block."
  }
}

variable "public_subnet_cidrs" {
  description = "CIDR blocks of the public subnets that hold the NAT gateway(s); only used when egress_mode is \"nat\"."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.public_subnet_cidrs : can(cidrhost(c, 0))])
    error_message = "Every public_subnet_cidrs entry must be an IPv4 CIDR block."
  }
}

variable "egress_mode" {
  description = "\"nat\": private subnets reach the internet through NAT (needed to install ZAP and reach an external app under test); \"endpoints_only\": no internet route, AWS APIs through VPC endpoints only."
  type        = string
  default     = "nat"

  validation {
    condition     = contains(["nat", "endpoints_only"], var.egress_mode)
    error_message = "The egress_mode must be \"nat\" or \"endpoints_only\"."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all private subnets (cheaper) instead of one per public subnet (zone-resilient)."
  type        = bool
  default     = true
}

variable "interface_endpoints" {
  description = "AWS services reached through interface VPC endpoints (short names as in com.amazonaws.<region>.<name>). The S3 gateway endpoint is always created."
  type        = list(string)
  default     = ["ssm", "ssmmessages", "ec2messages", "logs", "sts", "kms", "securityhub", "codebuild", "sqs"]

  validation {
    condition     = alltrue([for s in var.interface_endpoints : can(regex("^[a-z0-9][a-z0-9.-]*[a-z0-9]$", s))])
    error_message = "Every interface_endpoints entry must be a service short name such as \"ssm\" or \"ecr.api\"."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key encrypting the flow-log log group (its key policy must admit CloudWatch Logs)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "The kms_key_arn must be a full KMS key ARN."
  }
}

variable "flow_log_retention_days" {
  description = "Days VPC flow logs are kept in CloudWatch Logs (audit logs: at least 365)."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "The flow_log_retention_days must be a CloudWatch Logs retention value of at least 365 (365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "flow_log_traffic_type" {
  description = "Traffic captured by the VPC flow log."
  type        = string
  default     = "ALL"

  validation {
    condition     = contains(["ACCEPT", "REJECT", "ALL"], var.flow_log_traffic_type)
    error_message = "The flow_log_traffic_type must be ACCEPT, REJECT or ALL."
  }
}

variable "availability_zone_suffixes" {
  description = "Zone letters the subnets may use (zone names are region + letter), in placement order."
  type        = list(string)
  default     = ["a", "b", "c"]

  validation {
    condition     = length(var.availability_zone_suffixes) >= 1 && alltrue([for s in var.availability_zone_suffixes : can(regex("^[a-z]$", s))])
    error_message = "The availability_zone_suffixes must be single lowercase letters, e.g. [\"a\", \"b\"]."
  }
}

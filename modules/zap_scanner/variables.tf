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

variable "vpc_id" {
  description = "VPC of the scanner host."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "The vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "subnet_ids" {
  description = "Private subnets; the host is placed in the first one."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "The subnet_ids must hold at least one subnet ID (subnet-...)."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key encrypting the EBS volume and the uploaded reports."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.kms_key_arn))
    error_message = "The kms_key_arn must be a full KMS key ARN."
  }
}

variable "report_bucket_id" {
  description = "Name of the report bucket; scan reports go under its zap/ prefix."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.report_bucket_id))
    error_message = "The report_bucket_id must be an S3 bucket name."
  }
}

variable "report_bucket_arn" {
  description = "ARN of the report bucket (scopes s3:PutObject to its zap/ prefix)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.report_bucket_arn))
    error_message = "The report_bucket_arn must be an S3 bucket ARN."
  }
}

variable "instance_type" {
  description = "EC2 instance type of the scanner host (ZAP wants at least 4 GiB of memory)."
  type        = string
  default     = "t3.medium"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "The instance_type must look like an EC2 instance type, e.g. t3.medium."
  }
}

variable "root_volume_size" {
  description = "Size of the encrypted root volume in GiB."
  type        = number
  default     = 30

  validation {
    condition     = var.root_volume_size >= 30 && var.root_volume_size <= 500
    error_message = "The root_volume_size must be between 30 and 500 GiB (the AL2023 AMI needs 30)."
  }
}

variable "ami_id" {
  description = "AMI of the host; null takes the latest Amazon Linux 2023 AMI from the public SSM parameter. Set a pre-baked AMI (ZAP in /opt/zap) for egress_mode endpoints_only."
  type        = string
  default     = null

  validation {
    condition     = var.ami_id == null || can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "The ami_id must be null or an AMI ID (ami-...)."
  }
}

variable "zap_version" {
  description = "ZAP release installed at boot from the official GitHub release tarball."
  type        = string
  default     = "2.16.1"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.zap_version))
    error_message = "The zap_version must be a release number such as 2.16.1."
  }
}

variable "zap_sha256" {
  description = "Expected SHA-256 of the ZAP release tarball; when set, boot aborts on a mismatch (recommended)."
  type        = string
  default     = null

  validation {
    condition     = var.zap_sha256 == null || can(regex("^[0-9a-f]{64}$", var.zap_sha256))
    error_message = "The zap_sha256 must be null or 64 lowercase hex digits."
  }
}

variable "egress_ports" {
  description = "TCP ports the host may reach (package mirrors, AWS APIs, the application under test)."
  type        = list(number)
  default     = [80, 443]

  validation {
    condition     = length(var.egress_ports) >= 1 && alltrue([for p in var.egress_ports : p >= 1 && p <= 65535 && floor(p) == p])
    error_message = "The egress_ports must be TCP port numbers between 1 and 65535."
  }
}

variable "egress_cidr_blocks" {
  description = "IPv4 destinations the host may reach on egress_ports (narrow this to the app under test where possible)."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.egress_cidr_blocks) >= 1 && alltrue([for c in var.egress_cidr_blocks : can(cidrhost(c, 0))])
    error_message = "The egress_cidr_blocks must be IPv4 CIDR blocks."
  }
}

variable "default_scan_mode" {
  description = "Scan mode used when the caller does not pass one: baseline (spider + passive rules) or full (adds the active scan)."
  type        = string
  default     = "baseline"

  validation {
    condition     = contains(["baseline", "full"], var.default_scan_mode)
    error_message = "The default_scan_mode must be baseline or full."
  }
}

variable "scan_timeout_minutes" {
  description = "Upper bound of one scan; the document's step times out a little later."
  type        = number
  default     = 60

  validation {
    condition     = var.scan_timeout_minutes >= 5 && var.scan_timeout_minutes <= 600 && floor(var.scan_timeout_minutes) == var.scan_timeout_minutes
    error_message = "The scan_timeout_minutes must be a whole number between 5 and 600."
  }
}

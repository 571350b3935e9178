variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}

variable "build_role_arn" {
  description = "The management account's fleet build role (the fleet module's build_role_arn output): the only principal the roles trust."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.build_role_arn))
    error_message = "The build_role_arn must be an IAM role ARN."
  }
}

variable "drift_role_name" {
  description = "Name of the drift role (read-only plus state access); the fleet module's member_role_name."
  type        = string
  default     = "devsecops-fleet-drift"
}

variable "reap_role_name" {
  description = "Name of the reap role (destroy rights on ephemeral instances only); empty = no reap role."
  type        = string
  default     = "devsecops-fleet-reap"
}

variable "state_bucket_arn" {
  description = "This account's Terraform state bucket (provision bootstrap)."
  type        = string
}

variable "state_key_prefix" {
  description = "Key prefix of this project's states in the bucket (<key_prefix>/<project>/)."
  type        = string
  default     = "provision/devsecops/"
}

variable "lock_table_arn" {
  description = "DynamoDB lock table of the state (empty where Terraform locks in S3 with use_lockfile)."
  type        = string
  default     = ""
}

variable "instance_tag_key" {
  description = "Tag key that marks a resource as part of an ephemeral instance (provision's ownership rule)."
  type        = string
  default     = "Instance"
}

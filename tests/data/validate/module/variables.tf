variable "name" {
  type = string
}

variable "blocked_countries" {
  type    = list(string)
  default = ["KP"]
}

variable "managed_rule_groups" {
  type = map(number)
  default = {
    AWSManagedRulesCommonRuleSet = 10
  }
}

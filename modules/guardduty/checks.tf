# Terraform 1.0 validation blocks cannot compare two variables: this local fails the plan with a readable message.
locals {
  check_threat_list_count = length(var.threat_intel_set_locations) + length(var.threat_ip_list_files) > 6 ? tobool("GuardDuty allows at most 6 threat lists (threat_intel_set_locations + threat_ip_list_files)") : true
}

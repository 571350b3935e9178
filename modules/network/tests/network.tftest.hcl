# Plans the module against a mocked AWS provider (no credentials, no network) and asserts its security properties.
mock_provider "aws" {
  # Computed values come from the mocks already at plan (Terraform >= 1.11), so they can be asserted.
  override_during = plan
  source          = "../_mocks/aws" # the common account, region and create-time ARNs

  # This module's own:
  mock_data "aws_availability_zones" {
    defaults = { names = ["eu-west-1a", "eu-west-1b"] }
  }
}

variables {
  name_prefix          = "dev"
  vpc_cidr             = "10.20.0.0/16"
  private_subnet_cidrs = ["10.20.1.0/24", "10.20.2.0/24"]
  public_subnet_cidrs  = ["10.20.101.0/24"]
  kms_key_arn          = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
}

run "private_subnets_https_only_endpoints_and_encrypted_flow_logs" {
  command = plan

  assert {
    condition     = alltrue([for s in concat(aws_subnet.private, aws_subnet.public) : !s.map_public_ip_on_launch])
    error_message = "no subnet may hand out public IPs"
  }
  assert {
    condition = (aws_vpc_security_group_ingress_rule.endpoints_https.from_port == 443 &&
      aws_vpc_security_group_ingress_rule.endpoints_https.to_port == 443 &&
    aws_vpc_security_group_ingress_rule.endpoints_https.cidr_ipv4 == var.vpc_cidr)
    error_message = "interface endpoints admit HTTPS from inside the VPC only"
  }
  assert {
    condition     = alltrue([for e in aws_vpc_endpoint.interface : e.private_dns_enabled])
    error_message = "AWS API calls must resolve to the interface endpoints"
  }
  assert {
    condition     = aws_flow_log.this.traffic_type == "ALL" && aws_cloudwatch_log_group.flow_logs.kms_key_id == var.kms_key_arn
    error_message = "all traffic must be flow-logged into a KMS-encrypted log group"
  }
  assert {
    condition     = aws_cloudwatch_log_group.flow_logs.retention_in_days >= 365
    error_message = "flow logs are kept at least a year"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.flow_logs.statement : s.actions] == [toset(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"])]
    error_message = "the flow-log role may only write its own log group"
  }
}

run "nat_egress_needs_a_public_subnet" {
  command = plan

  variables {
    public_subnet_cidrs = []
  }

  expect_failures = [aws_vpc.this]
}

run "endpoint_only_egress_has_no_internet_route" {
  command = plan

  variables {
    egress_mode         = "endpoints_only"
    public_subnet_cidrs = []
  }

  assert {
    condition     = length(aws_route.private_nat) == 0 && length(aws_nat_gateway.this) == 0 && length(aws_subnet.public) == 0
    error_message = "without NAT there is no route to the internet"
  }
}

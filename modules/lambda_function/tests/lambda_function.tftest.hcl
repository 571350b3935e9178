# Plans the module against a mocked AWS provider (no credentials, no network) and asserts its security properties.
mock_provider "aws" {
  # Computed values come from the mocks already at plan (Terraform >= 1.11), so they can be asserted.
  override_during = plan
  source          = "../_mocks/aws" # the common account, region and create-time ARNs

  # This module's own:
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:dev-normalizer-dlq" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/dev-normalizer" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/dev-normalizer-role" }
  }
}

variables {
  function_name = "dev-normalizer"
  description   = "test function"
  package       = { filename = "function.zip", source_code_hash = "aGFzaA==", handler = "handler.main" }
  kms_key_arn   = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  vpc_id        = "vpc-0123456789abcdef0"
  subnet_ids    = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
}

run "private_traced_encrypted_and_least_privilege" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.kms_key_arn == var.kms_key_arn && aws_sqs_queue.dlq.kms_master_key_id == var.kms_key_arn && aws_cloudwatch_log_group.this.kms_key_id == var.kms_key_arn
    error_message = "environment, dead-letter queue and logs must be encrypted with the stack key"
  }
  assert {
    condition     = aws_lambda_function.this.vpc_config[0].subnet_ids == toset(var.subnet_ids) && aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "the function runs in the private subnets, traced"
  }
  assert {
    condition     = aws_lambda_function.this.dead_letter_config[0].target_arn == aws_sqs_queue.dlq.arn
    error_message = "failed asynchronous events go to the encrypted dead-letter queue"
  }
  assert {
    condition     = alltrue([for r in aws_vpc_security_group_egress_rule.https : r.from_port == 443 && r.to_port == 443]) && length(aws_vpc_security_group_egress_rule.https) == 0
    error_message = "no egress beyond what is asked for, HTTPS only"
  }
  assert {
    condition = alltrue([for s in data.aws_iam_policy_document.runtime.statement :
    !contains(s.actions, "*") && !anytrue([for a in s.actions : endswith(a, ":*")])])
    error_message = "the runtime policy grants named actions only"
  }
  assert {
    condition = toset(flatten([for s in data.aws_iam_policy_document.runtime.statement : s.actions if contains(s.resources, "*")])) == toset([
      "xray:PutTraceSegments", "xray:PutTelemetryRecords",
      "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
    ])
    error_message = "only X-Ray and network describe calls may have Resource \"*\" (they have no resource-level permissions)"
  }
  assert {
    condition     = flatten([for s in data.aws_iam_policy_document.assume.statement : [for p in s.principals : tolist(p.identifiers)]]) == ["lambda.amazonaws.com"]
    error_message = "only Lambda may assume the execution role"
  }
}

run "https_egress_to_the_internet_is_opt_in" {
  command = plan

  variables {
    https_egress_to_internet = true
  }

  assert {
    condition     = keys(aws_vpc_security_group_egress_rule.https) == ["0.0.0.0/0"]
    error_message = "opting in adds exactly one HTTPS rule to anywhere"
  }
}

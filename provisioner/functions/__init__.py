"""Lambda code: scanner reports to Security Hub (ASFF) and AWS security logs to OpenSearch (ECS).

Runs on the python3.12 Lambda runtime: imports only the standard library, boto3/botocore and
`provisioner.functions.*` (the zip holds nothing else).
"""

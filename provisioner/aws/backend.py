"""Bootstrap the Terraform state backend: a locked-down S3 bucket and a DynamoDB lock table, idempotently.

Each property is read first and written only when it differs, so a second run changes nothing and says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from provisioner.aws import aws_error, client, error_code


@dataclass
class BootstrapResult:
    bucket: str
    table: str
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def _tls_only_policy(bucket: str) -> dict[str, Any]:
    arn = f"arn:aws:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def ensure_state_bucket(
    bucket: str, region: str, tags: dict[str, str], kms_key: str | None, result: BootstrapResult
) -> None:
    s3 = client("s3", region)
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception as exc:
        if error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise aws_error(f"s3 bucket {bucket}", exc) from None
        kwargs: dict[str, Any] = {"Bucket": bucket, "ObjectOwnership": "BucketOwnerEnforced"}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)
        result.changes.append(f"created bucket {bucket}")

    if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        result.changes.append("enabled versioning")

    wanted_rule: dict[str, Any] = {"SSEAlgorithm": "aws:kms"}
    if kms_key:
        wanted_rule["KMSMasterKeyID"] = kms_key
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        current = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
    except Exception as exc:
        if error_code(exc) != "ServerSideEncryptionConfigurationNotFoundError":
            raise aws_error(f"s3 bucket {bucket} encryption", exc) from None
        current = {}
    if current != wanted_rule:
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": wanted_rule, "BucketKeyEnabled": True}]
            },
        )
        result.changes.append("set KMS default encryption")

    wanted_block = {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    try:
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except Exception as exc:
        if error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
            raise aws_error(f"s3 bucket {bucket} public access block", exc) from None
        block = {}
    if block != wanted_block:
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=wanted_block)
        result.changes.append("blocked public access")

    wanted_policy = _tls_only_policy(bucket)
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except Exception as exc:
        if error_code(exc) != "NoSuchBucketPolicy":
            raise aws_error(f"s3 bucket {bucket} policy", exc) from None
        policy = None
    if policy != wanted_policy:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(wanted_policy))
        result.changes.append("set TLS-only bucket policy")

    try:
        current_tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    except Exception as exc:
        if error_code(exc) != "NoSuchTagSet":
            raise aws_error(f"s3 bucket {bucket} tags", exc) from None
        current_tags = {}
    if current_tags != tags:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
        result.changes.append("tagged bucket")


def ensure_lock_table(table: str, region: str, tags: dict[str, str], result: BootstrapResult) -> None:
    ddb = client("dynamodb", region)
    try:
        description = ddb.describe_table(TableName=table)["Table"]
    except Exception as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise aws_error(f"dynamodb table {table}", exc) from None
        ddb.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True, "SSEType": "KMS"},
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )
        ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        result.changes.append(f"created lock table {table}")
        description = ddb.describe_table(TableName=table)["Table"]
    key = description.get("KeySchema", [])
    if key != [{"AttributeName": "LockID", "KeyType": "HASH"}]:
        raise aws_error(
            f"dynamodb table {table}",
            RuntimeError("exists with a key schema other than LockID (HASH); pick another lock_table"),
        )
    backups = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    pitr = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
    if pitr != "ENABLED":
        ddb.update_continuous_backups(
            TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
        result.changes.append("enabled point-in-time recovery")


def bootstrap(
    bucket: str, table: str, region: str, tags: dict[str, str], kms_key: str | None = None
) -> BootstrapResult:
    result = BootstrapResult(bucket=bucket, table=table)
    try:
        ensure_state_bucket(bucket, region, tags, kms_key, result)
        ensure_lock_table(table, region, tags, result)
    except Exception as exc:
        from provisioner.errors import ProvisionError

        if isinstance(exc, ProvisionError):
            raise
        raise aws_error("bootstrap", exc) from None
    return result

"""The Terraform state backend: how the S3 backend locks for a given Terraform, and its bootstrap (a locked-down
S3 bucket, plus a DynamoDB lock table only where one is still needed), idempotently.

Each property is read first and written only when it differs, so a second run changes nothing and says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from provisioner.aws import aws_error, client, error_code
from provisioner.errors import ProvisionError, ToolMissingError
from provisioner.functions.common import partition_of, tag_dict, tag_list

if TYPE_CHECKING:
    from provisioner.spec import EnvironmentSpec

# Terraform 1.10 added S3-native state locking (`use_lockfile`: a conditional write of `<key>.tflock` next to the
# state), which needs no DynamoDB table.
LOCKFILE_SINCE = (1, 10, 0)
# Terraform 1.6 rewrote the S3 backend: `use_path_style` and the AWS_ENDPOINT_URL_<SERVICE> variables the emulator
# target sets. 1.5's backend reads neither, so it would send the emulator's state to real AWS.
EMULATOR_BACKEND_SINCE = (1, 6, 0)


def lock_table(spec: EnvironmentSpec, version: tuple[int, int, int]) -> str | None:
    """The DynamoDB lock table this Terraform needs: the spec's own `backend.lock_table` always (a team that
    named one keeps it, also while it moves to lock files), the default one only before 1.10."""
    if spec.backend.type != "s3":
        return None
    if spec.target == "emulator" and version < EMULATOR_BACKEND_SINCE:
        have, need = ".".join(map(str, version)), ".".join(map(str, EMULATOR_BACKEND_SINCE))
        raise ToolMissingError(
            f"terraform {have}: the emulator target needs >= {need} (its S3 backend reads AWS_ENDPOINT_URL_S3)",
            hint="unset PROVISION_TERRAFORM to use the venv's terraform, or use a newer one",
        )
    if spec.backend.lock_table or version < LOCKFILE_SINCE:
        return spec.backend_lock_table()
    return None


def init_settings(spec: EnvironmentSpec, version: tuple[int, int, int]) -> dict[str, str]:
    """The S3 backend's locking, passed to `terraform init -backend-config`: it depends on the Terraform that
    runs (rendered files do not), and a change of binary re-initialises the work dir anyway."""
    if spec.backend.type != "s3":
        return {}
    settings: dict[str, str] = {}
    if version >= LOCKFILE_SINCE:
        settings["use_lockfile"] = "true"
    table = lock_table(spec, version)
    if table is not None:
        settings["dynamodb_table"] = table
    return settings


@dataclass
class BootstrapResult:
    bucket: str
    table: str | None  # None: S3-native locking, no table
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def _tls_only_policy(bucket: str, region: str) -> dict[str, Any]:
    arn = f"arn:{partition_of(region)}:s3:::{bucket}"
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


@dataclass(frozen=True)
class _Property:
    """One bucket property: read it (``missing`` = the error code S3 answers when it was never set, read as
    ``absent``), compare it with the wanted value, write it only when they differ."""

    label: str
    missing: str
    read: Callable[[Any, str], Any]
    write: Callable[[Any, str, Any], None]
    change: str
    absent: Any = None


def _read_encryption(s3: Any, bucket: str) -> dict[str, Any]:
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    return dict(rules[0].get("ApplyServerSideEncryptionByDefault", {})) if rules else {}


def _write_encryption(s3: Any, bucket: str, rule: dict[str, Any]) -> None:
    config = {"Rules": [{"ApplyServerSideEncryptionByDefault": rule, "BucketKeyEnabled": True}]}
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=config)


def _read_tags(s3: Any, bucket: str) -> dict[str, str]:
    return tag_dict(s3.get_bucket_tagging(Bucket=bucket)["TagSet"])


def _write_tags(s3: Any, bucket: str, tags: dict[str, str]) -> None:
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_list(tags)})


_VERSIONING = _Property(
    "versioning",
    "",  # never "missing": an unversioned bucket answers without a Status
    lambda s3, bucket: s3.get_bucket_versioning(Bucket=bucket).get("Status"),
    lambda s3, bucket, status: s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status}),
    "enabled versioning",
)
_ENCRYPTION = _Property(
    "encryption",
    "ServerSideEncryptionConfigurationNotFoundError",
    _read_encryption,
    _write_encryption,
    "set KMS default encryption",
)
_PUBLIC_ACCESS_BLOCK = _Property(
    "public access block",
    "NoSuchPublicAccessBlockConfiguration",
    lambda s3, bucket: s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
    lambda s3, bucket, block: s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=block),
    "blocked public access",
)
_POLICY = _Property(
    "policy",
    "NoSuchBucketPolicy",
    lambda s3, bucket: json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]),
    lambda s3, bucket, policy: s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy)),
    "set TLS-only bucket policy",
)
_TAGS = _Property("tags", "NoSuchTagSet", _read_tags, _write_tags, "tagged bucket", absent={})

_BLOCK_ALL_PUBLIC = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def _ensure_property(s3: Any, bucket: str, prop: _Property, wanted: Any, result: BootstrapResult) -> None:
    try:
        current = prop.read(s3, bucket)
    except Exception as exc:
        if not prop.missing or error_code(exc) != prop.missing:
            raise aws_error(f"s3 bucket {bucket} {prop.label}", exc) from None
        current = prop.absent
    if current != wanted:
        prop.write(s3, bucket, wanted)
        result.changes.append(prop.change)


def _ensure_bucket_exists(s3: Any, bucket: str, region: str, result: BootstrapResult) -> None:
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


def ensure_state_bucket(
    bucket: str, region: str, tags: dict[str, str], kms_key: str | None, result: BootstrapResult
) -> None:
    s3 = client("s3", region)
    _ensure_bucket_exists(s3, bucket, region, result)
    encryption: dict[str, Any] = {"SSEAlgorithm": "aws:kms"}
    if kms_key:
        encryption["KMSMasterKeyID"] = kms_key
    # Order matters only for the messages; each step is independent and idempotent.
    steps: tuple[tuple[_Property, Any], ...] = (
        (_VERSIONING, "Enabled"),
        (_ENCRYPTION, encryption),
        (_PUBLIC_ACCESS_BLOCK, _BLOCK_ALL_PUBLIC),
        (_POLICY, _tls_only_policy(bucket, region)),
        (_TAGS, tags),
    )
    for prop, wanted in steps:
        _ensure_property(s3, bucket, prop, wanted, result)


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
            Tags=tag_list(tags),
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
    bucket: str, table: str | None, region: str, tags: dict[str, str], kms_key: str | None = None
) -> BootstrapResult:
    result = BootstrapResult(bucket=bucket, table=table)
    try:
        ensure_state_bucket(bucket, region, tags, kms_key, result)
        if table is not None:
            ensure_lock_table(table, region, tags, result)
    except Exception as exc:
        if isinstance(exc, ProvisionError):
            raise
        raise aws_error("bootstrap", exc) from None
    return result

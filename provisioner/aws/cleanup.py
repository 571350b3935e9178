"""What Terraform cannot do alone around a destroy: emptying owned buckets, sweeping tagged leftovers.

Nothing here deletes on a name alone: every bucket or log group is re-read for its own tags right before it
is touched, and only one carrying the environment's ownership tags is emptied or deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from provisioner.aws import aws_error, client, error_code
from provisioner.errors import ProvisionError
from provisioner.functions.common import parse_arn, tag_dict
from provisioner.ownership import owns

_DELETE_BATCH = 1000  # DeleteObjects limit


@dataclass(frozen=True)
class BucketOutcome:
    bucket: str
    emptied: bool
    detail: str
    versions: int = 0
    delete_markers: int = 0


@dataclass(frozen=True)
class SweepOutcome:
    arn: str
    deleted: bool
    detail: str


def bucket_tags(s3: Any, bucket: str) -> dict[str, str] | None:
    """The bucket's tags, or None when the bucket does not exist."""
    try:
        tag_set = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    except Exception as exc:
        code = error_code(exc)
        if code == "NoSuchTagSet":
            return {}
        if code in ("NoSuchBucket", "404"):
            return None
        raise aws_error(f"s3 bucket {bucket} tags", exc) from None
    return tag_dict(tag_set)


def empty_bucket(s3: Any, bucket: str) -> tuple[int, int]:
    """Deletes every object version and delete marker; returns (versions, delete markers) removed."""
    versions = markers = 0
    try:
        # Deleting while listing would shift the pages; collect first, then delete in batches.
        pending: list[dict[str, str]] = []
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for item in page.get("Versions") or ():
                pending.append({"Key": item["Key"], "VersionId": item["VersionId"]})
                versions += 1
            for item in page.get("DeleteMarkers") or ():
                pending.append({"Key": item["Key"], "VersionId": item["VersionId"]})
                markers += 1
        for start in range(0, len(pending), _DELETE_BATCH):
            reply = s3.delete_objects(
                Bucket=bucket, Delete={"Objects": pending[start : start + _DELETE_BATCH], "Quiet": True}
            )
            errors = reply.get("Errors") or []
            if errors:
                first = errors[0]
                raise ProvisionError(
                    f"s3 bucket {bucket}: could not delete {len(errors)} object version(s), first "
                    f"{first.get('Key')}: {first.get('Code')} {first.get('Message', '')}".rstrip()
                )
    except ProvisionError:
        raise
    except Exception as exc:
        raise aws_error(f"emptying s3 bucket {bucket}", exc) from None
    return versions, markers


def empty_owned_buckets(region: str, buckets: Iterable[str], owner: Mapping[str, str]) -> list[BucketOutcome]:
    """Empty the given buckets (taken from the environment's state) that also carry its ownership tags."""
    s3 = client("s3", region)
    outcomes: list[BucketOutcome] = []
    for bucket in sorted(set(buckets)):
        tags = bucket_tags(s3, bucket)
        if tags is None:
            outcomes.append(BucketOutcome(bucket, False, "does not exist (nothing to empty)"))
        elif not owns(tags, owner):
            outcomes.append(BucketOutcome(bucket, False, "not tagged as this environment's: left untouched"))
        else:
            versions, markers = empty_bucket(s3, bucket)
            detail = f"emptied: {versions} object version(s), {markers} delete marker(s)"
            outcomes.append(BucketOutcome(bucket, True, detail, versions, markers))
    return outcomes


def stop_access_logging(region: str, buckets: Iterable[str], owner: Mapping[str, str]) -> list[str]:
    """Turn off server access logging of the owned buckets about to be destroyed, so no log object reaches
    a log sink after it was emptied (its own destroy then fails with BucketNotEmpty). Returns those changed."""
    s3 = client("s3", region)
    stopped = []
    for bucket in buckets:
        tags = bucket_tags(s3, bucket)
        if tags is None or not owns(tags, owner):
            continue
        try:
            if s3.get_bucket_logging(Bucket=bucket).get("LoggingEnabled"):
                s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
                stopped.append(bucket)
        except Exception as exc:
            raise aws_error(f"s3 bucket {bucket} access logging", exc) from None
    return stopped


def _log_group_name(arn: str) -> str:
    name = arn.split(":log-group:", 1)[1]
    return name[: -len(":*")] if name.endswith(":*") else name


def sweep(region: str, arns: Sequence[str], owner: Mapping[str, str]) -> list[SweepOutcome]:
    """Delete leftovers the tagging API found, where that is safe: S3 buckets (emptied first) and log groups,
    each only after its own tags confirm the owner. Anything else is reported for deletion by hand."""
    outcomes: list[SweepOutcome] = []
    for arn in arns:
        try:
            outcomes.append(_sweep_one(region, arn, owner))
        except ProvisionError as exc:
            outcomes.append(SweepOutcome(arn, False, f"not deleted: {exc.message}"))
    return outcomes


def _sweep_one(region: str, arn: str, owner: Mapping[str, str]) -> SweepOutcome:
    parts = parse_arn(arn)
    if parts is not None and parts.service == "s3" and "/" not in parts.resource:
        s3 = client("s3", region)
        bucket = parts.resource
        tags = bucket_tags(s3, bucket)
        if tags is None:
            return SweepOutcome(arn, True, "already gone")
        if not owns(tags, owner):
            return SweepOutcome(arn, False, "not deleted: its tags do not match this environment")
        versions, markers = empty_bucket(s3, bucket)
        try:
            s3.delete_bucket(Bucket=bucket)
        except Exception as exc:
            raise aws_error(f"deleting s3 bucket {bucket}", exc) from None
        return SweepOutcome(arn, True, f"deleted bucket ({versions} version(s), {markers} delete marker(s))")
    if ":logs:" in arn and ":log-group:" in arn:
        logs = client("logs", region)
        name = _log_group_name(arn)
        try:
            reply = logs.list_tags_log_group(logGroupName=name)
            tags = {str(k): str(v) for k, v in (reply.get("tags") or {}).items()}
            if not owns(tags, owner):
                return SweepOutcome(arn, False, "not deleted: its tags do not match this environment")
            logs.delete_log_group(logGroupName=name)
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return SweepOutcome(arn, True, "already gone")
            raise aws_error(f"deleting log group {name}", exc) from None
        return SweepOutcome(arn, True, "deleted log group")
    return SweepOutcome(arn, False, "not deleted: only buckets and log groups are swept; delete it by hand")

"""Pre-destroy bucket emptying and the post-destroy sweep against the moto server (real HTTP, real boto3)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from provisioner.aws import cleanup
from provisioner.aws.cleanup import empty_owned_buckets, sweep
from provisioner.aws.inventory import find_tagged_resources
from provisioner.ownership import owns

REGION = "eu-west-1"
DEMO = {"Project": "fixture", "Environment": "demo", "ManagedBy": "provision", "Instance": "pr-42"}
OTHER = {**DEMO, "Instance": "pr-43"}
TEMPLATE = {"Project": "fixture", "Environment": "demo", "ManagedBy": "provision"}


def _bucket(s3: Any, name: str, tags: dict[str, str] | None, *, versioned: bool = True) -> None:
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})


def _fill(s3: Any, name: str) -> None:
    """Three versions of one key, a deleted key (version + delete marker), and a plain object."""
    for body in (b"v1", b"v2", b"v3"):
        s3.put_object(Bucket=name, Key="logs/app.log", Body=body)
    s3.put_object(Bucket=name, Key="deleted.txt", Body=b"gone")
    s3.delete_object(Bucket=name, Key="deleted.txt")
    s3.put_object(Bucket=name, Key="keep.txt", Body=b"x")


def _count(s3: Any, name: str) -> tuple[int, int]:
    listed = s3.list_object_versions(Bucket=name)
    return len(listed.get("Versions", [])), len(listed.get("DeleteMarkers", []))


@pytest.fixture()
def s3(aws: str) -> Any:
    return boto3.client("s3", region_name=REGION)


def test_owned_versioned_bucket_is_emptied_and_others_are_never_touched(s3: Any) -> None:
    _bucket(s3, "fx-demo-pr-42-data", DEMO)
    _bucket(s3, "fx-demo-pr-43-data", OTHER)  # another instance of the same template
    _bucket(s3, "untagged-in-state", None)
    for name in ("fx-demo-pr-42-data", "fx-demo-pr-43-data", "untagged-in-state"):
        _fill(s3, name)
    assert _count(s3, "fx-demo-pr-42-data") == (5, 1)

    outcomes = empty_owned_buckets(
        REGION, ["fx-demo-pr-42-data", "fx-demo-pr-43-data", "untagged-in-state", "already-deleted"], DEMO
    )
    by_name = {o.bucket: o for o in outcomes}
    assert by_name["fx-demo-pr-42-data"].emptied
    assert (by_name["fx-demo-pr-42-data"].versions, by_name["fx-demo-pr-42-data"].delete_markers) == (5, 1)
    assert _count(s3, "fx-demo-pr-42-data") == (0, 0)
    s3.delete_bucket(Bucket="fx-demo-pr-42-data")  # what terraform destroy does next now succeeds

    for foreign in ("fx-demo-pr-43-data", "untagged-in-state"):
        assert not by_name[foreign].emptied
        assert by_name[foreign].detail == "not tagged as this environment's: left untouched"
        assert _count(s3, foreign) == (5, 1)
    assert by_name["already-deleted"].detail == "does not exist (nothing to empty)"


def test_bucket_emptying_works_through_several_delete_batches(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # DeleteObjects takes 1000 keys per call; a batch of 2 exercises the same loop with a few objects.
    monkeypatch.setattr(cleanup, "_DELETE_BATCH", 2)
    _bucket(s3, "fx-demo-pr-42-big", DEMO)
    _fill(s3, "fx-demo-pr-42-big")
    [outcome] = empty_owned_buckets(REGION, ["fx-demo-pr-42-big"], DEMO)
    assert (outcome.versions, outcome.delete_markers) == (5, 1)
    assert _count(s3, "fx-demo-pr-42-big") == (0, 0)


def test_template_owner_never_claims_an_instance_resource() -> None:
    assert owns(TEMPLATE, TEMPLATE)
    assert not owns(DEMO, TEMPLATE)  # the template's own teardown must not eat pr-42's resources
    assert owns(DEMO, DEMO)
    assert not owns(OTHER, DEMO)
    assert not owns({}, {})


def test_sweep_deletes_tagged_leftovers_where_safe_and_reports_the_rest(s3: Any) -> None:
    logs = boto3.client("logs", region_name=REGION)
    ec2 = boto3.client("ec2", region_name=REGION)
    _bucket(s3, "fx-demo-pr-42-orphan", DEMO)
    _fill(s3, "fx-demo-pr-42-orphan")
    _bucket(s3, "fx-demo-pr-43-live", OTHER)
    logs.create_log_group(logGroupName="/fx/demo-pr-42/app", tags=DEMO)
    logs.create_log_group(logGroupName="/fx/demo-pr-43/app", tags=OTHER)
    vpc = ec2.create_vpc(
        CidrBlock="10.9.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": k, "Value": v} for k, v in DEMO.items()]}],
    )["Vpc"]["VpcId"]

    found = [r.arn for r in find_tagged_resources(REGION, DEMO)]
    assert any(arn.endswith(":::fx-demo-pr-42-orphan") for arn in found)
    assert not any("pr-43" in arn for arn in found)

    outcomes = {o.arn: o for o in sweep(REGION, found, DEMO)}
    bucket_arn = "arn:aws:s3:::fx-demo-pr-42-orphan"
    assert outcomes[bucket_arn].deleted
    assert "deleted bucket (5 version(s), 1 delete marker(s))" in outcomes[bucket_arn].detail
    log_arn = next(arn for arn in outcomes if ":log-group:/fx/demo-pr-42/app" in arn)
    assert outcomes[log_arn].deleted
    vpc_arn = next(arn for arn in outcomes if arn.endswith(f"vpc/{vpc}"))
    assert not outcomes[vpc_arn].deleted
    assert "delete it by hand" in outcomes[vpc_arn].detail

    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert names == ["fx-demo-pr-43-live"]
    groups = [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
    assert groups == ["/fx/demo-pr-43/app"]
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"]


def test_sweep_rechecks_tags_before_deleting(s3: Any) -> None:
    # An ARN handed in by mistake (here: another instance's bucket) is read back and left alone.
    _bucket(s3, "fx-demo-pr-43-live", OTHER)
    [outcome] = sweep(REGION, ["arn:aws:s3:::fx-demo-pr-43-live"], DEMO)
    assert not outcome.deleted
    assert outcome.detail == "not deleted: its tags do not match this environment"
    assert s3.head_bucket(Bucket="fx-demo-pr-43-live")

"""Issue 12: drift silent right after `up`, `down` in one run. One test per false-positive class seen on the
first real plan of the stack; each fails on the code before the fix, and a real change is still reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from provisioner.aws.cleanup import stop_access_logging
from provisioner.aws.inventory import TaggedResource
from provisioner.aws.liveness import is_dead, split_dead
from provisioner.drift.unmanaged import is_owned, owned_ids, resource_id, unmanaged_resources
from provisioner.plan import DriftResult, State, is_normalisation
from provisioner.project import Project
from provisioner.spec import load_environment

REPO = Path(__file__).resolve().parent.parent
REGION = "eu-west-1"


def _drifted(address: str, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    kind, name = address.rsplit(".", 2)[-2:]
    return {"address": address, "type": kind, "name": name, "mode": "managed",
            "change": {"actions": ["update"], "before": before, "after": after}}  # fmt: skip


def _refresh_plan(*drift: dict[str, Any]) -> dict[str, Any]:
    return {"format_version": "1.0", "resource_drift": list(drift), "resource_changes": []}


# --- null vs empty -----------------------------------------------------------------------------------------


def test_null_vs_empty_after_refresh_is_not_drift() -> None:
    waf = _drifted(
        "module.waf.aws_wafv2_web_acl.this",
        {"name": "acl", "token_domains": None, "description": None, "captcha_config": None, "tags": {}},
        {"name": "acl", "token_domains": [], "description": "", "captcha_config": [], "tags": None},
    )
    result = DriftResult.from_plans(_refresh_plan(waf), _refresh_plan())
    assert result.changed_outside == ()
    assert not result.has_drift


def test_a_real_change_next_to_a_normalisation_is_still_reported() -> None:
    bucket = _drifted(
        "module.shared.aws_s3_bucket_versioning.this",
        {"versioning_configuration": [{"status": "Enabled", "mfa_delete": None}]},
        {"versioning_configuration": [{"status": "Suspended", "mfa_delete": ""}]},
    )
    (change,) = DriftResult.from_plans(_refresh_plan(bucket), _refresh_plan()).changed_outside
    assert [(c.path, c.before, c.after) for c in change.meaningful_changes()] == [
        ("versioning_configuration[0].status", "Enabled", "Suspended")
    ]


@pytest.mark.parametrize(
    ("before", "after", "same"),
    [(None, [], True), ("", None, True), ({}, [], True), (None, 0, False), (None, False, False), ("", "x", False)],
)
def test_normalisation_only_between_unset_forms(before: Any, after: Any, same: bool) -> None:
    assert is_normalisation(before, after) is same


# --- flow log, NAT gateway, root volume, ENI: owned through the state's ids ------------------------------------


def _state(resources: list[dict[str, Any]]) -> State:
    rows = [{"address": f"{r['type']}.this", "mode": "managed", "name": "this", **r} for r in resources]
    return State.from_json({"values": {"root_module": {"resources": rows}}})


def test_ids_in_arns_and_state_values() -> None:
    assert resource_id("arn:aws:ec2:eu-west-1:123456789012:vpc-flow-log/fl-0123456789abcdef0") == "fl-0123456789abcdef0"
    assert resource_id("arn:aws:s3:::bucket-name") is None
    ids = owned_ids([{"root_block_device": [{"volume_id": "vol-0123456789abcdef0"}], "ami": "ami-12345678"}])
    assert "vol-0123456789abcdef0" in ids
    assert is_owned("arn:aws:ec2:r:a:volume/vol-0123456789abcdef0", set(), ids)
    assert not is_owned("arn:aws:ec2:r:a:volume/vol-0fffffffffffffff0", set(), ids)


def _tags(spec: Any) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in spec.aws_tags().items()]


def test_flow_log_nat_gateway_root_volume_and_eni_are_not_unmanaged(aws: str) -> None:
    spec = load_environment(Project(REPO), "dev")
    ec2 = boto3.client("ec2", region_name=REGION)
    spec_tags = _tags(spec)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
    boto3.client("s3").create_bucket(Bucket="flow-logs", CreateBucketConfiguration={"LocationConstraint": REGION})
    flow = ec2.create_flow_logs(
        ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogDestinationType="s3",
        LogDestination="arn:aws:s3:::flow-logs",
        TagSpecifications=[{"ResourceType": "vpc-flow-log", "Tags": spec_tags}],
    )["FlowLogIds"][0]  # fmt: skip
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(
        SubnetId=subnet, AllocationId=eip, TagSpecifications=[{"ResourceType": "natgateway", "Tags": spec_tags}]
    )["NatGateway"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet,
        TagSpecifications=[{"ResourceType": t, "Tags": spec_tags} for t in ("instance", "volume", "network-interface")],
    )["Instances"][0]  # fmt: skip
    volume = instance["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    eni = instance["NetworkInterfaces"][0]["NetworkInterfaceId"]
    state = _state([
        {"type": "aws_vpc", "values": {"id": vpc, "arn": f"arn:aws:ec2:{REGION}:123456789012:vpc/{vpc}"}},
        {"type": "aws_flow_log", "values": {"id": flow}},
        {"type": "aws_nat_gateway", "values": {"id": nat["NatGatewayId"], "allocation_id": eip}},
        {"type": "aws_instance", "values": {
            "id": instance["InstanceId"], "arn": f"arn:aws:ec2:{REGION}:123456789012:instance/{instance['InstanceId']}",
            "root_block_device": [{"volume_id": volume}], "primary_network_interface_id": eni}},
    ])  # fmt: skip
    assert [r.arn for r in unmanaged_resources(spec, state)] == []
    # Something really unmanaged is still found.
    stray = ec2.create_security_group(
        GroupName="stray", Description="made by hand", VpcId=vpc,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": spec_tags}],
    )["GroupId"]  # fmt: skip
    assert [r.arn.rsplit("/", 1)[-1] for r in unmanaged_resources(spec, state)] == [stray]


# --- the sweep after down: dead and pending-deletion resources --------------------------------------------------


def test_sweep_ignores_terminated_deleted_and_pending_deletion(aws: str) -> None:
    ec2, kms = boto3.client("ec2", region_name=REGION), boto3.client("kms", region_name=REGION)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    gone, alive = (ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"] for _ in "ab")
    ec2.terminate_instances(InstanceIds=[gone])
    made = kms.create_key()["KeyMetadata"]
    key = made["Arn"]
    kms.schedule_key_deletion(KeyId=made["KeyId"], PendingWindowInDays=7)
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.0.0/24")["Subnet"]["SubnetId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=ec2.allocate_address(Domain="vpc")["AllocationId"])
    ec2.delete_nat_gateway(NatGatewayId=nat["NatGateway"]["NatGatewayId"])
    arn = f"arn:aws:ec2:{REGION}:123456789012"
    found = [
        TaggedResource(f"{arn}:instance/{gone}", "ec2", "instance"),
        TaggedResource(f"{arn}:instance/{alive}", "ec2", "instance"),
        TaggedResource(key, "kms", "key"),
        TaggedResource(f"{arn}:natgateway/{nat['NatGateway']['NatGatewayId']}", "ec2", "natgateway"),
        TaggedResource("arn:aws:s3:::left-bucket", "s3", "bucket"),
    ]
    live, dead = split_dead(REGION, found)
    assert [r.arn for r in live] == [f"{arn}:instance/{alive}", "arn:aws:s3:::left-bucket"]
    assert len(dead) == 3
    assert is_dead(REGION, TaggedResource(f"{arn}:instance/i-0123456789abcdef0", "ec2", "instance"))


# --- the log sink receives no access logs after it was emptied ---------------------------------------------------


def test_access_logging_is_stopped_before_the_buckets_are_emptied(aws: str) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    owner = {"Project": "devsecops", "Environment": "dev"}
    for name in ("sink-bucket", "source-bucket", "foreign-bucket"):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    for name in ("sink-bucket", "source-bucket"):
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in owner.items()]})
    s3.put_bucket_acl(Bucket="sink-bucket", ACL="log-delivery-write")
    for source in ("source-bucket", "foreign-bucket"):
        s3.put_bucket_logging(
            Bucket=source, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "sink-bucket", "TargetPrefix": ""}}
        )
    stopped = stop_access_logging(REGION, ["sink-bucket", "source-bucket", "foreign-bucket"], owner)
    assert stopped == ["source-bucket"], "only owned buckets are touched"
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket="source-bucket")
    assert "LoggingEnabled" in s3.get_bucket_logging(Bucket="foreign-bucket")

"""A small AWS world on the moto server for the response tests, and real GuardDuty findings pointed at it.

The findings are GuardDuty sample findings (tests/data/guardduty, see SOURCES.md); `finding()` rewrites their
placeholder ids (i-99999999, GeneratedFindingUserName, ...) to resources created here and, unless asked
otherwise, clears `service.additionalInfo.sample` so they stand for real findings.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from provisioner.functions.response.decide import Home
from provisioner.functions.response.handler import Settings, respond
from provisioner.functions.response.outcome import Clients
from provisioner.functions.response.policy import load_policy
from tests.functions.helpers import DATA, REGION

SAMPLES = DATA / "guardduty" / "response"
NOW = datetime(2026, 12, 2, 3, 0, 0, tzinfo=UTC)
HOME = Home(frozenset({"973743533182"}), "us-east-2")  # the account and region of the GuardDuty samples


def sample(name: str) -> dict[str, Any]:
    return dict(json.loads((SAMPLES / name).read_text()))


def log_record(index: int) -> dict[str, Any]:
    lines = (DATA / "guardduty" / "test-guard_duty.log").read_text().splitlines()
    return dict(json.loads(lines[index]))


@dataclass
class World:
    clients: Clients
    vpc: str
    app_sg: str
    quarantine_sg: str
    instance: str
    enis: list[str]
    volumes: list[str]
    other_instance: str
    topic: str
    queue: str
    ip_set_arn: str
    user: str
    key: str
    role: str

    def settings(self, **policy: Any) -> Settings:
        return Settings(
            policy=load_policy({"dry_run": False, **policy}),
            quarantine_groups={self.vpc: self.quarantine_sg},
            topic_arn=self.topic,
            blocked_ip_set_arn=self.ip_set_arn,
            own_role_name="dso-dev-response-role",
            home=HOME,
        )

    def run(self, event: Any, **policy: Any) -> dict[str, Any]:
        return respond(event, self.settings(**policy), self.clients, NOW).as_dict()

    def finding(
        self, base: dict[str, Any], *, keep_sample: bool = False, instance: str | None = None
    ) -> dict[str, Any]:
        data = copy.deepcopy(base)
        details = data["resource"].get("instanceDetails")
        if details:
            details["instanceId"] = instance or self.instance
            for eni, live in zip(details.get("networkInterfaces", []), self.enis, strict=False):
                eni["networkInterfaceId"], eni["vpcId"] = live, self.vpc
        keys = data["resource"].get("accessKeyDetails")
        if keys:
            keys["userName"], keys["accessKeyId"] = self.user, self.key
        if not keep_sample:
            data["service"]["additionalInfo"]["sample"] = False
        return data

    def messages(self) -> list[str]:
        sqs = boto3.client("sqs", region_name=REGION)
        found = sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [m["Body"] for m in found.get("Messages", [])]

    def eni_groups(self) -> dict[str, list[str]]:
        enis = self.clients.ec2.describe_network_interfaces(NetworkInterfaceIds=self.enis)["NetworkInterfaces"]
        return {e["NetworkInterfaceId"]: sorted(g["GroupId"] for g in e["Groups"]) for e in enis}

    def snapshots(self) -> list[dict[str, Any]]:
        # moto pre-creates snapshots of its AMIs: look only at ours.
        found = self.clients.ec2.describe_snapshots(
            OwnerIds=["self"], Filters=[{"Name": "volume-id", "Values": self.volumes}]
        )
        return list(found["Snapshots"])

    def instance_tags(self, instance: str | None = None) -> dict[str, str]:
        found = self.clients.ec2.describe_instances(InstanceIds=[instance or self.instance])
        tags = found["Reservations"][0]["Instances"][0].get("Tags", [])
        return {t["Key"]: t["Value"] for t in tags}

    def termination_protected(self, instance: str | None = None) -> bool:
        answer = self.clients.ec2.describe_instance_attribute(
            InstanceId=instance or self.instance, Attribute="disableApiTermination"
        )
        return bool(answer["DisableApiTermination"]["Value"])

    def key_status(self) -> str:
        keys = self.clients.iam.list_access_keys(UserName=self.user)["AccessKeyMetadata"]
        return str(keys[0]["Status"])

    def blocked(self) -> list[str]:
        from provisioner.functions.response.ipblock import parse_ip_set_arn

        _, scope, name, set_id = parse_ip_set_arn(self.ip_set_arn)
        return list(self.clients.wafv2.get_ip_set(Name=name, Scope=scope, Id=set_id)["IPSet"]["Addresses"])


def _clients() -> Clients:
    return Clients(
        *(boto3.client(s, region_name=REGION) for s in ("ec2", "iam", "wafv2", "guardduty", "securityhub", "sns"))
    )


def _instance(ec2: Any, subnet: str, groups: list[str], enis: int) -> tuple[str, list[str], list[str]]:
    # Pre-created ENIs, as moto reports an attached ENI's groups merged with the instance's launch groups.
    ids = [
        ec2.create_network_interface(SubnetId=subnet, Groups=groups)["NetworkInterface"]["NetworkInterfaceId"]
        for _ in range(enis)
    ]
    launched = ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        NetworkInterfaces=[{"NetworkInterfaceId": ids[0], "DeviceIndex": 0}],
        BlockDeviceMappings=[
            {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}},
            {"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 1}},
        ],
    )["Instances"][0]
    instance = launched["InstanceId"]
    for index, eni in enumerate(ids[1:], start=1):
        ec2.attach_network_interface(NetworkInterfaceId=eni, InstanceId=instance, DeviceIndex=index)
    described = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]
    volumes = [m["Ebs"]["VolumeId"] for m in described["BlockDeviceMappings"]]
    return instance, ids, volumes


def build_world() -> World:
    """A fresh, uniquely named world: tests share one moto server without resetting it."""
    tag = uuid.uuid4().hex[:8]
    clients = _clients()
    ec2 = clients.ec2
    vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.10.0.0/20")["Subnet"]["SubnetId"]
    app = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    quarantine = ec2.create_security_group(GroupName="quarantine", Description="no rules", VpcId=vpc)["GroupId"]
    instance, enis, volumes = _instance(ec2, subnet, [app], 2)
    other, _, _ = _instance(ec2, subnet, [app], 1)
    topic = clients.sns.create_topic(Name=f"alerts-{tag}")["TopicArn"]
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName=f"alerts-inbox-{tag}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    clients.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    ip_set = clients.wafv2.create_ip_set(Name=f"blocked-{tag}", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=[])
    user, role = f"build-bot-{tag}", f"app-instance-role-{tag}"
    clients.iam.create_user(UserName=user)
    key = clients.iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    clients.iam.create_role(
        RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    return World(
        clients,
        vpc,
        app,
        quarantine,
        instance,
        enis,
        volumes,
        other,
        topic,
        queue,
        ip_set["Summary"]["ARN"],
        user,
        key,
        role,
    )

"""One test per moto compatibility fix, through boto3 against the real emulator process (fixes applied).

Each asserts the AWS behaviour the fix restores; on moto 5.2.5 without the fix each of these calls fails or
answers differently (the fix's docstring says how)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from provisioner.emulator import launcher
from provisioner.emulator.compat import FIXES, apply_all
from provisioner.project import Project

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("emulator")
    project = Project(root)
    running = launcher.ensure_running(project)
    yield running.endpoint
    launcher.stop(project)


@pytest.fixture()
def client(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")

    def make(service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=endpoint)

    return make


def test_every_fix_is_registered_and_tested() -> None:
    names = apply_all()
    source = Path(__file__).read_text()
    assert names == sorted(FIXES)
    assert [n for n in names if f"def test_{n}" not in source] == []


def _bucket(s3: Any, name: str) -> None:
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})


def test_policy_bool_secure_transport_is_ignored(client: Any) -> None:
    s3 = client("s3")
    _bucket(s3, "tls-only")
    arn = "arn:aws:s3:::tls-only"
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    s3.put_bucket_policy(Bucket="tls-only", Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]}))
    s3.put_object(Bucket="tls-only", Key="k", Body=b"v")  # AWS: TLS requests pass the TLS-only policy
    assert s3.get_object(Bucket="tls-only", Key="k")["Body"].read() == b"v"


def test_s3_logging_check_fails_on_wildcard_principal(client: Any) -> None:
    s3 = client("s3")
    for name in ("logs-sink", "logged"):
        _bucket(s3, name)
    sink = "arn:aws:s3:::logs-sink"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [sink, f"{sink}/*"],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": f"{sink}/*"},
        ],
    }  # fmt: skip
    s3.put_bucket_policy(Bucket="logs-sink", Policy=json.dumps(policy))
    s3.put_bucket_logging(
        Bucket="logged", BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "logs-sink", "TargetPrefix": ""}}
    )
    assert s3.get_bucket_logging(Bucket="logged")["LoggingEnabled"]["TargetBucket"] == "logs-sink"


def test_securityhub_update_configuration_missing(client: Any) -> None:
    hub = client("securityhub")
    hub.enable_security_hub(EnableDefaultStandards=False)
    hub.update_security_hub_configuration(AutoEnableControls=False, ControlFindingGenerator="STANDARD_CONTROL")
    described = hub.describe_hub()
    assert (described["AutoEnableControls"], described["ControlFindingGenerator"]) == (False, "STANDARD_CONTROL")


def _instance(ec2: Any) -> str:
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    return str(ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"])


def test_ec2_monitor_instances_missing(client: Any) -> None:
    ec2 = client("ec2")
    instance = _instance(ec2)
    reply = ec2.monitor_instances(InstanceIds=[instance])
    assert reply["InstanceMonitorings"] == [{"InstanceId": instance, "Monitoring": {"State": "enabled"}}]
    state = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["Monitoring"]
    assert state == {"State": "enabled"}


def test_codepipeline_metadata_timestamps_are_strings(client: Any) -> None:
    iam, pipeline = client("iam"), client("codepipeline")
    allow = {"Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"}, "Action": "sts:AssumeRole"}
    trust = {"Version": "2012-10-17", "Statement": [allow]}
    role = iam.create_role(RoleName="pipe", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    stages = [
        {"name": "Source", "actions": [{"name": "S", "actionTypeId": {"category": "Source", "owner": "AWS",
         "provider": "S3", "version": "1"}, "configuration": {"S3Bucket": "b", "S3ObjectKey": "k"},
         "outputArtifacts": [{"name": "src"}]}]},
        {"name": "Build", "actions": [{"name": "B", "actionTypeId": {"category": "Build", "owner": "AWS",
         "provider": "CodeBuild", "version": "1"}, "configuration": {"ProjectName": "p"},
         "inputArtifacts": [{"name": "src"}]}]},
    ]  # fmt: skip
    pipeline.create_pipeline(
        pipeline={
            "name": "p",
            "roleArn": role,
            "artifactStore": {"type": "S3", "location": "artifact-bucket"},
            "stages": stages,
        }
    )
    wire: list[dict[str, Any]] = []
    pipeline.meta.events.register(
        "after-call.codepipeline.GetPipeline", lambda http_response, **_: wire.append(json.loads(http_response.content))
    )
    pipeline.get_pipeline(name="p")
    # The JSON protocol carries timestamps as epoch numbers; the Go SDK refuses ISO strings here.
    assert all(isinstance(wire[0]["metadata"][k], int | float) for k in ("created", "updated"))


def test_guardduty_update_detector_replaces_features(client: Any) -> None:
    gd = client("guardduty")
    detector = gd.create_detector(Enable=True)["DetectorId"]
    gd.update_detector(DetectorId=detector, Features=[{"Name": "S3_DATA_EVENTS", "Status": "ENABLED"}])
    gd.update_detector(DetectorId=detector, Features=[{"Name": "EBS_MALWARE_PROTECTION", "Status": "ENABLED"}])
    names = sorted(f["Name"] for f in gd.get_detector(DetectorId=detector)["Features"])
    assert names == ["EBS_MALWARE_PROTECTION", "S3_DATA_EVENTS"]


def test_guardduty_publishing_destinations_not_routed(client: Any) -> None:
    gd = client("guardduty")
    detector = gd.create_detector(Enable=True)["DetectorId"]
    props = {"DestinationArn": "arn:aws:s3:::findings", "KmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/k"}
    made = gd.create_publishing_destination(DetectorId=detector, DestinationType="S3", DestinationProperties=props)
    got = gd.describe_publishing_destination(DetectorId=detector, DestinationId=made["DestinationId"])
    assert (got["Status"], got["DestinationProperties"]) == ("PUBLISHING", props)
    gd.delete_publishing_destination(DetectorId=detector, DestinationId=made["DestinationId"])
    assert gd.list_publishing_destinations(DetectorId=detector)["Destinations"] == []


def test_firehose_opensearch_destination_ignored(client: Any) -> None:
    firehose = client("firehose")
    config = {
        "RoleARN": "arn:aws:iam::123456789012:role/fh",
        "DomainARN": "arn:aws:es:eu-west-1:123456789012:domain/d",
        "IndexName": "waf",
        "S3Configuration": {"RoleARN": "arn:aws:iam::123456789012:role/fh", "BucketARN": "arn:aws:s3:::backup"},
    }
    firehose.create_delivery_stream(
        DeliveryStreamName="aws-waf-logs-x", AmazonopensearchserviceDestinationConfiguration=config
    )
    (dest,) = firehose.describe_delivery_stream(DeliveryStreamName="aws-waf-logs-x")["DeliveryStreamDescription"][
        "Destinations"
    ]
    described = dest["AmazonopensearchserviceDestinationDescription"]
    assert (described["DomainARN"], described["IndexName"]) == (config["DomainARN"], "waf")
    assert described["S3DestinationDescription"]["BucketARN"] == "arn:aws:s3:::backup"


def test_codebuild_codepipeline_projects_refused(client: Any) -> None:
    cb = client("codebuild")
    key = "arn:aws:kms:eu-west-1:123456789012:key/abc"
    cb.create_project(
        name="sca",
        source={"type": "CODEPIPELINE", "buildspec": "version: 0.2"},
        artifacts={"type": "CODEPIPELINE"},
        environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                     "computeType": "BUILD_GENERAL1_SMALL"},
        serviceRole="arn:aws:iam::123456789012:role/cb",
        encryptionKey=key,
    )  # fmt: skip
    cb.update_project(name="sca", description="updated")
    (project,) = cb.batch_get_projects(names=["sca"])["projects"]
    assert (project["encryptionKey"], project["description"], project["source"]["type"]) == (
        key,
        "updated",
        "CODEPIPELINE",
    )


def test_cloudtrail_delete_trail_by_arn_ignored(client: Any) -> None:
    s3, trail = client("s3"), client("cloudtrail")
    _bucket(s3, "trail-bucket")
    arn = trail.create_trail(Name="trail-1", S3BucketName="trail-bucket")["TrailARN"]
    trail.delete_trail(Name=arn)
    assert trail.describe_trails()["trailList"] == []


def test_wafv2_list_resources_for_web_acl_missing(client: Any) -> None:
    waf = client("wafv2")
    acl = waf.create_web_acl(
        Name="acl", Scope="REGIONAL", DefaultAction={"Allow": {}},
        VisibilityConfig={"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "m"},
    )["Summary"]["ARN"]  # fmt: skip
    assert waf.list_resources_for_web_acl(WebACLArn=acl)["ResourceArns"] == []


def test_ec2_empty_public_ip_association_serialized(client: Any) -> None:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/24")["Subnet"]["SubnetId"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    nic = {"DeviceIndex": 0, "SubnetId": subnet, "AssociatePublicIpAddress": False}
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, NetworkInterfaces=[nic])["Instances"][0]
    wire: list[str] = []
    ec2.meta.events.register(
        "after-call.ec2.DescribeInstances", lambda http_response, **_: wire.append(http_response.content.decode())
    )
    described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0]["Instances"][0]
    assert "Association" not in described["NetworkInterfaces"][0]
    assert "<association/>" not in wire[0], "the Go SDK reads an empty element as an association"


def test_lambda_dead_letter_and_logging_config_dropped(client: Any) -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    lam = client("lambda")
    allow = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    trust = json.dumps({"Version": "2012-10-17", "Statement": [allow]})
    role = client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    dlq = "arn:aws:sqs:eu-west-1:123456789012:dlq"
    lam.create_function(
        FunctionName="fn", Runtime="python3.12", Role=role, Handler="handler.handler",
        Code={"ZipFile": buffer.getvalue()}, DeadLetterConfig={"TargetArn": dlq}, LoggingConfig={"LogFormat": "JSON"},
    )  # fmt: skip
    config = lam.get_function(FunctionName="fn")["Configuration"]
    assert config["DeadLetterConfig"] == {"TargetArn": dlq}
    assert config["LoggingConfig"] == {"LogFormat": "JSON", "LogGroup": "/aws/lambda/fn"}
    lam.update_function_configuration(FunctionName="fn", LoggingConfig={"LogFormat": "Text", "LogGroup": "/custom"})
    assert lam.get_function(FunctionName="fn")["Configuration"]["LoggingConfig"]["LogGroup"] == "/custom"


def test_ec2_instance_groups_ignore_network_interface_groups(client: Any) -> None:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.2.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="scanner", Description="scanner", VpcId=vpc)["GroupId"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    nic = {"DeviceIndex": 0, "SubnetId": subnet, "Groups": [group], "AssociatePublicIpAddress": False}
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, NetworkInterfaces=[nic])["Instances"][0]
    described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0]["Instances"][0]
    assert [g["GroupId"] for g in described["SecurityGroups"]] == [group]


def test_ec2_group_rule_descriptions_dropped(client: Any) -> None:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    domain = ec2.create_security_group(GroupName="domain", Description="domain", VpcId=vpc)["GroupId"]
    members = ec2.create_security_group(GroupName="members", Description="members", VpcId=vpc)["GroupId"]
    pair = {"GroupId": members, "Description": "HTTPS from the members"}
    https = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    ingress = ec2.authorize_security_group_ingress(
        GroupId=domain, IpPermissions=[{**https, "UserIdGroupPairs": [pair]}]
    )
    egress = ec2.authorize_security_group_egress(
        GroupId=members, IpPermissions=[{**https, "UserIdGroupPairs": [{**pair, "GroupId": domain}]}]
    )
    ids = [r["SecurityGroupRuleId"] for r in ingress["SecurityGroupRules"] + egress["SecurityGroupRules"]]
    described = ec2.describe_security_group_rules(SecurityGroupRuleIds=ids)["SecurityGroupRules"]
    assert sorted((r["IsEgress"], r["ReferencedGroupInfo"]["GroupId"], r.get("Description")) for r in described) == [
        (False, members, "HTTPS from the members"),
        (True, domain, "HTTPS from the members"),
    ]
    cidr = ec2.authorize_security_group_ingress(
        GroupId=domain, IpPermissions=[{**https, "IpRanges": [{"CidrIp": "10.3.0.0/24", "Description": "subnet"}]}]
    )["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    assert ec2.describe_security_group_rules(SecurityGroupRuleIds=[cidr])["SecurityGroupRules"][0]["Description"] == (
        "subnet"
    )

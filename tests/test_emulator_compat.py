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

# Each test drives the real emulator process through boto3: `make test` only.
pytestmark = pytest.mark.slow

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


def test_stepfunctions_validate_definition_missing(client: Any) -> None:
    sfn = client("stepfunctions")
    good = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    assert sfn.validate_state_machine_definition(definition=json.dumps(good))["result"] == "OK"
    bad = sfn.validate_state_machine_definition(definition=json.dumps({"States": {}}))
    assert bad["result"] == "FAIL" and bad["diagnostics"][0]["severity"] == "ERROR"
    assert sfn.validate_state_machine_definition(definition="{not json")["result"] == "FAIL"
    processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, **good}
    mapped = {"Type": "Map", "ItemProcessor": processor, "ToleratedFailurePercentage": 10, "End": True}
    as_aws_takes_it = {"StartAt": "M", "States": {"M": mapped}}  # an integer percentage, as jsonencode writes it
    assert sfn.validate_state_machine_definition(definition=json.dumps(as_aws_takes_it))["result"] == "OK"


def test_stepfunctions_list_state_machine_versions_missing(client: Any) -> None:
    iam, sfn = client("iam"), client("stepfunctions")
    allow = {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
    trust = {"Version": "2012-10-17", "Statement": [allow]}
    role = iam.create_role(RoleName="states", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    definition = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    plain = sfn.create_state_machine(name="plain", definition=definition, roleArn=role)["stateMachineArn"]
    assert sfn.list_state_machine_versions(stateMachineArn=plain)["stateMachineVersions"] == []
    published = sfn.create_state_machine(name="pub", definition=definition, roleArn=role, publish=True)
    listed = sfn.list_state_machine_versions(stateMachineArn=published["stateMachineArn"])["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in listed] == [published["stateMachineVersionArn"]]


# --- Lambda functions run from their own zip (compat.lambdas) and domains with a data plane (opensearch_data)

_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip


def _role(client: Any) -> str:
    iam = client("iam")
    try:
        return str(iam.get_role(RoleName="fn")["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        return str(iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(_TRUST))["Role"]["Arn"])


def _zip(files: dict[str, str]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


_PROBE = """
import json, logging, os, time
import provisioner
log = logging.getLogger()
log.setLevel(logging.INFO)

def handler(event, context):
    log.info("got %s", json.dumps(event, sort_keys=True))
    if event.get("fail"):
        raise ValueError("asked to fail")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"arn": context.invoked_function_arn, "remaining": context.get_remaining_time_in_millis(),
            "mode": os.environ.get("MODE"), "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
            "code_from": provisioner.__file__}
"""


def _function(client: Any, name: str, code: bytes, handler: str, env: dict[str, str] | None = None) -> str:
    fn = client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=_role(client), Handler=handler, Code={"ZipFile": code},
        Timeout=2, Environment={"Variables": env or {}},
    )  # fmt: skip
    return str(fn["FunctionArn"])


def _probe(client: Any, name: str) -> str:
    code = _zip({"provisioner/__init__.py": "", "provisioner/probe.py": _PROBE})
    return _function(client, name, code, "provisioner.probe.handler", {"MODE": "probe"})


def _invoke(client: Any, name: str, event: dict[str, Any]) -> dict[str, Any]:
    reply = client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode(), LogType="Tail")
    import base64

    return {
        **reply,
        "Payload": json.loads(reply["Payload"].read()),
        "Log": base64.b64decode(reply["LogResult"]).decode(),
    }


def _log_lines(client: Any, group: str, wanted: str, timeout: float = 30.0) -> list[str]:
    import time

    logs, deadline = client("logs"), time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            lines = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
        except logs.exceptions.ResourceNotFoundException:
            lines = []
        if any(wanted in line for line in lines):
            return lines
        time.sleep(0.3)
    raise AssertionError(f"{wanted!r} never logged in {group}")


def test_lambda_invoke_needs_docker(client: Any, endpoint: str) -> None:
    arn = _probe(client, "probe")
    ok = _invoke(client, "probe", {"hello": "world"})
    assert "FunctionError" not in ok
    payload = ok["Payload"]
    assert (payload["arn"], payload["mode"], payload["endpoint"]) == (arn, "probe", endpoint)
    assert 0 < payload["remaining"] <= 2000
    assert "provision-lambda" in payload["code_from"]  # the deployed zip, not the installed package
    assert 'got {"hello": "world"}' in ok["Log"] and "REPORT RequestId:" in ok["Log"]
    failed = _invoke(client, "probe", {"fail": True})
    assert failed["FunctionError"] == "Unhandled"
    assert (failed["Payload"]["errorType"], failed["Payload"]["errorMessage"]) == ("ValueError", "asked to fail")
    timed_out = _invoke(client, "probe", {"sleep": 5})
    assert timed_out["FunctionError"] == "Unhandled"
    assert "Task timed out after 2.00 seconds" in timed_out["Payload"]["errorMessage"]
    assert any("asked to fail" in line for line in _log_lines(client, "/aws/lambda/probe", "Task timed out"))


def test_lambda_invoke_runs_the_findings_importer_from_its_package(client: Any) -> None:
    from provisioner.package import LAMBDA_FUNCTIONS, build_zip_bytes

    s3 = client("s3")
    _bucket(s3, "reports")
    key = "zap/org/app/main/42/report.json"
    s3.put_object(
        Bucket="reports", Key=key, Body=(Path(__file__).parent / "data/zap/report_json-2.8.0.json").read_bytes()
    )
    client("securityhub").enable_security_hub(EnableDefaultStandards=False)
    _function(client, "importer", build_zip_bytes(), LAMBDA_FUNCTIONS["findings_importer"])
    client("lambda").update_function_configuration(FunctionName="importer", Timeout=60)
    reply = _invoke(client, "importer", {"Records": [{"s3": {"bucket": {"name": "reports"}, "object": {"key": key}}}]})
    assert "FunctionError" not in reply, reply["Payload"]
    findings = client("securityhub").get_findings()["Findings"]
    assert findings and {f["ProductFields"].get("provision/tool") for f in findings} <= {"zap", None}
    assert len(findings) == reply["Payload"]["results"][0]["imported"]


def test_events_lambda_and_sns_targets_unsupported(client: Any) -> None:
    arn = _probe(client, "on-event")
    sqs, sns, events = client("sqs"), client("sns"), client("events")
    topic = sns.create_topic(Name="high")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    events.put_rule(Name="gd", EventPattern=json.dumps({"source": ["aws.guardduty"]}))
    events.put_targets(Rule="gd", Targets=[{"Id": "fn", "Arn": arn}, {"Id": "topic", "Arn": topic}])
    detail = {"Source": "aws.guardduty", "DetailType": "GuardDuty Finding", "Detail": '{"severity": 8}'}
    events.put_events(Entries=[detail])
    lines = _log_lines(client, "/aws/lambda/on-event", '"detail": {"severity": 8}')
    assert any('"detail-type": "GuardDuty Finding"' in line for line in lines)
    message = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5)["Messages"][0]["Body"]
    assert json.loads(message)["detail"] == {"severity": 8}


def test_log_subscription_reaches_the_function(client: Any) -> None:
    arn = _probe(client, "on-logs")
    logs = client("logs")
    logs.create_log_group(logGroupName="trail")
    logs.create_log_stream(logGroupName="trail", logStreamName="s")
    logs.put_subscription_filter(logGroupName="trail", filterName="all", filterPattern="", destinationArn=arn)
    logs.put_log_events(logGroupName="trail", logStreamName="s", logEvents=[{"timestamp": 1, "message": "x"}])
    assert _log_lines(client, "/aws/lambda/on-logs", '"awslogs": {"data": ')


def test_opensearch_domain_has_no_data_plane(client: Any) -> None:
    import time
    import urllib.request

    from provisioner.package import LAMBDA_FUNCTIONS, build_zip_bytes

    domain = client("opensearch").create_domain(DomainName="logs")["DomainStatus"]
    address = domain.get("Endpoint") or domain["Endpoints"]["vpc"]
    assert address.startswith("127.0.0.1:")
    assert client("opensearch").describe_domain(DomainName="logs")["DomainStatus"]["Endpoint"] == address
    env = {"OPENSEARCH_ENDPOINT": f"https://{address}", "INDEX_PREFIX": "logs"}
    _function(client, "gd-normalizer", build_zip_bytes(), LAMBDA_FUNCTIONS["guardduty_normalizer"], env)
    finding = json.loads((Path(__file__).parent / "data/guardduty/test-guard_duty.log").read_text().splitlines()[0])
    reply = _invoke(client, "gd-normalizer", finding)
    assert "FunctionError" not in reply, reply["Payload"]
    assert reply["Payload"]["indexed"] == 1
    time.sleep(1.1)  # osmem's refresh interval
    with urllib.request.urlopen(f"http://{address}/logs-guardduty-*/_search", timeout=10) as answer:
        assert json.load(answer)["hits"]["total"]["value"] == 1


def test_configurator_applies_what_the_data_plane_supports(client: Any) -> None:
    from provisioner.opensearch.content import Settings, build
    from provisioner.package import LAMBDA_FUNCTIONS, build_zip_bytes

    domain = client("opensearch").create_domain(DomainName="configured")["DomainStatus"]
    address = domain.get("Endpoint") or domain["Endpoints"]["vpc"]
    _function(client, "configurator", build_zip_bytes(), LAMBDA_FUNCTIONS["opensearch_configurator"])
    client("lambda").update_function_configuration(FunctionName="configurator", Timeout=120)
    settings = Settings(
        analyst_role_arns=(), retention={"cloudtrail": (30, 365), "guardduty": (30, 365), "waf": (7, 90)}
    )
    content = build(settings, Path(__file__).resolve().parents[1])
    kinds = {obj["kind"] for obj in content["objects"]}
    event = {"mode": "apply", "endpoint": f"https://{address}", "admin_role_arn": _role(client),
             "bindings": {name: _role(client) for name in ("admin_role_arn", "alerts_publish_role_arn")}
             | {"ingest_role_arns": [_role(client)], "alerts_topic_arn": "arn:aws:sns:eu-west-1:123456789012:t"},
             "content": json.dumps(content)}  # fmt: skip
    first = _invoke(client, "configurator", event)
    assert "FunctionError" not in first, first["Payload"]
    templates = sum(1 for obj in content["objects"] if obj["kind"] == "index_template")
    assert first["Payload"]["counts"]["created"] == templates
    assert set(first["Payload"]["skipped"]) == kinds - {"index_template"}
    assert "skipped, no such API on this engine:" in first["Log"]
    second = _invoke(client, "configurator", event)["Payload"]
    assert second["counts"].get("unchanged") == templates and "created" not in second["counts"]


def test_s3_notification_key_encodes_slashes(client: Any) -> None:
    arn = _probe(client, "on-object")
    s3 = client("s3")
    _bucket(s3, "notified")
    notify = {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
    s3.put_bucket_notification_configuration(
        Bucket="notified", NotificationConfiguration={"LambdaFunctionConfigurations": [notify]}
    )
    s3.put_object(Bucket="notified", Key="zap/org/app/main/7/a report.json", Body=b"{}")
    assert _log_lines(client, "/aws/lambda/on-object", '"key": "zap/org/app/main/7/a+report.json"')


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

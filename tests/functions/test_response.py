"""GuardDuty automated response on the moto server: real sample findings rewritten to resources made here."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from provisioner.functions.response.decide import decide
from provisioner.functions.response.ipblock import sweep_expired
from provisioner.functions.response.policy import PolicyError, load_policy
from tests.functions.helpers import ACCOUNT, REGION, LambdaContext
from tests.functions.response_world import HOME, NOW, World, build_world, log_record, sample

EC2_HIGH = "ec2-backdoor-dos-tcp.json"  # Backdoor:EC2/DenialOfService.Tcp, severity 8
IAM_USER = "iamuser-tor-ip-caller.json"  # UnauthorizedAccess:IAMUser/TorIPCaller, severity 5
INBOUND_IP = "ec2-malicious-ip-caller-custom-inbound.json"  # UnauthorizedAccess:EC2/MaliciousIPCaller.Custom, 5


@pytest.fixture(scope="module")
def moto_env(moto_server: str) -> Iterator[str]:
    """The `aws` fixture's environment for the whole module, reset once at the end.

    Each test builds its own uniquely named world instead of resetting moto (a reset costs ~4 s and the
    first IAM call after it ~3 s, as it reloads the managed policies)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ENDPOINT_URL": moto_server,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_REGION": "eu-west-1",
        }.items():
            patch.setenv(name, value)
        yield moto_server
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).read()


@pytest.fixture()
def world(moto_env: str) -> World:
    return build_world()


def _statuses(report: dict[str, Any]) -> dict[str, str]:
    return {a["action"]: a["status"] for a in report["actions"]}


def _unchanged(world: World) -> None:
    assert all(groups == [world.app_sg] for groups in world.eni_groups().values())
    assert world.snapshots() == []
    assert not any(k.startswith("gd-response:") for k in world.instance_tags())
    assert world.termination_protected() is False


def test_high_severity_ec2_finding_isolates_snapshots_protects_tags_and_notifies(world: World) -> None:
    finding = world.finding(sample(EC2_HIGH))
    report = world.run({"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": finding})

    assert report["finding"] == {"id": finding["id"], "type": "Backdoor:EC2/DenialOfService.Tcp", "severity": 8.0}
    assert report["skipped_reason"] is None
    assert _statuses(report) == {
        "isolate_network": "done",
        "protect_termination": "done",
        "snapshot_volumes": "done",
        "tag_instance": "done",
        "note_finding": "failed",  # moto has neither UpdateFindingsFeedback nor BatchUpdateFindings
    }
    assert world.eni_groups() == {eni: [world.quarantine_sg] for eni in world.enis}
    snapshots = world.snapshots()
    assert sorted(s["VolumeId"] for s in snapshots) == sorted(world.volumes)
    for snap in snapshots:
        tags = {t["Key"]: t["Value"] for t in snap["Tags"]}
        assert tags["gd-response:finding-id"] == finding["id"]
        assert tags["gd-response:instance-id"] == world.instance
    assert world.termination_protected() is True
    tags = world.instance_tags()
    assert tags["gd-response:finding-id"] == finding["id"] and tags["gd-response:status"] == "isolated"
    note = next(a for a in report["actions"] if a["action"] == "note_finding")
    assert note["details"][0].startswith("GuardDuty UpdateFindingsFeedback failed")
    assert note["details"][1].startswith("Security Hub BatchUpdateFindings failed")
    # The other instance in the same VPC is untouched.
    assert world.instance_tags(world.other_instance) == {}
    [body] = world.messages()
    assert "isolate_network" in body and "To undo:" in body and world.app_sg in body
    assert "already tracked" in body
    assert "Connection in the finding: OUTBOUND TCP remote 81.2.69.144:80, local port 24198" in body


def test_second_run_changes_nothing_more(world: World) -> None:
    finding = world.finding(sample(EC2_HIGH))
    world.run(finding)
    first_snapshots = sorted(s["SnapshotId"] for s in world.snapshots())
    first_tags = world.instance_tags()
    world.messages()

    again = world.run(finding)
    assert set(_statuses(again).values()) == {"already_done"}
    assert sorted(s["SnapshotId"] for s in world.snapshots()) == first_snapshots
    assert world.instance_tags() == first_tags
    assert world.eni_groups() == {eni: [world.quarantine_sg] for eni in world.enis}
    # The original groups recorded on the ENI survive the re-run (not overwritten with the quarantine group).
    eni_tags = world.clients.ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [world.enis[0]]}])["Tags"]
    assert {t["Key"]: t["Value"] for t in eni_tags}["gd-response:original-groups"] == world.app_sg
    assert world.messages() == []  # nothing new done: the high-severity alert itself comes from the guardduty rule


@pytest.mark.parametrize(
    ("case", "reason"),
    [("sample", "sample finding generated by GuardDuty"), ("archived", "archived finding")],
)
def test_sample_and_archived_findings_take_no_action(world: World, case: str, reason: str) -> None:
    finding = world.finding(sample(EC2_HIGH), keep_sample=case == "sample")
    if case == "archived":
        finding["service"]["archived"] = True
    report = world.run(finding)
    assert report["actions"] == [] and report["skipped_reason"] == reason
    _unchanged(world)


def test_low_severity_finding_takes_no_action(world: World) -> None:
    finding = world.finding(log_record(1))  # Impact:EC2/WinRMBruteForce, severity 2
    report = world.run(finding)
    assert report["skipped_reason"] == "severity 2 is below the threshold of every applicable action"
    assert set(_statuses(report).values()) == {"below_threshold"}
    _unchanged(world)
    assert world.messages() == []  # below notify.no_action_min_severity (7)


@pytest.mark.parametrize("where", ["finding", "live", "listed"])
def test_exempt_instance_is_only_reported(world: World, where: str) -> None:
    finding = world.finding(sample(EC2_HIGH))
    policy: dict[str, Any] = {"exempt_tag": {"protected": True}}
    if where == "listed":
        policy = {"exempt_instances": [world.instance]}
    else:
        tag = [{"Key": "SecurityResponse", "Value": "exempt"}]
        world.clients.ec2.create_tags(Resources=[world.instance], Tags=tag)
    if where == "finding":
        finding["resource"]["instanceDetails"]["tags"].append({"key": "SecurityResponse", "value": "exempt"})
    report = world.run(finding, **policy)
    assert set(_statuses(report).values()) == {"exempt"}
    assert "exempt" in (report["skipped_reason"] or "")
    assert world.snapshots() == [] and world.termination_protected() is False
    assert all(g == [world.app_sg] for g in world.eni_groups().values())
    [body] = world.messages()
    assert "exempt" in body


def test_an_exempt_tag_whose_key_is_not_protected_exempts_nothing(world: World) -> None:
    # Before: anyone allowed to tag an instance could exempt it from isolation.
    finding = world.finding(sample(EC2_HIGH))
    world.clients.ec2.create_tags(Resources=[world.instance], Tags=[{"Key": "SecurityResponse", "Value": "exempt"}])
    finding["resource"]["instanceDetails"]["tags"].append({"key": "SecurityResponse", "value": "exempt"})
    report = world.run(finding)
    assert _statuses(report)["isolate_network"] == "done"
    assert world.eni_groups() == {eni: [world.quarantine_sg] for eni in world.enis}


def test_dry_run_changes_nothing_but_reports(world: World) -> None:
    finding = world.finding(sample(EC2_HIGH))
    report = world.run(finding, dry_run=True)
    assert set(_statuses(report).values()) == {"dry_run"}
    _unchanged(world)
    [body] = world.messages()
    assert "dry_run" in body


def test_access_key_is_deactivated_only_when_the_policy_enables_it(world: World) -> None:
    finding = world.finding(sample(IAM_USER))
    finding["resource"]["accessKeyDetails"]["accessKeyId"] = world.key
    off = world.run(finding, actions={"deactivate_access_key": {"min_severity": 5}})
    assert _statuses(off) == {"deactivate_access_key": "disabled"}
    assert world.key_status() == "Active"

    on = world.run(finding, actions={"deactivate_access_key": {"enabled": True, "min_severity": 5}})
    assert _statuses(on)["deactivate_access_key"] == "done"
    assert world.key_status() == "Inactive"
    again = world.run(finding, actions={"deactivate_access_key": {"enabled": True, "min_severity": 5}})
    assert _statuses(again)["deactivate_access_key"] == "already_done"


def test_instance_credential_exfiltration_revokes_older_role_sessions(world: World) -> None:
    # Built from the TorIPCaller sample: type and user type changed to the instance-credential case.
    finding = world.finding(sample(IAM_USER))
    finding["type"] = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"
    finding["severity"] = 8
    finding["resource"]["accessKeyDetails"].update(userType="AssumedRole", userName=world.role)
    unlisted = world.run(finding)  # neither listed nor tagged: the role may not touch it, so it does not try
    assert _statuses(unlisted)["revoke_role_sessions"] == "not_applicable"
    assert "neither in the policy's revocable_roles nor tagged SecurityResponseRevocable=true" in str(unlisted)
    report = world.run(finding, revocable_roles=[world.role])
    assert _statuses(report)["revoke_role_sessions"] == "done"
    document = world.clients.iam.get_role_policy(RoleName=world.role, PolicyName="AWSRevokeOlderSessions")
    statement = document["PolicyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"DateLessThan": {"aws:TokenIssueTime": "2026-12-02T03:00:00Z"}}
    world.clients.iam.tag_role(RoleName=world.role, Tags=[{"Key": "SecurityResponseRevocable", "Value": "true"}])
    assert _statuses(world.run(finding))["revoke_role_sessions"] == "already_done"  # tagged: revocable too


def test_inbound_remote_ip_is_blocked_in_the_waf_ip_set_and_expires(world: World) -> None:
    finding = world.finding(sample(INBOUND_IP))
    report = world.run(finding, actions={"block_remote_ip": {"min_severity": 5, "expiry_hours": 2}})
    assert _statuses(report)["block_remote_ip"] == "done"
    assert world.blocked() == ["81.2.69.144/32"]
    assert _statuses(world.run(finding, actions={"block_remote_ip": {"min_severity": 5}}))["block_remote_ip"] == (
        "already_done"
    )
    from datetime import timedelta

    assert sweep_expired(world.clients.wafv2, world.ip_set_arn, NOW + timedelta(hours=1)) == []
    assert sweep_expired(world.clients.wafv2, world.ip_set_arn, NOW + timedelta(hours=3)) == ["81.2.69.144/32"]
    assert world.blocked() == []


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("not an object", "malformed event: expected a JSON object, got str"),
        (
            {"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "detail": {}},
            "not a GuardDuty",
        ),
        ({"type": "Backdoor:EC2/X", "severity": 8}, "missing or invalid finding id"),
    ],
)
def test_malformed_events_are_notified_without_action(world: World, event: Any, reason: str) -> None:
    report = world.run(event)
    assert reason in report["skipped_reason"] and report["actions"] == [] and report["notified"] is True
    [body] = world.messages()
    assert "Outcome: malformed event" in body
    _unchanged(world)


def test_unknown_finding_type_is_notified_without_action(world: World) -> None:
    finding = world.finding(log_record(0))  # Impact:S3/MaliciousIPCaller: no automated response defined
    report = world.run(finding)
    assert report["skipped_reason"] == "unknown finding type Impact:S3/MaliciousIPCaller: no automated response defined"
    assert report["notified"] is True and report["actions"] == []
    _unchanged(world)


def test_vanished_instance_is_notified_and_nothing_else_is_touched(world: World) -> None:
    world.clients.ec2.terminate_instances(InstanceIds=[world.instance])
    report = world.run(world.finding(sample(EC2_HIGH)))
    assert set(_statuses(report).values()) == {"resource_missing"}
    assert report["skipped_reason"].startswith("no action taken: instance") and report["notified"] is True
    assert world.snapshots() == []
    assert world.instance_tags(world.other_instance) == {} and not world.termination_protected(world.other_instance)
    [body] = world.messages()
    assert "resource_missing" in body


def test_invalid_instance_id_in_a_finding_is_refused(world: World) -> None:
    finding = world.finding(sample(EC2_HIGH), instance="i-99999999; rm")
    report = world.run(finding)
    assert report["skipped_reason"].startswith("malformed finding: EC2 finding without a valid instance id")
    _unchanged(world)


def test_lambda_handler_end_to_end_from_environment(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from provisioner.functions.response.handler import lambda_handler

    monkeypatch.setenv("RESPONSE_POLICY", json.dumps({"dry_run": False}))
    monkeypatch.setenv("QUARANTINE_GROUPS", json.dumps({world.vpc: world.quarantine_sg}))
    monkeypatch.setenv("ALERT_TOPIC_ARN", world.topic)
    monkeypatch.setenv("BLOCKED_IP_SET_ARN", world.ip_set_arn)
    detail = world.finding(sample(EC2_HIGH)) | {"accountId": ACCOUNT, "region": REGION}  # the function's own
    event = {"source": "aws.guardduty", "detail-type": "GuardDuty Finding", "detail": detail}
    unknown_account = lambda_handler(event, None)  # no context: the function cannot tell its account, so no action
    assert unknown_account["actions"] == [] and "not of this account (unknown)" in unknown_account["skipped_reason"]
    _unchanged(world)
    report = lambda_handler(event, LambdaContext())
    assert _statuses(report)["isolate_network"] == "done"
    assert lambda_handler({"source": "aws.events", "detail-type": "Scheduled Event"}, None) == {"swept": []}
    monkeypatch.setenv("RESPONSE_POLICY", "{not json")
    broken = lambda_handler(event, LambdaContext())
    assert broken["skipped_reason"].startswith("internal error before any action: JSONDecodeError")
    assert broken["notified"] is True


def test_decision_is_pure_and_reads_getfindings_pascal_case() -> None:
    finding = sample(EC2_HIGH)
    finding["service"]["additionalInfo"]["sample"] = False

    def pascal(value: Any) -> Any:
        if isinstance(value, dict):
            return {k[:1].upper() + k[1:]: pascal(v) for k, v in value.items()}
        return [pascal(v) for v in value] if isinstance(value, list) else value

    policy = load_policy({"dry_run": False})
    raw = decide(finding, policy).as_dict()
    assert decide({"Findings": [pascal(finding)]}, policy).as_dict() == raw
    assert [a["status"] for a in raw["actions"]] == ["planned"] * 4


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"dryrun": True}, "dryrun"),
        ({"dry_run": "yes"}, "dry_run"),
        ({"actions": {"isolate_instance": {"min_severity": 11}}}, "actions.isolate_instance.min_severity"),
        ({"actions": {"isolate_instance": {"enabled": 1}}}, "actions.isolate_instance.enabled"),
        ({"actions": {"isolate_instance": {"expiry_hours": 3}}}, "actions.isolate_instance.expiry_hours"),
        ({"actions": {"block_remote_ip": {"expiry_hours": 0}}}, "actions.block_remote_ip.expiry_hours"),
        ({"exempt_tag": {"key": ""}}, "exempt_tag.key"),
        ({"exempt_tag": {"protected": "yes"}}, "exempt_tag.protected"),
        ({"exempt_instances": ["i-1; rm"]}, "exempt_instances"),
        ({"revocable_roles": "admin"}, "revocable_roles"),
    ],
)
def test_policy_errors_name_the_key(raw: dict[str, Any], key: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(raw)
    assert caught.value.key == key


@pytest.mark.parametrize(
    ("finding_type", "steps"),
    [
        ("Recon:EC2/Portscan", 4),  # the instance scans others: isolate
        ("Execution:Runtime/NewBinaryExecuted", 4),  # Runtime Monitoring on an EC2 instance
        ("Recon:EC2/PortProbeUnprotectedPort", 0),  # the instance is probed: block the prober only
    ],
)
def test_instance_finding_families(finding_type: str, steps: int) -> None:
    finding = sample(INBOUND_IP)  # inbound connection from 81.2.69.144
    finding["service"]["additionalInfo"]["sample"] = False
    finding.update(type=finding_type, severity=8)
    decision = decide(finding, load_policy({"dry_run": False})).as_dict()
    isolation = [a for a in decision["actions"] if a["action"] != "block_remote_ip"]
    assert len(isolation) == steps
    assert decision["actions"][-1] == {
        "action": "block_remote_ip",
        "resource": "81.2.69.144/32",
        "status": "planned",
        "reason": None,
    }


def test_private_remote_ip_is_never_blocked() -> None:
    finding = sample(INBOUND_IP)
    finding["service"]["additionalInfo"]["sample"] = False
    finding["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]["ipAddressV4"] = "10.0.0.9"
    decision = decide(finding, load_policy({"dry_run": False, "actions": {"block_remote_ip": {"min_severity": 1}}}))
    assert [(a.action, a.status) for a in decision.actions if a.action == "block_remote_ip"] == [
        ("block_remote_ip", "not_applicable")
    ]


def test_exempt_user_vanished_key_and_own_role_are_left_alone(world: World) -> None:
    policy = {
        "actions": {"deactivate_access_key": {"enabled": True, "min_severity": 5}},
        "exempt_tag": {"protected": True},
    }
    finding = world.finding(sample(IAM_USER))
    world.clients.iam.tag_user(UserName=world.user, Tags=[{"Key": "SecurityResponse", "Value": "exempt"}])
    assert _statuses(world.run(finding, **policy))["deactivate_access_key"] == "exempt"
    assert world.key_status() == "Active"

    world.clients.iam.untag_user(UserName=world.user, TagKeys=["SecurityResponse"])
    world.clients.iam.delete_access_key(UserName=world.user, AccessKeyId=world.key)
    gone = world.run(finding, **policy)
    assert _statuses(gone)["deactivate_access_key"] == "resource_missing"
    assert gone["skipped_reason"] == f"no action taken: access key {world.key} of {world.user} no longer exists"

    own = world.finding(sample(IAM_USER))
    own.update(type="UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS", severity=8)
    own["resource"]["accessKeyDetails"].update(userType="AssumedRole", userName="dso-dev-response-role")
    refused = world.run(own)
    assert _statuses(refused)["revoke_role_sessions"] == "not_applicable"


def _real(name: str) -> dict[str, Any]:
    finding = sample(name)
    finding["service"]["additionalInfo"]["sample"] = False
    return finding


def test_only_findings_of_the_home_account_and_region_are_acted_on() -> None:
    policy = load_policy({"dry_run": False})
    home = HOME
    ours = decide(_real(EC2_HIGH), policy, home)
    assert [a.status for a in ours.actions] == ["planned"] * 4
    member = decide(_real(EC2_HIGH) | {"accountId": "999999999999"}, policy, home)
    assert member.actions == () and member.notify
    assert member.skipped_reason == "finding of account 999999999999, not of this account (973743533182): reported only"
    elsewhere = decide(_real(EC2_HIGH) | {"region": "eu-west-1"}, policy, home)
    assert elsewhere.actions == () and "not of this region (us-east-2)" in (elsewhere.skipped_reason or "")


def test_samples_are_recognised_in_every_finding_shape() -> None:
    # Before: GetFindings output carries additionalInfo.Value as a JSON string and was planned for isolation.
    policy = load_policy({"dry_run": False})
    event_shape = sample(EC2_HIGH)  # additionalInfo: {"sample": true}
    string_shape = _real(EC2_HIGH)
    string_shape["service"]["additionalInfo"] = {"value": '{"sample":true}', "type": "default"}
    getfindings = {"Findings": [_pascal(string_shape)]}
    for event in (event_shape, string_shape, getfindings):
        decision = decide(event, policy, HOME)
        assert (decision.actions, decision.skipped_reason) == ((), "sample finding generated by GuardDuty")
    not_sample = _real(EC2_HIGH)
    not_sample["service"]["additionalInfo"] = {"value": '{"sample":false}', "type": "default"}
    assert len(decide(not_sample, policy, HOME).actions) == 4


def test_a_finding_without_a_resource_is_malformed_not_of_unknown_type() -> None:
    finding = _real(EC2_HIGH)
    del finding["resource"]
    decision = decide(finding, load_policy({"dry_run": False}), HOME)
    assert decision.actions == () and decision.notify
    assert decision.skipped_reason == "malformed finding: it names no resource (resource.resourceType)"


def _pascal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k[:1].upper() + k[1:]: _pascal(v) for k, v in value.items()}
    return [_pascal(v) for v in value] if isinstance(value, list) else value

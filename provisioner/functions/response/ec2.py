"""Instance isolation: quarantine security group on every ENI, termination protection, snapshots, tags.

Every step reads the live state first and changes only what differs, so a second run reports
`already_done`. Only the instance named by the finding and the ENIs/volumes attached to it are touched.
"""

from __future__ import annotations

from typing import Any

from provisioner.functions.common import error_code
from provisioner.functions.response.outcome import (
    ALREADY,
    DONE,
    EXEMPT,
    FAILED,
    MISSING,
    Context,
    Outcome,
    aws_tags,
    tag_map,
)

_MISSING_CODES = {"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"}


def describe_instance(ec2: Any, instance_id: str) -> dict[str, Any] | None:
    """The live instance, or None when it no longer exists (terminated instances count as gone)."""
    try:
        reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    except Exception as exc:
        if error_code(exc) in _MISSING_CODES:
            return None
        raise
    for reservation in reservations:
        for instance in reservation.get("Instances", []):
            if instance.get("InstanceId") == instance_id:
                state = instance.get("State", {}).get("Name")
                return None if state in ("terminated", "shutting-down") else dict(instance)
    return None


def isolate_network(ec2: Any, ctx: Context, instance: dict[str, Any], out: Outcome) -> None:
    vpc = str(instance.get("VpcId", ""))
    quarantine = ctx.quarantine_groups.get(vpc)
    if not quarantine:
        out.status, out.reason = FAILED, f"no quarantine security group is managed for {vpc or 'this instance'}"
        return
    changed = False
    for eni in instance.get("NetworkInterfaces", []):
        eni_id = eni["NetworkInterfaceId"]
        groups = sorted(g["GroupId"] for g in eni.get("Groups", []))
        if groups == [quarantine]:
            out.details.append(f"{eni_id}: already only in {quarantine}")
            continue
        # Keep the original groups on the ENI itself, once: a re-run must not overwrite them with the quarantine.
        tags = tag_map(ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [eni_id]}]).get("Tags"))
        original = tags.get(ctx.tag("original-groups")) or " ".join(groups)
        ec2.create_tags(Resources=[eni_id], Tags=aws_tags({ctx.tag("original-groups"): original}))
        ec2.modify_network_interface_attribute(NetworkInterfaceId=eni_id, Groups=[quarantine])
        out.details.append(f"{eni_id}: {' '.join(groups) or '(none)'} -> {quarantine}")
        out.undo.append(
            f"aws ec2 modify-network-interface-attribute --network-interface-id {eni_id} --groups {original}"
        )
        changed = True
    out.status = DONE if changed else ALREADY


def protect_termination(ec2: Any, ctx: Context, instance: dict[str, Any], out: Outcome) -> None:
    instance_id = instance["InstanceId"]
    current = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="disableApiTermination")
    if current.get("DisableApiTermination", {}).get("Value") is True:
        out.status = ALREADY
        return
    ec2.modify_instance_attribute(InstanceId=instance_id, DisableApiTermination={"Value": True})
    out.status = DONE
    out.undo.append(f"aws ec2 modify-instance-attribute --instance-id {instance_id} --no-disable-api-termination")


def snapshot_volumes(ec2: Any, ctx: Context, instance: dict[str, Any], out: Outcome) -> None:
    instance_id, finding_id = instance["InstanceId"], ctx.finding.id
    changed = False
    for mapping in instance.get("BlockDeviceMappings", []):
        volume = mapping.get("Ebs", {}).get("VolumeId")
        if not volume:
            continue
        existing = ec2.describe_snapshots(
            OwnerIds=["self"],
            Filters=[
                {"Name": "volume-id", "Values": [volume]},
                {"Name": f"tag:{ctx.tag('finding-id')}", "Values": [finding_id]},
            ],
        ).get("Snapshots", [])
        kept = [s for s in existing if s.get("State") != "error"]
        if kept:
            out.details.append(f"{volume}: {kept[0]['SnapshotId']} (exists)")
            continue
        tags = {
            ctx.tag("finding-id"): finding_id,
            ctx.tag("finding-type"): ctx.finding.type[:256],
            ctx.tag("instance-id"): instance_id,
            ctx.tag("device"): str(mapping.get("DeviceName", "")),
            "Name": f"evidence {instance_id} {mapping.get('DeviceName', '')}",
        }
        snapshot = ec2.create_snapshot(
            VolumeId=volume,
            Description=f"GuardDuty finding {finding_id}: evidence of {instance_id}",
            TagSpecifications=[{"ResourceType": "snapshot", "Tags": aws_tags(tags)}],
        )
        out.details.append(f"{volume}: {snapshot['SnapshotId']}")
        changed = True
    if not out.details:
        out.reason = "no EBS volume attached"
    out.status = DONE if changed else ALREADY


def tag_instance(ec2: Any, ctx: Context, instance: dict[str, Any], out: Outcome) -> None:
    current = tag_map(instance.get("Tags"))
    if current.get(ctx.tag("finding-id")) == ctx.finding.id:
        out.status = ALREADY
        return
    tags = {
        ctx.tag("finding-id"): ctx.finding.id,
        ctx.tag("finding-type"): ctx.finding.type[:256],
        ctx.tag("status"): "isolated",
        ctx.tag("at"): ctx.stamp(),
    }
    ec2.create_tags(Resources=[instance["InstanceId"]], Tags=aws_tags(tags))
    out.status = DONE
    keys = " ".join(f"Key={k}" for k in sorted(tags))
    out.undo.append(f"aws ec2 delete-tags --resources {instance['InstanceId']} --tags {keys}")


STEPS = {
    "isolate_network": isolate_network,
    "protect_termination": protect_termination,
    "snapshot_volumes": snapshot_volumes,
    "tag_instance": tag_instance,
}


def run_instance_steps(ec2: Any, ctx: Context, outcomes: list[Outcome]) -> None:
    """Execute the planned isolation steps of one instance (outcomes arrive with status `planned`)."""
    instance_id = outcomes[0].resource
    instance = describe_instance(ec2, instance_id)
    key, value = ctx.exempt_tag or ("", "")
    for out in outcomes:
        if instance is None:
            out.status, out.reason = MISSING, f"instance {instance_id} no longer exists"
        elif ctx.exempt_tag and tag_map(instance.get("Tags")).get(key) == value:
            out.status, out.reason = EXEMPT, f"instance tagged {key}={value} (live tags, protected tag key)"
        else:
            _guarded(STEPS[out.action], ec2, ctx, instance, out)


def _guarded(step: Any, client: Any, ctx: Context, target: Any, out: Outcome) -> None:
    try:
        step(client, ctx, target, out)
    except Exception as exc:  # one failed step must not stop the others (evidence still gets taken)
        out.status, out.reason = FAILED, f"{type(exc).__name__}: {exc}"[:500]

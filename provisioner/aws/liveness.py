"""Whether a tagged resource is already on its way out: the tagging API keeps listing a terminated instance,
a deleted NAT gateway or a KMS key pending deletion for a while after they are gone (hours on AWS, 7-30
days for a key). The sweep after `down` counts those apart instead of reporting them as left over."""

from __future__ import annotations

from collections.abc import Callable

from provisioner.aws import client, error_code
from provisioner.aws.inventory import TaggedResource

_DEAD_INSTANCE = frozenset({"shutting-down", "terminated"})
_DEAD_NAT = frozenset({"deleting", "deleted"})
_DEAD_KEY = frozenset({"PendingDeletion", "PendingReplicaDeletion"})
_MISSING = frozenset({"InvalidInstanceID.NotFound", "NatGatewayNotFound", "NotFoundException", "NotFound"})


def _last(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _instance_dead(region: str, arn: str) -> bool:
    reply = client("ec2", region).describe_instances(InstanceIds=[_last(arn)])
    states = [i["State"]["Name"] for r in reply.get("Reservations", []) for i in r.get("Instances", [])]
    return all(s in _DEAD_INSTANCE for s in states)


def _nat_dead(region: str, arn: str) -> bool:
    reply = client("ec2", region).describe_nat_gateways(NatGatewayIds=[_last(arn)])
    return all(g.get("State") in _DEAD_NAT for g in reply.get("NatGateways", []))


def _key_dead(region: str, arn: str) -> bool:
    return client("kms", region).describe_key(KeyId=arn)["KeyMetadata"].get("KeyState") in _DEAD_KEY


_CHECKS: dict[tuple[str, str], Callable[[str, str], bool]] = {
    ("ec2", "instance"): _instance_dead,
    ("ec2", "natgateway"): _nat_dead,
    ("kms", "key"): _key_dead,
}


def is_dead(region: str, resource: TaggedResource) -> bool:
    """True when the resource is gone or going (terminated, deleted, pending deletion); False when alive or
    when its service has no such state. A resource that no longer exists at all is dead too."""
    check = _CHECKS.get((resource.service, resource.resource_type))
    if check is None:
        return False
    try:
        return check(region, resource.arn)
    except Exception as exc:  # botocore errors: only "not found" means dead; anything else keeps it reported
        return error_code(exc) in _MISSING


def split_dead(region: str, resources: list[TaggedResource]) -> tuple[list[TaggedResource], list[TaggedResource]]:
    """(alive, dead) in the given order."""
    alive: list[TaggedResource] = []
    dead: list[TaggedResource] = []
    for resource in resources:
        (dead if is_dead(region, resource) else alive).append(resource)
    return alive, dead

"""Which resources tagged for an environment its state does not explain (drift's unmanaged search).

The tagging API reports some resources in a form the state does not hold: a VPC flow log or a NAT gateway by an
ARN built from its id (the state's `aws_flow_log`/`aws_nat_gateway` carry the id, not that ARN), and implicit
children that inherit the provider's `default_tags` without being state resources at all (an instance's root
volume, the network interfaces of instances, NAT gateways and VPC endpoints). Both are owned when their id
appears in a managed resource's values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from provisioner.functions.common import parse_arn
from provisioner.ownership import INSTANCE_TAG, identity_tags

if TYPE_CHECKING:
    from provisioner.aws.inventory import TaggedResource
    from provisioner.plan import State
    from provisioner.spec import EnvironmentSpec


def managed_arns(state: State) -> set[str]:
    """ARNs of the state's managed resources (`arn` attributes, and ids that are ARNs, as IAM policies
    have). Data sources only read things: what they point at is not managed by this state."""
    arns: set[str] = set()
    for resource in (r for r in state.resources if r.mode == "managed"):
        for key in ("arn", "id"):
            value = resource.values.get(key)
            if isinstance(value, str) and value.startswith("arn:"):
                arns.add(normal_arn(value))
    return arns


def normal_arn(arn: str) -> str:
    # Log group ARNs come with and without the trailing ":*" depending on the API and provider version.
    return arn.removesuffix(":*")


# EC2-style ids (vol-0abc..., eni-..., nat-..., fl-..., i-...): globally unique, so an id match is an owner match.
_ID_RE = re.compile(r"^[a-z]{1,12}-[0-9a-f]{8,32}$")


def resource_id(arn: str) -> str | None:
    """The id at the end of an ARN's resource part (`...:natgateway/nat-0abc` -> `nat-0abc`), if id-like."""
    parts = parse_arn(arn)
    tail = re.split(r"[/:]", parts.resource)[-1] if parts else ""
    return tail if _ID_RE.match(tail) else None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def owned_ids(resource_values: Iterable[dict[str, Any]]) -> set[str]:
    """Every id-like string in the managed resources' values: their own ids and those of their children
    (`root_block_device[0].volume_id`, `primary_network_interface_id`, `network_interface_ids`, ...)."""
    return {s for values in resource_values for s in _strings(values) if _ID_RE.match(s)}


def is_owned(arn: str, managed_arns: set[str], ids: set[str]) -> bool:
    if arn in managed_arns:
        return True
    rid = resource_id(arn)
    return rid is not None and rid in ids


def is_ignored(arn: str, patterns: Sequence[str]) -> bool:
    """`drift.ignore` entries are exact ARNs or prefixes ending in `*`."""
    return any(arn.startswith(p[:-1]) if p.endswith("*") else arn == p for p in patterns)


def unmanaged_resources(spec: EnvironmentSpec, state: State) -> list[TaggedResource]:
    """Resources carrying the environment's ownership tags that its state does not hold."""
    from provisioner.aws.inventory import find_tagged_resources

    wanted = identity_tags(spec)
    managed = managed_arns(state)
    ids = owned_ids(r.values for r in state.resources if r.mode == "managed")
    found = []
    for resource in find_tagged_resources(spec.region, wanted):
        if spec.instance is None and INSTANCE_TAG in resource.tags:
            continue  # an ephemeral instance of this template: its own state tracks it
        if is_owned(normal_arn(resource.arn), managed, ids) or is_ignored(resource.arn, spec.drift.ignore):
            continue
        found.append(resource)
    return found

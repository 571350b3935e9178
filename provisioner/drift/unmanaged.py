"""Which resources tagged for an environment its state does not explain (drift's unmanaged search)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

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


def is_ignored(arn: str, patterns: Sequence[str]) -> bool:
    """`drift.ignore` entries are exact ARNs or prefixes ending in `*`."""
    return any(arn.startswith(p[:-1]) if p.endswith("*") else arn == p for p in patterns)


def unmanaged_resources(spec: EnvironmentSpec, state: State) -> list[TaggedResource]:
    """Resources carrying the environment's ownership tags that its state does not hold."""
    from provisioner.aws.inventory import find_tagged_resources

    wanted = identity_tags(spec)
    managed = managed_arns(state)
    found = []
    for resource in find_tagged_resources(spec.region, wanted):
        if spec.instance is None and INSTANCE_TAG in resource.tags:
            continue  # an ephemeral instance of this template: its own state tracks it
        if normal_arn(resource.arn) in managed or is_ignored(resource.arn, spec.drift.ignore):
            continue
        found.append(resource)
    return found

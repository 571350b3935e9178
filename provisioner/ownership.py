"""The one ownership rule: which tags say "this environment (or this instance) made it".

Tagging (every resource gets `owner_tags` through the provider's `default_tags`), drift's unmanaged-resource
search, teardown's bucket emptying and the sweep all read ownership from here, so they cannot disagree.
Owner, cost-centre and expiry tags are bookkeeping, not identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provisioner.spec import EnvironmentSpec

MANAGED_BY = "provision"
INSTANCE_TAG = "Instance"


def identity_tags(spec: EnvironmentSpec) -> dict[str, str]:
    """What says "this belongs to the environment" (plus `Instance` for an ephemeral instance), whoever
    created it: drift reports anything carrying these that the state does not hold."""
    tags = {"Project": spec.project, "Environment": spec.name}
    if spec.instance:
        tags[INSTANCE_TAG] = spec.instance
    return tags


def owner_tags(spec: EnvironmentSpec) -> dict[str, str]:
    """What says "provision made this for the environment": written on every resource, and required before
    teardown empties or deletes anything."""
    tags = {"Project": spec.project, "Environment": spec.name, "ManagedBy": MANAGED_BY}
    tags.update(identity_tags(spec))
    return tags


def project_tags(project: str, extra: Mapping[str, str]) -> dict[str, str]:
    """Tags of shared, environment-independent resources (the state bucket and lock table)."""
    return {"Project": project, "ManagedBy": MANAGED_BY, **extra}


def owns(tags: Mapping[str, str], owner: Mapping[str, str]) -> bool:
    """Every owner tag matches; unless `owner` names an instance, an instance's resource is not ours
    (a template environment must never claim what its instances made)."""
    if INSTANCE_TAG not in owner and INSTANCE_TAG in tags:
        return False
    return bool(owner) and all(tags.get(key) == value for key, value in owner.items())

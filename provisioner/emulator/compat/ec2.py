"""The EC2 fixes (see the package docstring): instances, network interfaces, security-group rules."""

from __future__ import annotations

from typing import Any

from provisioner.emulator.compat.fixes import _wrap
from provisioner.emulator.compat.registry import fix


@fix
def ec2_monitor_instances_missing() -> None:
    """EC2 `MonitorInstances`/`UnmonitorInstances` raise NotImplementedError; the provider calls the first for
    `monitoring = true`. Set the instance's monitoring state and answer as EC2 does."""
    from moto.ec2.responses.monitoring import Monitoring

    def make(state: str, action: str) -> Any:
        def handler(self: Any) -> str:
            self.error_on_dryrun()
            ids = self._get_param("InstanceIds", [])
            items = []
            for instance_id in ids:
                self.ec2_backend.get_instance(instance_id).monitoring_state = state
                items.append(
                    f"<item><instanceId>{instance_id}</instanceId><monitoring><state>{state}</state></monitoring></item>"
                )
            ns = "http://ec2.amazonaws.com/doc/2016-11-15/"
            return f'<{action}Response xmlns="{ns}"><instancesSet>{"".join(items)}</instancesSet></{action}Response>'

        return handler

    Monitoring.monitor_instances = make("enabled", "MonitorInstances")  # type: ignore[method-assign]
    Monitoring.unmonitor_instances = make("disabled", "UnmonitorInstances")  # type: ignore[method-assign]


@fix
def ec2_empty_public_ip_association_serialized() -> None:
    """An instance's network interface without a public IP is described with an empty `<association/>`; the
    provider reads any association as `associate_public_ip_address = true` and replaces the instance on every
    plan. Describe no association when there is none, as EC2 does."""
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    original = NetworkInterface.association.fget  # type: ignore[attr-defined]

    def association(self: Any) -> dict[str, Any] | None:
        return original(self) or None

    NetworkInterface.association = property(association)  # type: ignore[assignment,method-assign]


@fix
def ec2_instance_groups_ignore_network_interface_groups() -> None:
    """An instance launched with its security groups on the primary network interface (what the provider
    sends with `associate_public_ip_address`) is described with no groups; on EC2 the instance's groups are
    its primary interface's. Without this, `vpc_security_group_ids` diffs on every plan."""
    from moto.ec2.models.instances import Instance

    def wrapper(original: Any) -> Any:
        def prep_nics(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = original(self, *args, **kwargs)
            primary = self.nics.get(0)
            if not self.security_groups and primary is not None:
                self.security_groups = list(primary.group_set)
            return result

        return prep_nics

    _wrap(Instance, "prep_nics", wrapper)


@fix
def ec2_group_rule_descriptions_dropped() -> None:
    """A security-group rule that references another group keeps its description on the group pair
    (`UserIdGroupPairs[].Description`), but `DescribeSecurityGroupRules` reads a rule's description only from its
    IP range, which such a rule has none of: the provider's `aws_vpc_security_group_ingress_rule`/`_egress_rule`
    with `referenced_security_group_id` plan `description: null -> "..."` on every plan. Read the group pair's
    description when the IP range has none, as EC2 does."""
    from moto.ec2.models.security_groups import SecurityGroupRule

    original = SecurityGroupRule.description.fget  # type: ignore[attr-defined]

    def description(self: Any) -> str | None:
        found = original(self)
        return found if found is not None else (self.source_group or {}).get("Description")

    SecurityGroupRule.description = property(description)  # type: ignore[assignment,method-assign]

"""Security posture beyond Terraform's view: is what the spec enables actually switched on in the account?

Terraform can report a trail as unchanged while its logging is stopped, or a detector as present while it is
suspended. These checks ask the services directly. Which checks run follows the environment's enabled
components (by module name); each resource is found from the root module's outputs
(`<component>_<output>`, e.g. `cloudtrail_trail_arn`) when the state has them, otherwise by the modules'
naming convention (`<name_prefix>-...`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from provisioner.aws import aws_error, call, client, error_code
from provisioner.errors import ProvisionError
from provisioner.spec import EnvironmentSpec

Severity = Literal["critical", "high", "medium", "low"]
Status = Literal["ok", "drift", "error"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
# A check's severity belongs to the check, whichever way it fails (resource missing or expectation broken).
_SEVERITY: dict[str, Severity] = {
    "cloudtrail.trail": "critical",
    "cloudtrail.logging": "critical",
    "guardduty.detector": "high",
    "guardduty.enabled": "high",
    "securityhub.enabled": "high",
    "waf.web_acl": "high",
    "waf.logging": "medium",
    "waf.associated": "high",
    "opensearch.domain": "high",
    "opensearch.encryption_at_rest": "high",
    "opensearch.node_to_node_encryption": "high",
    "opensearch.enforce_https": "medium",
}


@dataclass(frozen=True)
class PostureCheck:
    """One expectation about one resource: ok, drift (expectation broken) or error (AWS refused)."""

    id: str  # e.g. "cloudtrail.logging"
    component: str
    resource: str  # ARN, name or id; "" when the resource could not be found
    status: Status
    severity: Severity
    message: str

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "component": self.component,
            "resource": self.resource,
            "status": self.status,
            "severity": self.severity,
            "message": self.message,
        }


@dataclass(frozen=True)
class _Context:
    spec: EnvironmentSpec
    component: str
    outputs: Mapping[str, Any]
    waf_associations: Sequence[tuple[str, str]]

    def output(self, name: str) -> str | None:
        value = self.outputs.get(f"{self.component}_{name}")
        return value if isinstance(value, str) and value else None

    @property
    def prefix(self) -> str:
        return f"{self.spec.name_prefix}-"

    def named(self, suffix: str) -> str:
        """The name the house modules give a resource: `<name_prefix>-<suffix>`."""
        return f"{self.spec.name_prefix}-{suffix}"

    @property
    def region(self) -> str:
        return self.spec.region

    def check(self, check: str, resource: str, ok: bool, good: str, bad: str) -> PostureCheck:
        """`good` or `bad` is the message, as `ok` says."""
        status: Status = "ok" if ok else "drift"
        return PostureCheck(check, self.component, resource, status, _SEVERITY[check], good if ok else bad)

    def missing(self, check: str, what: str) -> PostureCheck:
        return self.check(check, "", False, "", f"{what} not found")


_Checker = Callable[[_Context], Iterator[PostureCheck]]


def _cloudtrail(ctx: _Context) -> Iterator[PostureCheck]:
    api = client("cloudtrail", ctx.region)
    arn = ctx.output("trail_arn")
    if arn is None:
        trails = call("cloudtrail:DescribeTrails", api.describe_trails, includeShadowTrails=False)["trailList"]
        named = [str(t["TrailARN"]) for t in trails if t.get("Name") == ctx.named("trail")]
        arn = named[0] if named else None
    if arn is None:
        yield ctx.missing("cloudtrail.trail", f"CloudTrail trail {ctx.named('trail')}")
        return
    try:
        status = api.get_trail_status(Name=arn)
    except Exception as exc:
        if error_code(exc) == "TrailNotFoundException":
            yield ctx.missing("cloudtrail.trail", f"CloudTrail trail {arn}")
            return
        raise aws_error("cloudtrail:GetTrailStatus", exc) from None
    yield ctx.check(
        "cloudtrail.logging",
        arn,
        bool(status.get("IsLogging")),
        "trail is logging",
        "CloudTrail logging is stopped",
    )


def _guardduty(ctx: _Context) -> Iterator[PostureCheck]:
    api = client("guardduty", ctx.region)
    detector_id = ctx.output("detector_id")
    if detector_id is None:
        # One detector per account and region: no name to match, so any detector is the one.
        pages = call("guardduty:ListDetectors", lambda: list(api.get_paginator("list_detectors").paginate()))
        ids = sorted(d for page in pages for d in page.get("DetectorIds", []))
        detector_id = ids[0] if ids else None
    if detector_id is None:
        yield ctx.missing("guardduty.detector", f"GuardDuty detector in {ctx.region}")
        return
    try:
        detector = api.get_detector(DetectorId=detector_id)
    except Exception as exc:
        if error_code(exc) in ("BadRequestException", "ResourceNotFoundException"):
            yield ctx.missing("guardduty.detector", f"GuardDuty detector {detector_id}")
            return
        raise aws_error("guardduty:GetDetector", exc) from None
    status = str(detector.get("Status", "?"))
    yield ctx.check(
        "guardduty.enabled",
        detector_id,
        status == "ENABLED",
        "detector is enabled",
        f"GuardDuty detector is {status.lower()}",
    )


def _securityhub(ctx: _Context) -> Iterator[PostureCheck]:
    api = client("securityhub", ctx.region)
    try:
        hub = api.describe_hub()
    except Exception as exc:
        if error_code(exc) in ("InvalidAccessException", "ResourceNotFoundException"):
            yield ctx.check("securityhub.enabled", "", False, "", f"Security Hub is not enabled in {ctx.region}")
            return
        raise aws_error("securityhub:DescribeHub", exc) from None
    yield ctx.check("securityhub.enabled", str(hub.get("HubArn", "")), True, "Security Hub is enabled", "")


def _waf(ctx: _Context) -> Iterator[PostureCheck]:
    api = client("wafv2", ctx.region)
    arn = ctx.output("web_acl_arn")
    if arn is None:
        acls = call("wafv2:ListWebACLs", api.list_web_acls, Scope="REGIONAL", Limit=100)["WebACLs"]
        named = sorted(str(a["ARN"]) for a in acls if str(a.get("Name", "")).startswith(ctx.prefix))
        arn = named[0] if named else None
    if arn is None:
        yield ctx.missing("waf.web_acl", f"WAFv2 web ACL named {ctx.prefix}*")
        return
    try:
        api.get_logging_configuration(ResourceArn=arn)
        logging_on = True
    except Exception as exc:
        if error_code(exc) != "WAFNonexistentItemException":
            raise aws_error("wafv2:GetLoggingConfiguration", exc) from None
        logging_on = False
    yield ctx.check("waf.logging", arn, logging_on, "web ACL logging is on", "web ACL logging is off")
    yield from _waf_association(ctx, api, arn)


def _waf_association(ctx: _Context, api: Any, arn: str) -> Iterator[PostureCheck]:
    targets = [resource for acl, resource in ctx.waf_associations if acl == arn]
    if not targets:
        # The spec declares nothing for it to protect yet (waf input alb_arn, e.g. before the application is
        # deployed): the posture it calls for is met, and an association made by hand is not drift either.
        yield ctx.check("waf.associated", arn, True, "no protected resource declared (waf input alb_arn)", "")
        return
    for target in targets:
        reply = call("wafv2:GetWebACLForResource", api.get_web_acl_for_resource, ResourceArn=target)
        actual = str((reply.get("WebACL") or {}).get("ARN", ""))
        yield ctx.check(
            "waf.associated",
            arn,
            actual == arn,
            f"web ACL protects {target}",
            f"web ACL is not associated with {target}",
        )


def _opensearch(ctx: _Context) -> Iterator[PostureCheck]:
    api = client("opensearch", ctx.region)
    name = ctx.output("domain_name")
    if name is None:
        domains = call("es:ListDomainNames", api.list_domain_names).get("DomainNames", [])
        name = ctx.named("os") if any(d["DomainName"] == ctx.named("os") for d in domains) else None
    if name is None:
        yield ctx.missing("opensearch.domain", f"OpenSearch domain {ctx.named('os')}")
        return
    try:
        domain = api.describe_domain(DomainName=name)["DomainStatus"]
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            yield ctx.missing("opensearch.domain", f"OpenSearch domain {name}")
            return
        raise aws_error("es:DescribeDomain", exc) from None
    arn = str(domain.get("ARN") or name)
    flags = (
        ("opensearch.encryption_at_rest", _enabled(domain, "EncryptionAtRestOptions", "Enabled"), "encryption at rest"),
        (
            "opensearch.node_to_node_encryption",
            _enabled(domain, "NodeToNodeEncryptionOptions", "Enabled"),
            "node-to-node encryption",
        ),
        ("opensearch.enforce_https", _enabled(domain, "DomainEndpointOptions", "EnforceHTTPS"), "HTTPS enforcement"),
    )
    for check, on, what in flags:
        yield ctx.check(check, arn, on, f"{what} is on", f"{what} is off")


def _enabled(domain: Mapping[str, Any], block: str, key: str) -> bool:
    return bool((domain.get(block) or {}).get(key))


# Module name -> checks. `findings` is the module that turns Security Hub on (aws_securityhub_account).
CHECKS_BY_MODULE: dict[str, _Checker] = {
    "cloudtrail": _cloudtrail,
    "guardduty": _guardduty,
    "securityhub": _securityhub,
    "findings": _securityhub,
    "waf": _waf,
    "opensearch": _opensearch,
}


def check_posture(
    spec: EnvironmentSpec,
    outputs: Mapping[str, Any],
    waf_associations: Sequence[tuple[str, str]] = (),
) -> list[PostureCheck]:
    """The posture checks the spec's enabled components call for, against the account boto3 is configured for.

    `outputs` are the root module's state outputs (name -> value); `waf_associations` the (web ACL ARN,
    resource ARN) pairs of `aws_wafv2_web_acl_association` resources in the state. An AWS error fails only
    the component it happened in: it comes back as a check with status "error".
    """
    results: list[PostureCheck] = []
    for component, settings in spec.enabled_components.items():
        checker = CHECKS_BY_MODULE.get(settings.module or component)
        if checker is None:
            continue
        ctx = _Context(spec, component, outputs, waf_associations)
        try:
            results.extend(checker(ctx))
        except ProvisionError as exc:
            results.append(
                PostureCheck(f"{settings.module or component}.api", component, "", "error", "high", exc.message)
            )
    return results

"""What exists in an account under an environment's tags, whether or not Terraform knows about it.

The Resource Groups Tagging API is the broad sweep; a few security services are also listed directly because
that API can be blind to them (moto's does not list WAFv2 web ACLs, GuardDuty detectors, CloudTrail trails or
OpenSearch domains; real AWS lists them in both, so results are de-duplicated by ARN).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioner.aws import call, client
from provisioner.functions.common import parse_arn, partition_of, tag_dict

# botocore sessions are not thread-safe while they build clients; drift runs environments in threads.

# ARN resource parts without a `type/` or `type:` prefix, by service.
_BARE_RESOURCE_TYPES = {"s3": "bucket", "sns": "topic", "sqs": "queue"}


@dataclass(frozen=True)
class TaggedResource:
    arn: str
    service: str
    resource_type: str
    tags: Mapping[str, str] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, str]:
        return {"arn": self.arn, "service": self.service, "resource_type": self.resource_type}


def arn_kind(arn: str) -> tuple[str, str]:
    """(service, resource type) of an ARN: `arn:aws:ec2:r:a:instance/i-1` -> ("ec2", "instance")."""
    parts = parse_arn(arn)
    if parts is None:
        return "", ""
    kind = re.split(r"[/:]", parts.resource, maxsplit=1)
    return parts.service, kind[0] if len(kind) > 1 else _BARE_RESOURCE_TYPES.get(parts.service, parts.resource)


def find_tagged_resources(region: str, tags: Mapping[str, str]) -> list[TaggedResource]:
    """Every resource in `region` that carries all of `tags` (key and value), sorted by ARN.

    Raises ProvisionError (one line) when AWS refuses or cannot be reached.
    """
    found: dict[str, TaggedResource] = {}
    sources = (_wafv2_web_acls, _guardduty_detectors, _cloudtrail_trails, _opensearch_domains)
    for resource in (*_tagging_api(region, tags), *(r for source in sources for r in source(region))):
        if all(resource.tags.get(key) == value for key, value in tags.items()):
            found.setdefault(resource.arn, resource)
    return [found[arn] for arn in sorted(found)]


def _tagging_api(region: str, tags: Mapping[str, str]) -> Iterator[TaggedResource]:
    api = client("resourcegroupstaggingapi", region)
    filters = [{"Key": key, "Values": [value]} for key, value in tags.items()]
    pages = call("tag:GetResources", lambda: list(api.get_paginator("get_resources").paginate(TagFilters=filters)))
    for page in pages:
        for item in page.get("ResourceTagMappingList", []):
            arn = str(item["ResourceARN"])
            service, resource_type = arn_kind(arn)
            yield TaggedResource(arn, service, resource_type, tag_dict(item.get("Tags")))


def _wafv2_web_acls(region: str) -> Iterator[TaggedResource]:
    waf = client("wafv2", region)
    for acl in _paged("wafv2:ListWebACLs", waf.list_web_acls, "WebACLs", Scope="REGIONAL"):
        arn = str(acl["ARN"])
        reply = call("wafv2:ListTagsForResource", waf.list_tags_for_resource, ResourceARN=arn)
        tags = tag_dict((reply.get("TagInfoForResource") or {}).get("TagList"))
        yield TaggedResource(arn, "wafv2", "webacl", tags)


def _paged(action: str, api_call: Callable[..., Any], key: str, **kwargs: Any) -> list[Any]:
    """WAFv2 pages with NextMarker and has no boto3 paginator."""
    items: list[Any] = []
    marker: dict[str, str] = {}
    while True:
        reply = call(action, api_call, **kwargs, **marker)
        items.extend(reply.get(key, []))
        if not reply.get("NextMarker"):
            return items
        marker = {"NextMarker": str(reply["NextMarker"])}


def _guardduty_detectors(region: str) -> Iterator[TaggedResource]:
    guardduty = client("guardduty", region)
    pages = call("guardduty:ListDetectors", lambda: list(guardduty.get_paginator("list_detectors").paginate()))
    account = None
    for detector_id in (d for page in pages for d in page.get("DetectorIds", [])):
        detail = call("guardduty:GetDetector", guardduty.get_detector, DetectorId=detector_id)
        if account is None:
            account = _account_of(str(detail.get("ServiceRole", ""))) or _caller_account(region)
        arn = f"arn:{partition_of(region)}:guardduty:{region}:{account}:detector/{detector_id}"
        yield TaggedResource(arn, "guardduty", "detector", {str(k): str(v) for k, v in detail.get("Tags", {}).items()})


def _cloudtrail_trails(region: str) -> Iterator[TaggedResource]:
    cloudtrail = client("cloudtrail", region)
    pages = call("cloudtrail:ListTrails", lambda: list(cloudtrail.get_paginator("list_trails").paginate()))
    # A multi-region trail shows up in every region; it belongs to (and is tagged in) its home region.
    arns = [str(t["TrailARN"]) for page in pages for t in page.get("Trails", []) if t.get("HomeRegion") == region]
    for start in range(0, len(arns), 20):  # ListTags takes at most 20 ARNs
        batch = arns[start : start + 20]
        reply = call("cloudtrail:ListTags", cloudtrail.list_tags, ResourceIdList=batch)
        for item in reply.get("ResourceTagList", []):
            yield TaggedResource(str(item["ResourceId"]), "cloudtrail", "trail", tag_dict(item.get("TagsList")))


def _opensearch_domains(region: str) -> Iterator[TaggedResource]:
    opensearch = client("opensearch", region)
    names = [d["DomainName"] for d in call("es:ListDomainNames", opensearch.list_domain_names).get("DomainNames", [])]
    for start in range(0, len(names), 5):  # DescribeDomains takes at most 5 names
        batch = names[start : start + 5]
        reply = call("es:DescribeDomains", opensearch.describe_domains, DomainNames=batch)
        for domain in reply.get("DomainStatusList", []):
            arn = str(domain["ARN"])
            tags = call("es:ListTags", opensearch.list_tags, ARN=arn).get("TagList")
            yield TaggedResource(arn, "es", "domain", tag_dict(tags))


def _account_of(arn: str) -> str | None:
    parts = parse_arn(arn)
    return parts.account if parts and parts.account else None


def _caller_account(region: str) -> str:
    sts = client("sts", region)
    return str(call("sts:GetCallerIdentity", sts.get_caller_identity)["Account"])

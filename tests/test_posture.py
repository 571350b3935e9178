"""Posture checks and the tag inventory against the moto server (real HTTP, real boto3)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from provisioner.aws.inventory import arn_kind, find_tagged_resources
from provisioner.aws.posture import PostureCheck, check_posture
from provisioner.spec import EnvironmentSpec

REGION = "eu-west-1"
TAGS = {"Project": "fixture", "Environment": "dev"}
SECURITY_COMPONENTS = ("cloudtrail", "guardduty", "findings", "waf", "opensearch")


def aws_client(service: str) -> Any:
    """boto3 clients typed loosely: the tests build requests the stubs' literal types cannot express."""
    factory: Any = boto3.client
    return factory(service, region_name=REGION)


def make_spec(*components: str, prefix: str = "fx-dev") -> EnvironmentSpec:
    return EnvironmentSpec.model_validate(
        {
            "name": "dev",
            "project": "fixture",
            "account_ids": ["123456789012"],
            "region": REGION,
            "name_prefix": prefix,
            "tags": {"owner": "platform-team", "cost_center": "cc-1234"},
            "components": {name: {} for name in components},
        }
    )


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def provision_expected(prefix: str = "fx-dev") -> dict[str, str]:
    """What the security components of an environment leave behind when all is well."""
    s3 = aws_client("s3")
    bucket = f"{prefix}-cloudtrail-logs"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tag_list(TAGS)})
    cloudtrail = aws_client("cloudtrail")
    trail = cloudtrail.create_trail(
        Name=f"{prefix}-trail", S3BucketName=bucket, IsMultiRegionTrail=True, TagsList=tag_list(TAGS)
    )["TrailARN"]
    cloudtrail.start_logging(Name=trail)
    detector = aws_client("guardduty").create_detector(Enable=True, Tags=TAGS)["DetectorId"]
    aws_client("securityhub").enable_security_hub()
    waf = aws_client("wafv2")
    acl = waf.create_web_acl(
        Name=f"{prefix}-web-acl",
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        VisibilityConfig={
            "SampledRequestsEnabled": True,
            "CloudWatchMetricsEnabled": True,
            "MetricName": "m",
        },
        Tags=tag_list(TAGS),
    )["Summary"]["ARN"]
    logs = aws_client("logs")
    logs.create_log_group(logGroupName=f"aws-waf-logs-{prefix}")
    log_group = logs.describe_log_groups(logGroupNamePrefix=f"aws-waf-logs-{prefix}")["logGroups"][0]["arn"]
    waf.put_logging_configuration(
        LoggingConfiguration={"ResourceArn": acl, "LogDestinationConfigs": [log_group.removesuffix(":*")]}
    )
    alb = f"arn:aws:elasticloadbalancing:{REGION}:123456789012:loadbalancer/app/{prefix}-alb/50dc6c495c0c9188"
    waf.associate_web_acl(WebACLArn=acl, ResourceArn=alb)
    domain = aws_client("opensearch").create_domain(
        DomainName=f"{prefix}-os",
        EncryptionAtRestOptions={"Enabled": True},
        NodeToNodeEncryptionOptions={"Enabled": True},
        DomainEndpointOptions={"EnforceHTTPS": True},
        TagList=tag_list(TAGS),
    )["DomainStatus"]["ARN"]
    return {"trail": trail, "detector": detector, "acl": acl, "alb": alb, "domain": domain, "bucket": bucket}


def outputs_for(ids: dict[str, str]) -> dict[str, Any]:
    return {
        "cloudtrail_trail_arn": ids["trail"],
        "guardduty_detector_id": ids["detector"],
        "waf_web_acl_arn": ids["acl"],
        "opensearch_domain_name": "fx-dev-os",
    }


def by_id(checks: list[PostureCheck]) -> dict[str, PostureCheck]:
    return {c.id: c for c in checks}


def test_expected_state_passes_then_each_break_is_reported(aws: str) -> None:
    ids = provision_expected()
    spec = make_spec(*SECURITY_COMPONENTS)
    checks = check_posture(spec, outputs_for(ids), [(ids["acl"], ids["alb"])])
    assert {c.id for c in checks} == {
        "cloudtrail.logging",
        "guardduty.enabled",
        "securityhub.enabled",
        "waf.logging",
        "waf.associated",
        "opensearch.encryption_at_rest",
        "opensearch.node_to_node_encryption",
        "opensearch.enforce_https",
    }
    assert [c for c in checks if c.status != "ok"] == []
    assert by_id(checks)["cloudtrail.logging"].resource == ids["trail"]
    assert by_id(checks)["opensearch.enforce_https"].resource == ids["domain"]

    aws_client("cloudtrail").stop_logging(Name=ids["trail"])
    aws_client("guardduty").update_detector(DetectorId=ids["detector"], Enable=False)
    aws_client("securityhub").disable_security_hub()
    waf = aws_client("wafv2")
    waf.delete_logging_configuration(ResourceArn=ids["acl"])
    waf.disassociate_web_acl(ResourceArn=ids["alb"])

    broken = by_id(check_posture(spec, outputs_for(ids), [(ids["acl"], ids["alb"])]))
    drift = {cid: (c.severity, c.message) for cid, c in broken.items() if c.status == "drift"}
    assert drift == {
        "cloudtrail.logging": ("critical", "CloudTrail logging is stopped"),
        "guardduty.enabled": ("high", "GuardDuty detector is disabled"),
        "securityhub.enabled": ("high", f"Security Hub is not enabled in {REGION}"),
        "waf.logging": ("medium", "web ACL logging is off"),
        "waf.associated": ("high", f"web ACL is not associated with {ids['alb']}"),
    }
    assert broken["guardduty.enabled"].resource == ids["detector"]


def test_a_web_acl_with_nothing_declared_to_protect_is_not_a_finding(aws: str) -> None:
    # dev before the application exists (waf input alb_arn unset): the state holds no association.
    ids = provision_expected()
    checks = by_id(check_posture(make_spec(*SECURITY_COMPONENTS), outputs_for(ids), []))
    assert checks["waf.associated"].status == "ok"
    assert checks["waf.associated"].message == "no protected resource declared (waf input alb_arn)"


def test_weak_opensearch_domain_found_by_name(aws: str) -> None:
    aws_client("opensearch").create_domain(
        DomainName="fx-dev-os",
        EncryptionAtRestOptions={"Enabled": False},
        NodeToNodeEncryptionOptions={"Enabled": False},
        DomainEndpointOptions={"EnforceHTTPS": False},
    )
    # No state outputs: the domain is found by the module's naming convention.
    checks = by_id(check_posture(make_spec("opensearch"), {}))
    assert {cid: c.severity for cid, c in checks.items() if c.status == "drift"} == {
        "opensearch.encryption_at_rest": "high",
        "opensearch.node_to_node_encryption": "high",
        "opensearch.enforce_https": "medium",
    }
    assert checks["opensearch.enforce_https"].resource.endswith(":domain/fx-dev-os")


def test_state_outputs_win_over_names_and_missing_resources(aws: str) -> None:
    ids = provision_expected()
    provision_expected(prefix="fx-prod")  # another environment's resources must not satisfy dev's
    aws_client("s3").create_bucket(Bucket="other-logs", CreateBucketConfiguration={"LocationConstraint": REGION})
    other = aws_client("cloudtrail").create_trail(Name="renamed-trail", S3BucketName="other-logs")["TrailARN"]
    # The trail named like the module's is logging; the one the state points at is not.
    checks = by_id(check_posture(make_spec("cloudtrail"), {"cloudtrail_trail_arn": other}))
    assert (checks["cloudtrail.logging"].resource, checks["cloudtrail.logging"].status) == (other, "drift")
    by_name = by_id(check_posture(make_spec("cloudtrail"), {}))
    assert (by_name["cloudtrail.logging"].resource, by_name["cloudtrail.logging"].status) == (
        ids["trail"],
        "ok",
    )

    staging = by_id(check_posture(make_spec("cloudtrail", "waf", "echo", prefix="fx-stage"), {}))
    assert staging["cloudtrail.trail"].status == "drift"
    assert staging["cloudtrail.trail"].message == "CloudTrail trail fx-stage-trail not found"
    assert (staging["waf.web_acl"].status, staging["waf.web_acl"].severity) == ("drift", "high")
    # Components without posture checks report nothing.
    assert check_posture(make_spec("echo", "marker"), {}) == []


def test_inventory_finds_tagged_resources_across_services(aws: str) -> None:
    assert find_tagged_resources(REGION, TAGS) == []  # a clean account
    ids = provision_expected()
    s3 = aws_client("s3")
    s3.create_bucket(Bucket="fx-prod-data", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_tagging(
        Bucket="fx-prod-data", Tagging={"TagSet": tag_list({"Project": "fixture", "Environment": "prod"})}
    )
    found = {r.arn: (r.service, r.resource_type) for r in find_tagged_resources(REGION, TAGS)}
    assert found == {
        f"arn:aws:s3:::{ids['bucket']}": ("s3", "bucket"),
        ids["trail"]: ("cloudtrail", "trail"),
        f"arn:aws:guardduty:{REGION}:123456789012:detector/{ids['detector']}": ("guardduty", "detector"),
        ids["acl"]: ("wafv2", "webacl"),
        ids["domain"]: ("es", "domain"),
    }
    prod = find_tagged_resources(REGION, {"Project": "fixture", "Environment": "prod"})
    assert [r.arn for r in prod] == ["arn:aws:s3:::fx-prod-data"]


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:s3:::bucket", ("s3", "bucket")),
        ("arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc", ("ec2", "instance")),
        ("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/x", ("logs", "log-group")),
        ("arn:aws:sns:eu-west-1:123456789012:alerts", ("sns", "topic")),
        ("not-an-arn", ("", "")),
    ],
)
def test_arn_kind(arn: str, expected: tuple[str, str]) -> None:
    assert arn_kind(arn) == expected

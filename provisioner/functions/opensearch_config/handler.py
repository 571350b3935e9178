"""Lambda entry point: assume the domain's admin role, then apply or compare the content.

Event (from Terraform's aws_lambda_invocation, or `provision drift`):
`{"mode": "apply"|"compare", "endpoint": "https://...", "admin_role_arn": "...", "content": {...} or a JSON
string, "bindings": {...}}`. A refusal by OpenSearch raises, so the invocation fails with OpenSearch's text
and `terraform apply` (hence `provision up`) stops on it.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from provisioner.functions.common import log_level
from provisioner.functions.opensearch_config import Client, configure

log = logging.getLogger()
log.setLevel(log_level())


# Starts the log line naming, per kind, what the engine had no API for (`provision up` on local shows it).
SKIPPED_MARKER = "skipped, no such API on this engine:"


class ConfigurationError(RuntimeError):
    """The event is unusable or OpenSearch refused part of the content."""


def _admin_credentials(role_arn: str, region: str) -> Any:
    import boto3

    # The regional endpoint is the one the VPC's STS interface endpoint answers for (no internet needed); an
    # explicit AWS_ENDPOINT_URL(_STS) (an emulator) wins.
    endpoint = os.environ.get("AWS_ENDPOINT_URL_STS") or os.environ.get("AWS_ENDPOINT_URL")
    sts = boto3.client("sts", region_name=region, endpoint_url=endpoint or f"https://sts.{region}.amazonaws.com")
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="provision-opensearch-config")["Credentials"]
    from botocore.credentials import Credentials

    return Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


def _content(event: dict[str, Any]) -> Any:
    content = event.get("content")
    if isinstance(content, str):
        try:
            return json.loads(content)
        except ValueError as exc:
            raise ConfigurationError(f"content is not JSON: {exc}") from None
    return content


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    region = os.environ.get("AWS_REGION", "")
    for key in ("endpoint", "admin_role_arn"):
        if not isinstance(event.get(key), str) or not event[key]:
            raise ConfigurationError(f"event needs {key}")
    credentials = _admin_credentials(event["admin_role_arn"], region)
    client = Client(event["endpoint"], region, credentials)
    return run(client, event)


def run(client: Client, event: dict[str, Any]) -> dict[str, Any]:
    """The handler's work once a signed client exists (the tests call this with a stub peer)."""
    try:
        report = configure(client, _content(event), event.get("bindings") or {}, event.get("mode", "apply"))
    except (ValueError, KeyError) as exc:
        raise ConfigurationError(str(exc)) from None
    result = report.as_dict()
    log.info(json.dumps(result["counts"]))
    if result["skipped"]:
        log.warning("%s %s", SKIPPED_MARKER, json.dumps(result["skipped"], sort_keys=True))
    return result

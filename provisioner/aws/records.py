"""Instance records kept next to each instance's state in the state bucket, so `provision reap` on a fresh CI
machine (no `.provision/`) still finds every ephemeral instance."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from provisioner.aws import aws_error, client


def put_record(region: str, bucket: str, key: str, record: Mapping[str, str]) -> None:
    body = (json.dumps(dict(record), indent=2, sort_keys=True) + "\n").encode()
    try:
        client("s3", region).put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    except Exception as exc:
        raise aws_error(f"writing instance record s3://{bucket}/{key}", exc) from None


def delete_record(region: str, bucket: str, key: str) -> None:
    try:
        client("s3", region).delete_object(Bucket=bucket, Key=key)
    except Exception as exc:
        raise aws_error(f"deleting instance record s3://{bucket}/{key}", exc) from None


def list_records(region: str, bucket: str, prefix: str, suffix: str) -> list[tuple[str, dict[str, Any]]]:
    """(key, parsed JSON) of every object under `prefix` whose key ends with `suffix`."""
    s3 = client("s3", region)
    found: list[tuple[str, dict[str, Any]]] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents") or ():
                key = str(item["Key"])
                if key.endswith(suffix):
                    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                    try:
                        data = json.loads(body)
                    except ValueError:
                        data = None
                    found.append((key, data if isinstance(data, dict) else {}))
    except Exception as exc:
        raise aws_error(f"listing instance records in s3://{bucket}/{prefix}", exc) from None
    return found

"""Lambda entry points of the three log normalisers."""

from __future__ import annotations

import logging
import os
from typing import Any

from provisioner.functions.common import log_level
from provisioner.functions.logs import cloudtrail, normalize_records, waf
from provisioner.functions.logs.opensearch import BulkIndexer

log = logging.getLogger()
log.setLevel(log_level())

_indexer: BulkIndexer | None = None


def _get_indexer() -> BulkIndexer:
    """Built once per container: the endpoint and credentials come from the function's environment."""
    global _indexer
    if _indexer is None:
        import boto3

        session = boto3.Session()
        credentials = session.get_credentials()
        if credentials is None:
            raise RuntimeError("no AWS credentials available to sign OpenSearch requests")
        region = os.environ.get("AWS_REGION") or session.region_name or "us-east-1"
        _indexer = BulkIndexer(
            os.environ["OPENSEARCH_ENDPOINT"],
            region,
            credentials,
            prefix=os.environ.get("INDEX_PREFIX") or "logs",
        )
    return _indexer


def _index(source: str, docs: list[dict[str, Any]], skipped: int) -> dict[str, Any]:
    result = _get_indexer().index(source, docs) if docs else None
    summary = {
        "source": source,
        "documents": len(docs),
        "indexed": result.indexed if result else 0,
        "failed": result.failed if result else 0,
        "skipped": skipped,
    }
    log.info("normalised %s", summary)
    if result and result.errors:
        log.warning("index errors: %s", result.errors[:5])
    return summary


def cloudtrail_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """CloudWatch Logs subscription event (`awslogs.data`, base64 gzip) of a CloudTrail log group."""
    recs, skipped = cloudtrail.records_from_object(event, "awslogs")
    docs, bad = normalize_records("cloudtrail", recs)
    return _index("cloudtrail", docs, skipped + bad)


def guardduty_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """EventBridge `GuardDuty Finding` event."""
    docs, skipped = normalize_records("guardduty", [event])
    return _index("guardduty", docs, skipped)


def waf_firehose_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Firehose transformation: every record returns `Ok` or `ProcessingFailed`; the batch never fails."""
    response, failed = waf.transform_firehose(event)
    log.info("waf records: %d, processing failed: %d", len(response["records"]), failed)
    return response

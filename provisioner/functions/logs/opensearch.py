"""OpenSearch `_bulk` client signed with SigV4 (botocore) over urllib: no extra dependencies in the zip."""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from provisioner.functions.common import Backoff
from provisioner.functions.logs import index_name

log = logging.getLogger(__name__)

MAX_BULK_BYTES = 5 * 1024 * 1024
MAX_BULK_DOCS = 1000
_RETRY_STATUS = {429, 500, 502, 503, 504}


class BulkError(RuntimeError):
    """OpenSearch stayed unreachable or kept refusing after all retries."""


@dataclass
class BulkResult:
    indexed: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def document_id(doc: dict[str, Any]) -> str | None:
    """Deterministic `_id` so a retried Lambda invocation overwrites instead of duplicating."""
    event_id = (doc.get("event") or {}).get("id")
    if not event_id:
        return None
    return hashlib.sha1(f"{event_id}|{doc.get('@timestamp', '')}".encode()).hexdigest()


class BulkIndexer:
    service = "es"  # SigV4 signing name of an OpenSearch Service domain
    timeout = 30.0  # seconds per HTTP attempt

    def __init__(
        self, endpoint: str, region: str, credentials: Any, *, prefix: str = "logs", backoff: Backoff = Backoff()
    ) -> None:
        parts = urlsplit(endpoint)
        loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise ValueError(f"OPENSEARCH_ENDPOINT must be https://host (got {endpoint!r})")
        self.url = f"{parts.scheme}://{parts.netloc}/_bulk"
        self.region = region
        self.credentials = credentials
        self.prefix = prefix
        self.backoff = backoff

    def index(self, source: str, docs: list[dict[str, Any]]) -> BulkResult:
        result = BulkResult()
        for batch in self._batches(source, docs, result):
            self._send(batch, result)
        return result

    def _batches(self, source: str, docs: list[dict[str, Any]], result: BulkResult) -> Iterator[list[bytes]]:
        batch: list[bytes] = []
        size = 0
        for doc in docs:
            action: dict[str, Any] = {"_index": index_name(self.prefix, source, doc)}
            doc_id = document_id(doc)
            if doc_id:
                action["_id"] = doc_id
            try:
                body = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
            except RecursionError:  # nested too deeply to serialise: this document fails, not the batch
                result.failed += 1
                result.errors.append(f"{action['_index']}: document nested too deeply")
                continue
            pair = json.dumps({"index": action}, separators=(",", ":")).encode() + b"\n" + body + b"\n"
            if batch and (size + len(pair) > MAX_BULK_BYTES or len(batch) >= MAX_BULK_DOCS):
                yield batch
                batch, size = [], 0
            batch.append(pair)
            size += len(pair)
        if batch:
            yield batch

    def _send(self, pairs: list[bytes], result: BulkResult) -> None:
        pending = pairs
        attempts = self.backoff.attempts
        for attempt in range(1, attempts + 1):
            status, body = self._post(b"".join(pending))
            if status in _RETRY_STATUS or status == 0:
                retry = pending
            elif status >= 400:
                raise BulkError(f"OpenSearch _bulk refused the request: HTTP {status}")
            else:
                retry = self._item_failures(pending, body, result)
            if not retry:
                return
            if attempt == attempts:
                break
            delay = self.backoff.delay(attempt)
            log.warning("retrying %d documents in %.1fs (attempt %d)", len(retry), delay, attempt)
            self.backoff.sleep(delay)
            pending = retry
        if status in _RETRY_STATUS or status == 0:
            raise BulkError(f"OpenSearch _bulk still failing after {attempts} attempts (HTTP {status})")
        result.failed += len(retry)
        result.errors.append(f"{len(retry)} documents throttled after {attempts} attempts")

    def _item_failures(self, pending: list[bytes], body: bytes, result: BulkResult) -> list[bytes]:
        """Count per-document outcomes; return the throttled ones (429) for another attempt."""
        try:
            items = json.loads(body).get("items", [])
        except (ValueError, AttributeError):
            raise BulkError("OpenSearch _bulk answered with something that is not JSON") from None
        retry = []
        for pair, item in zip(pending, items, strict=False):
            outcome = next(iter(item.values())) if isinstance(item, dict) and item else {}
            status = outcome.get("status", 0)
            if 200 <= status < 300:
                result.indexed += 1
            elif status == 429:
                retry.append(pair)
            else:
                result.failed += 1
                error = outcome.get("error") or {}
                reason = error.get("type", "error") if isinstance(error, dict) else str(error)
                if len(result.errors) < 20:
                    result.errors.append(f"HTTP {status}: {reason}")
        return retry

    def _post(self, body: bytes) -> tuple[int, bytes]:
        request = AWSRequest(method="POST", url=self.url, data=body, headers={"Content-Type": "application/x-ndjson"})
        SigV4Auth(self.credentials, self.service, self.region).add_auth(request)
        prepared = urllib.request.Request(self.url, data=body, headers=dict(request.headers.items()), method="POST")
        try:
            with urllib.request.urlopen(prepared, timeout=self.timeout) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            log.warning("OpenSearch unreachable: %s", exc)
            return 0, b""

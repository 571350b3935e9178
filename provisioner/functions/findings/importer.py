"""Security Hub import: batches of 100, retries with backoff, updates in place, resolution of the gone."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from provisioner.functions.common import Backoff
from provisioner.functions.findings.asff import SCOPE_FIELD, now_iso

log = logging.getLogger(__name__)

BATCH_SIZE = 100  # BatchImportFindings and BatchUpdateFindings maximum
# Fields of ours that an archived copy carries back (GetFindings adds read-only ones we must not echo).
_ARCHIVE_FIELDS = (
    "SchemaVersion",
    "Id",
    "ProductArn",
    "GeneratorId",
    "AwsAccountId",
    "Types",
    "FirstObservedAt",
    "LastObservedAt",
    "CreatedAt",
    "Severity",
    "Title",
    "Description",
    "Remediation",
    "SourceUrl",
    "ProductFields",
    "Resources",
    "Vulnerabilities",
)


# How vanished findings were resolved (ImportResult.resolution).
RESOLVED_BY_WORKFLOW = "batch_update_findings"  # Workflow RESOLVED set, and the record archived
RESOLVED_BY_ARCHIVE = "archive_reimport"  # BatchUpdateFindings unavailable or denied: archived only
NOTHING_TO_RESOLVE = "none"


@dataclass(frozen=True)
class Owner:
    """Which findings are ours: filed under this product ARN and tagged with this scope (tool + repository)."""

    product_arn: str
    scope: str


@dataclass
class ImportResult:
    imported: int = 0
    updated: int = 0
    failed: int = 0
    resolved: int = 0
    workflow_resolved: int = 0
    resolution: str = NOTHING_TO_RESOLVE
    failed_ids: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "updated": self.updated,
            "failed": self.failed,
            "resolved": self.resolved,
            "workflow_resolved": self.workflow_resolved,
            "resolution": self.resolution,
            "failed_ids": self.failed_ids,
            "warnings": self.warnings,
        }


def _chunks(items: list[dict[str, Any]], size: int = BATCH_SIZE) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def existing_in_scope(client: Any, owner: Owner) -> dict[str, dict[str, Any]]:
    """Every finding (any record state) this integration filed for the scope, by Id."""
    product_arn, scope = owner.product_arn, owner.scope
    filters = {
        "ProductArn": [{"Value": product_arn, "Comparison": "EQUALS"}],
        "ProductFields": [{"Key": SCOPE_FIELD, "Value": scope, "Comparison": "EQUALS"}],
    }
    found: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("get_findings").paginate(Filters=filters, PaginationConfig={"PageSize": 100}):
        for finding in page.get("Findings", []):
            # Filtered again here: the filter is an optimisation, not something to trust blindly.
            if finding.get("ProductArn") == product_arn and finding.get("ProductFields", {}).get(SCOPE_FIELD) == scope:
                found[finding["Id"]] = finding
    return found


def batch_import(
    client: Any, findings: list[dict[str, Any]], backoff: Backoff = Backoff()
) -> tuple[set[str], dict[str, str]]:
    """(ids imported, id -> last error) after retrying failed findings with exponential backoff."""
    ok: set[str] = set()
    errors: dict[str, str] = {}
    for chunk in _chunks(findings):
        pending = chunk
        for attempt in range(1, backoff.attempts + 1):
            response = client.batch_import_findings(Findings=pending)
            failed = {
                f.get("Id", ""): f"{f.get('ErrorCode')}: {f.get('ErrorMessage')}"
                for f in response.get("FailedFindings", [])
            }
            ok.update(f["Id"] for f in pending if f["Id"] not in failed)
            if not failed:
                break
            errors.update(failed)
            pending = [f for f in pending if f["Id"] in failed]
            if attempt < backoff.attempts:
                delay = backoff.delay(attempt)
                log.warning("%d findings failed to import, retrying in %.1fs", len(pending), delay)
                backoff.sleep(delay)
    for finding_id in ok:
        errors.pop(finding_id, None)
    return ok, errors


def import_findings(
    client: Any,
    findings: list[dict[str, Any]],
    owner: Owner,
    *,
    resolve_missing: bool = True,
    backoff: Backoff = Backoff(),
) -> ImportResult:
    """Import (create or update) findings; archive and resolve this scope's findings absent from them."""
    result = ImportResult()
    existing = existing_in_scope(client, owner)
    prepared = []
    for finding in findings:
        old = existing.get(finding["Id"])
        if old is not None:
            # Keep the first sighting: an update must not make an old problem look new.
            finding = {**finding, "CreatedAt": old.get("CreatedAt", finding["CreatedAt"])}
            finding["FirstObservedAt"] = old.get("FirstObservedAt", finding["FirstObservedAt"])
        prepared.append(finding)
    ok, errors = batch_import(client, prepared, backoff)
    result.imported = sum(1 for f in prepared if f["Id"] in ok and f["Id"] not in existing)
    result.updated = sum(1 for f in prepared if f["Id"] in ok and f["Id"] in existing)
    result.failed = len(errors)
    result.failed_ids = sorted(errors)
    result.warnings.extend(f"{fid}: {msg}" for fid, msg in sorted(errors.items())[:10])
    if resolve_missing:
        new_ids = {f["Id"] for f in findings}
        gone = [f for fid, f in existing.items() if fid not in new_ids and f.get("RecordState") != "ARCHIVED"]
        if gone:
            _resolve(client, gone, result, backoff)
    return result


def _resolve(client: Any, gone: list[dict[str, Any]], result: ImportResult, backoff: Backoff) -> None:
    """Workflow RESOLVED via BatchUpdateFindings where allowed, then RecordState ARCHIVED by re-import.

    The archive runs on both paths: Security Hub resets a RESOLVED workflow to NEW only when the record state
    goes from ARCHIVED back to ACTIVE, so a finding that comes back in a later report is NEW again.
    """
    resolved = set_workflow_resolved(client, gone, result)
    result.resolution = RESOLVED_BY_WORKFLOW if resolved is not None else RESOLVED_BY_ARCHIVE
    result.workflow_resolved = len(resolved or ())
    stamp = now_iso()
    archived = [
        {**{k: f[k] for k in _ARCHIVE_FIELDS if k in f}, "UpdatedAt": stamp, "RecordState": "ARCHIVED"} for f in gone
    ]
    ok, errors = batch_import(client, archived, backoff)
    result.resolved = len(ok)
    result.failed += len(errors)
    result.failed_ids.extend(sorted(errors))
    result.warnings.extend(f"{fid}: not archived: {msg}" for fid, msg in sorted(errors.items())[:10])


def set_workflow_resolved(client: Any, findings: list[dict[str, Any]], result: ImportResult) -> set[str] | None:
    """Ids whose workflow BatchUpdateFindings set to RESOLVED; None when the API is unavailable or denied."""
    from botocore.exceptions import BotoCoreError, ClientError

    identifiers = [{"Id": f["Id"], "ProductArn": f["ProductArn"]} for f in findings]
    done: set[str] = set()
    for start in range(0, len(identifiers), BATCH_SIZE):
        batch = identifiers[start : start + BATCH_SIZE]
        try:
            response = client.batch_update_findings(FindingIdentifiers=batch, Workflow={"Status": "RESOLVED"})
        except (BotoCoreError, ClientError) as exc:
            code = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else type(exc).__name__
            result.warnings.append(f"BatchUpdateFindings unavailable ({code}): vanished findings archived only")
            return done or None
        unprocessed = {u.get("FindingIdentifier", {}).get("Id") for u in response.get("UnprocessedFindings", [])}
        for item in response.get("UnprocessedFindings", [])[:10]:
            ident = item.get("FindingIdentifier", {}).get("Id")
            result.warnings.append(f"{ident}: workflow not set to RESOLVED: {item.get('ErrorCode')}")
        done.update(i["Id"] for i in batch if i["Id"] not in unprocessed)
    return done

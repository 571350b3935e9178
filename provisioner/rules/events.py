"""Event files for `provision rules test`: any container the normalisers read, of any of the three sources.

The source of each record is recognised from its shape, then the project's own normaliser turns it into the
document the index would hold, so local evaluation sees exactly what the monitors search.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from provisioner.errors import InputError
from provisioner.functions.errors import FunctionInputError
from provisioner.functions.logs import _unwrap_firehose, cloudtrail, normalize_records
from provisioner.user_files import read_input

Event = tuple[str, dict[str, Any]]


def source_of(record: Any) -> str | None:
    if not isinstance(record, dict):
        return None
    if "eventName" in record and "eventTime" in record:
        return "cloudtrail"
    if "httpRequest" in record and "timestamp" in record:
        return "waf"
    if record.get("source") == "aws.guardduty" or ("severity" in record and "type" in record and "id" in record):
        return "guardduty"
    return None


def _expand(records: list[Any]) -> list[Any]:
    """GuardDuty GetFindings output and Firehose transformation events hold the records one level down."""
    out: list[Any] = []
    for rec in records:
        if isinstance(rec, dict) and isinstance(rec.get("Findings"), list):
            out.extend(rec["Findings"])
        elif isinstance(rec, dict) and isinstance(rec.get("records"), list) and "invocationId" in rec:
            out.extend(_unwrap_firehose([rec])[0])
        else:
            out.append(rec)
    return out


def normalise_records(records: list[Any]) -> tuple[list[Event], int]:
    """(events grouped by source, records skipped because no normaliser recognised them)."""
    batches: dict[str, list[Any]] = {}
    skipped = 0
    for rec in _expand(records):
        source = source_of(rec)
        if source is None:
            skipped += 1
        else:
            batches.setdefault(source, []).append(rec)
    events: list[Event] = []
    for source, batch in batches.items():
        docs, bad = normalize_records(source, batch)
        skipped += bad
        events.extend((source, doc) for doc in docs)
    return events, skipped


def load_events(path: Path) -> tuple[list[Event], int]:
    data = read_input(path)
    try:
        records, skipped = cloudtrail.records(data, str(path))
    except FunctionInputError as exc:
        raise InputError(f"{path}: not a log file: {exc.reason}") from None
    events, bad = normalise_records(records)
    return events, skipped + bad

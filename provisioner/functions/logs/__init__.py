"""AWS security logs (CloudTrail, WAF, GuardDuty) to Elastic Common Schema documents."""

from __future__ import annotations

import base64
import binascii
import gc
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from provisioner.functions.common import parse_array, parse_each, parse_record, unwrap
from provisioner.functions.errors import FunctionInputError
from provisioner.functions.logs import cloudtrail, guardduty, waf

__all__ = ["SOURCES", "index_name", "normalize", "normalize_records"]

SOURCES = ("cloudtrail", "waf", "guardduty")
_NORMALIZERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "cloudtrail": cloudtrail.normalize,
    "waf": waf.normalize,
    "guardduty": guardduty.normalize,
}


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Building tens of thousands of acyclic dicts triggers the cyclic GC over and over (~40% of the time);
    nothing here creates cycles, so it is paused for the batch and restored after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def normalize_records(source: str, records: Iterable[Any]) -> tuple[list[dict[str, Any]], int]:
    """(documents, skipped): a record that cannot be normalised is counted, never fatal to the others."""
    with _no_cyclic_gc():
        return _normalize_records(source, records)


def _normalize_records(source: str, records: Iterable[Any]) -> tuple[list[dict[str, Any]], int]:
    if source == "cloudtrail":
        return cloudtrail.normalize_all(records)
    normalizer = _NORMALIZERS.get(source)
    if normalizer is None:
        raise FunctionInputError(source, f"unknown log source (expected one of: {', '.join(SOURCES)})")
    docs = []
    skipped = 0
    for rec in records:
        try:
            docs.append(normalizer(rec))
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
            skipped += 1
    return docs, skipped


def normalize(source: str, data: bytes, *, name: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Normalise a file or payload: JSON lines, a JSON array, or the source's own container format."""
    label = name or source
    with _no_cyclic_gc():
        return _normalize(source, data, label)


def _normalize(source: str, data: bytes, label: str) -> tuple[list[dict[str, Any]], int]:
    if source == "cloudtrail":
        recs, skipped = cloudtrail.records(data, label)
    elif source in _NORMALIZERS:
        recs, skipped = _generic_records(data, label)
        if source == "waf":
            recs, more = _unwrap_firehose(recs)
            skipped += more
    else:
        raise FunctionInputError(label, f"unknown log source {source!r} (expected one of: {', '.join(SOURCES)})")
    docs, bad = _normalize_records(source, recs)
    return docs, skipped + bad


def _generic_records(data: bytes, label: str) -> tuple[list[Any], int]:
    text = unwrap(data, label).decode("utf-8", errors="replace").lstrip("\ufeff")
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            obj = json.loads(stripped)
        except json.JSONDecodeError:
            pass
        except RecursionError:
            found = parse_array(stripped)  # one record too deep: the others are parsed one by one
            if found is not None:
                return found
        else:
            if isinstance(obj, dict) and isinstance(obj.get("Findings"), list):  # GetFindings output
                return obj["Findings"], 0
            return (obj, 0) if isinstance(obj, list) else ([obj], 0)
    return parse_each([line for line in text.splitlines() if line.strip()])


def _unwrap_firehose(recs: list[Any]) -> tuple[list[Any], int]:
    """A saved Firehose transformation event holds base64 records; unwrap them for the CLI."""
    out: list[Any] = []
    skipped = 0
    for rec in recs:
        if isinstance(rec, dict) and isinstance(rec.get("records"), list) and "invocationId" in rec:
            for item in rec["records"]:
                try:
                    out.append(parse_record(base64.b64decode(item["data"], validate=True).decode()))
                except (TypeError, KeyError, ValueError, binascii.Error):
                    skipped += 1
        else:
            out.append(rec)
    return out, skipped


def index_name(prefix: str, source: str, doc: dict[str, Any]) -> str:
    """Daily index `<prefix>-<source>-YYYY.MM.DD` from the document's own @timestamp."""
    stamp = str(doc.get("@timestamp", ""))
    day = stamp[:10].replace("-", ".") if len(stamp) >= 10 else "unknown-date"
    return f"{prefix}-{source}-{day}"

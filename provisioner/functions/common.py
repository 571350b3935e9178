"""Small helpers shared by the findings converter and the log normalisers."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import os
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from provisioner.functions.errors import FunctionInputError

# A CloudWatch Logs payload is at most 1 MB compressed; refuse "zip bombs" well above any real input.
MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024
# One log record (a line of JSON lines, a log event's message): CloudTrail events are at most 256 KB.
MAX_RECORD_CHARS = 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Backoff:
    """Retry schedule shared by the Security Hub import and the OpenSearch bulk client: `attempts` tries,
    waiting `base_delay * 2**(n-1)` after the n-th failed one. Tests pass a recording `sleep`."""

    attempts: int = 4
    base_delay: float = 0.5
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int) -> float:
        return float(self.base_delay * 2 ** (attempt - 1))


def load_json(data: bytes, source: str) -> Any:
    """Parse a whole JSON document, naming the source, line and column on failure."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FunctionInputError(source, f"not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise FunctionInputError(source, "empty file")
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise FunctionInputError(source, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise FunctionInputError(source, "JSON nested too deeply") from None


def _no_constant(name: str) -> None:
    """NaN and Infinity are not JSON; a report carrying them has no value there (strict JSON out)."""
    return None


def _finite_float(text: str) -> float | None:
    """1e999 parses to inf: treated as no value, like NaN."""
    value = float(text)
    return value if math.isfinite(value) else None


def gunzip(data: bytes, source: str) -> bytes:
    """Decompress gzip (every member of a concatenation, as `cat a.gz b.gz` makes) with a size cap."""
    parts: list[bytes] = []
    budget = MAX_DECOMPRESSED_BYTES
    while data:
        if budget <= 0:  # decompress(data, 0) would mean "no limit"
            raise FunctionInputError(source, f"decompresses to more than {MAX_DECOMPRESSED_BYTES} bytes")
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out = inflater.decompress(data, budget)
        except zlib.error as exc:
            raise FunctionInputError(source, f"corrupt gzip data: {exc}") from None
        if inflater.unconsumed_tail or (not inflater.eof and len(out) >= budget):
            raise FunctionInputError(source, f"decompresses to more than {MAX_DECOMPRESSED_BYTES} bytes")
        parts.append(out)  # a truncated member keeps what it held: its last record is then counted as malformed
        budget -= len(out)
        data = inflater.unused_data if inflater.eof and is_gzip(inflater.unused_data) else b""
    return b"".join(parts)


def unwrap(data: bytes, source: str) -> bytes:
    """The payload itself, whether given as is, gzip (Firehose's S3 objects) or base64 gzip (`awslogs.data`)."""
    unwrapped = maybe_base64_gzip(data)
    if unwrapped is not None:
        data = unwrapped
    return gunzip(data, source) if is_gzip(data) else data


def parse_record(text: str) -> Any:
    """One JSON record; ValueError if it is malformed, larger than MAX_RECORD_CHARS or nested too deeply
    for the parser (a RecursionError would lose every other record of the batch)."""
    if len(text) > MAX_RECORD_CHARS:
        raise ValueError(f"record larger than {MAX_RECORD_CHARS} characters")
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("record nested too deeply") from None


def parse_each(texts: list[str]) -> tuple[list[Any], int]:
    """Parse JSON texts; a malformed, too large or too deep text is skipped and counted, never fatal to the others."""
    try:
        # One parser call for the whole batch is about twice as fast as one per text (hot path).
        if all(len(t) <= MAX_RECORD_CHARS for t in texts):
            batch = json.loads("[" + ",".join(texts) + "]")
            if len(batch) == len(texts):
                return batch, 0
    except (json.JSONDecodeError, RecursionError):
        pass  # some text is malformed (or smuggles a comma): fall back to one at a time
    out: list[Any] = []
    skipped = 0
    for item in texts:
        try:
            out.append(parse_record(item))
        except ValueError:
            skipped += 1
    return out, skipped


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_STRUCTURE = re.compile(r'["\[\]{},]')
_WRAPPED = re.compile(r'\s*\{\s*"(?:Records|Findings)"\s*:\s*(?=\[)')


def split_array(text: str) -> list[str] | None:
    """The raw text of each element of a top-level JSON array, or of the array of a `{"Records": [...]}` /
    `{"Findings": [...]}` document, found without recursion so that each element is parsed (or refused) alone
    when the whole document is too deep for the parser. None if the text has no such shape."""
    wrapped = _WRAPPED.match(text)
    pos = wrapped.end() if wrapped else len(text) - len(text.lstrip())
    if text[pos : pos + 1] != "[":
        return None
    items: list[str] = []
    depth = 0
    start = pos = pos + 1
    while (found := _STRUCTURE.search(text, pos)) is not None:
        char, pos = found.group(), found.start()
        if char == '"':
            string = _STRING.match(text, pos)
            if string is None:
                return None
            pos = string.end()
            continue
        if char in "[{":
            depth += 1
        elif char in "]}" and depth:
            depth -= 1
        elif char in "]}" or depth == 0:  # the array's own `]` or `,`
            if text[start:pos].strip():
                items.append(text[start:pos].strip())
            if char != ",":  # a bare array must end the text, else the text is JSON lines
                return items if wrapped or not text[pos + 1 :].strip() else None
            start = pos + 1
        pos += 1
    return None


def parse_array(text: str) -> tuple[list[Any], int] | None:
    """(records, skipped) of a document too deep to parse whole, element by element; None if not an array."""
    items = split_array(text)
    return None if items is None else parse_each(items)


def is_gzip(data: bytes) -> bool:
    return data[:2] == _GZIP_MAGIC


def maybe_base64_gzip(data: bytes) -> bytes | None:
    """The bytes of a base64-encoded gzip payload (as in `awslogs.data`), or None if it is not one."""
    head = data.lstrip()[:4]
    if not head.startswith(b"H4sI"):  # base64 of the gzip magic
        return None
    try:
        raw = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if is_gzip(raw) else None


def clip(value: str, limit: int) -> str:
    """Cut a string to `limit` characters, marking the cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def as_dict(value: Any) -> dict[str, Any]:
    """The value if it is a JSON object, else an empty one (hostile inputs put lists or nulls anywhere)."""
    return value if isinstance(value, dict) else {}


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError (e.g. `NoSuchBucket`), '' for anything else."""
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def log_level() -> int:
    """The handlers' logging level from the function's LOG_LEVEL (set by the lambda_function module)."""
    level = logging.getLevelName(os.environ.get("LOG_LEVEL", "INFO").upper())
    return level if isinstance(level, int) else logging.INFO

"""Elastic Common Schema helpers: timestamps and IP validation on the hot path."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime
from typing import Any

from provisioner.functions.common import clip

# Nested request/response bodies are stored as JSON strings: their shapes differ per API call and would
# explode (or conflict in) an OpenSearch mapping. Cut hostile sizes.
MAX_JSON_FIELD = 32 * 1024
_IP_CACHE: dict[str, str | None] = {}
_IP_CACHE_MAX = 65536
# One encoder for every field: json.dumps() with options builds a new JSONEncoder per call (hot path).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)


def _ipv4(value: str) -> bool:
    """Dotted-quad check without ipaddress (5x faster); same rules: 0-255, no leading zeros."""
    parts = value.split(".")
    if len(parts) != 4:
        return False
    for part in parts:
        if not part.isdigit() or not part.isascii() or (len(part) > 1 and part[0] == "0") or int(part) > 255:
            return False
    return True


def ip_or_none(value: Any) -> str | None:
    """The canonical form of an IP address, or None (host names such as ec2.amazonaws.com, garbage)."""
    if not isinstance(value, str):
        return None
    if _ipv4(value):
        return value
    try:
        return _IP_CACHE[value]
    except KeyError:
        pass
    try:
        result: str | None = str(ipaddress.ip_address(value))
    except ValueError:
        result = None
    if len(_IP_CACHE) >= _IP_CACHE_MAX:
        _IP_CACHE.clear()
    _IP_CACHE[value] = result
    return result


def iso_utc(value: Any) -> str | None:
    """ISO 8601 UTC (`...Z`) from an ISO string with any offset, or None if it is not a timestamp."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    if len(value) == 20 and value[10] == "T" and value[19] == "Z":
        return value  # CloudTrail's own format: already canonical (the common case, kept fast)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_from_epoch_ms(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        stamp = datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_field(value: Any) -> str:
    return clip(_ENCODER.encode(value), MAX_JSON_FIELD)

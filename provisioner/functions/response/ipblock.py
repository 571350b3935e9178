"""Block a remote IP in the WAF IP set the stack's web ACL blocks, with an expiry; sweep expired ones.

WAF IP sets have no per-address expiry, so each address this function adds carries a tag on the IP set
(`gd-response:block:<cidr>` = expiry time); the scheduled sweep removes expired addresses. Addresses that
someone added by hand have no such tag and are never removed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from provisioner.functions.common import error_code, iso_utc, parse_arn
from provisioner.functions.response.outcome import ALREADY, DONE, FAILED, TAG_PREFIX, Context, Outcome

BLOCK_TAG = TAG_PREFIX + "block:"
# A WAF resource holds at most 50 tags; the stack's own tags need room too.
MAX_TRACKED = 35
_RETRIES = 3


def parse_ip_set_arn(arn: str) -> tuple[str, str, str, str]:
    """(region, scope, name, id) of `arn:aws:wafv2:<region>:<account>:<regional|global>/ipset/<name>/<id>`."""
    parts = parse_arn(arn)
    path = parts.resource.split("/") if parts else []
    if parts is None or parts.service != "wafv2" or len(path) != 4 or path[1] != "ipset":
        raise ValueError(f"not a WAFv2 IP set ARN: {arn!r}")
    scope = "CLOUDFRONT" if path[0] == "global" else "REGIONAL"
    return parts.region, scope, path[2], path[3]


def _tracked(wafv2: Any, arn: str) -> dict[str, str]:
    info = wafv2.list_tags_for_resource(ResourceARN=arn)["TagInfoForResource"]
    return {t["Key"][len(BLOCK_TAG) :]: t["Value"] for t in info.get("TagList", []) if t["Key"].startswith(BLOCK_TAG)}


def _update(wafv2: Any, arn: str, change: Any) -> bool:
    """Apply `change(addresses) -> new addresses or None` with WAF's optimistic lock; True if it wrote."""
    _, scope, name, set_id = parse_ip_set_arn(arn)
    for attempt in range(_RETRIES):
        answer = wafv2.get_ip_set(Name=name, Scope=scope, Id=set_id)
        addresses = list(answer["IPSet"].get("Addresses", []))
        new = change(addresses)
        if new is None:
            return False
        try:
            wafv2.update_ip_set(Name=name, Scope=scope, Id=set_id, Addresses=new, LockToken=answer["LockToken"])
            return True
        except Exception as exc:
            if error_code(exc) != "WAFOptimisticLockException" or attempt == _RETRIES - 1:
                raise
    return False


def block_remote_ip(wafv2: Any, ctx: Context, out: Outcome) -> None:
    if not ctx.blocked_ip_set_arn:
        out.status, out.reason = FAILED, "no WAF IP set is configured (input blocked_ip_set_arn)"
        return
    cidr, arn = out.resource, ctx.blocked_ip_set_arn
    tracked = _tracked(wafv2, arn)
    if cidr not in tracked and len(tracked) >= MAX_TRACKED:
        out.status, out.reason = FAILED, f"{MAX_TRACKED} addresses are already blocked with an expiry"
        return
    wrote = _update(wafv2, arn, lambda addresses: None if cidr in addresses else sorted({*addresses, cidr}))
    if not wrote:
        out.status = ALREADY
        return
    expires = iso_utc(ctx.now + timedelta(hours=ctx.block_expiry_hours))
    wafv2.tag_resource(ResourceARN=arn, Tags=[{"Key": BLOCK_TAG + cidr, "Value": expires}])
    _, scope, name, set_id = parse_ip_set_arn(arn)
    out.status, out.details = DONE, [f"{cidr} added to IP set {name}, expires {expires}"]
    out.undo.append(
        f"remove {cidr} from WAF IP set {name} (id {set_id}, scope {scope}) with get-ip-set/update-ip-set, "
        f"or wait for the sweep after {expires}"
    )


def sweep_expired(wafv2: Any, arn: str, now: datetime) -> list[str]:
    """Remove addresses whose expiry tag has passed; returns the removed CIDRs."""
    cutoff = iso_utc(now)
    expired = sorted(cidr for cidr, expiry in _tracked(wafv2, arn).items() if expiry <= cutoff)
    if not expired:
        return []
    gone = set(expired)
    _update(wafv2, arn, lambda addresses: [a for a in addresses if a not in gone] if gone & set(addresses) else None)
    wafv2.untag_resource(ResourceARN=arn, TagKeys=[BLOCK_TAG + cidr for cidr in expired])
    return expired

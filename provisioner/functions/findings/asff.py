"""Building blocks of AWS Security Finding Format (ASFF) findings shared by the three converters."""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from provisioner.functions.common import clip, partition_of

SCHEMA_VERSION = "2018-10-08"
SCOPE_FIELD = "provision/Scope"
TOOL_FIELD = "provision/Tool"

# ASFF field limits (Security Hub rejects longer values).
TITLE_MAX = 256
DESCRIPTION_MAX = 1024
RECOMMENDATION_MAX = 512
PRODUCT_FIELD_VALUE_MAX = 2048
RESOURCE_ID_MAX = 512
ID_MAX = 512

# The Normalized value Security Hub itself derives from a label-only severity.
_LABEL_NORMALIZED = {"INFORMATIONAL": 0, "LOW": 1, "MEDIUM": 40, "HIGH": 70, "CRITICAL": 90}
LABELS = tuple(_LABEL_NORMALIZED)

_TAG_RE = re.compile(r"<[^>]+>")
_SPACE_RE = re.compile(r"[ \t\r\f\v]+")
_URL_RE = re.compile(r"https?://[^\s<>\"')]+")


@dataclass(frozen=True)
class FindingContext:
    """Where a report came from: the account/region it is filed under and the build that produced it."""

    account_id: str
    region: str
    repository: str = ""
    branch: str = ""
    commit: str = ""
    build_id: str = ""
    observed_at: str = field(default_factory=lambda: now_iso())

    @property
    def partition(self) -> str:
        return partition_of(self.region)

    @property
    def product_arn(self) -> str:
        """The account's default product: what a customer-written integration imports under."""
        account = self.account_id
        return f"arn:{self.partition}:securityhub:{self.region}:{account}:product/{account}/default"

    def scope(self, tool: str) -> str:
        """Findings of one tool on one branch of one repository: the set a new report replaces."""
        return f"{tool}|{self.repository}|{self.branch}"


@dataclass(frozen=True)
class Severity:
    label: str
    normalized: int
    original: str

    def as_asff(self) -> dict[str, Any]:
        return {"Label": self.label, "Normalized": self.normalized, "Original": clip(self.original, 256)}


def severity_from_label(label: str, original: str | None = None) -> Severity:
    return Severity(label, _LABEL_NORMALIZED[label], original or label)


def severity_from_cvss(score: float, original: str | None = None) -> Severity:
    """CVSS ranges (v3 qualitative scale) so that Label and Normalized (score x 10) always agree."""
    score = min(max(score, 0.0), 10.0)
    if score == 0:
        label = "INFORMATIONAL"
    elif score < 4.0:
        label = "LOW"
    elif score < 7.0:
        label = "MEDIUM"
    elif score < 9.0:
        label = "HIGH"
    else:
        label = "CRITICAL"
    normalized = max(round(score * 10), 1) if score > 0 else 0
    return Severity(label, normalized, original or f"CVSS {score:g}")


def worst(severities: list[Severity]) -> Severity:
    """The most severe: label first, then the normalized score (CVSS 9.8 beats 9.1)."""
    return max(severities, key=lambda s: (LABELS.index(s.label), s.normalized))


def finding_id(tool: str, repository: str, branch: str, identity: tuple[str, ...]) -> str:
    """Stable across builds: the tool's own identity of a problem, within one branch of one repository.

    The branch is part of it because the branch is part of the scope a report replaces: one Id shared by two
    branches would move between their scopes and escape resolution in both.
    """
    digest = hashlib.sha256(json.dumps([tool, repository, branch, *identity]).encode()).hexdigest()
    return f"provision/{tool}/{digest[:40]}"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def html_to_text(value: str) -> str:
    """Scanner descriptions are HTML fragments; Security Hub shows plain text."""
    text = value.replace("</p>", "\n").replace("<br>", "\n").replace("<br/>", "\n")
    text = html.unescape(_TAG_RE.sub("", text))
    lines = (_SPACE_RE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def first_url(value: str) -> str | None:
    match = _URL_RE.search(value)
    return match.group(0) if match else None


def urls(value: str) -> list[str]:
    return _URL_RE.findall(value)


@dataclass(frozen=True, kw_only=True)
class FindingDraft:
    """What a converter found, in its own terms; `build_finding` adds the context (account, repository, time).

    `identity` is what the Id hashes (the tool's own grouping); `extra` adds top-level ASFF fields
    (Vulnerabilities, Workflow, ...)."""

    tool: str
    rule: str
    identity: tuple[str, ...]
    title: str
    description: str
    severity: Severity
    types: list[str]
    resource_id: str
    remediation_text: str
    remediation_url: str | None = None
    source_url: str | None = None
    product_fields: dict[str, str] | None = None
    extra: dict[str, Any] | None = None


def _product_fields(ctx: FindingContext, draft: FindingDraft) -> dict[str, str]:
    fields = {
        TOOL_FIELD: draft.tool,
        SCOPE_FIELD: ctx.scope(draft.tool),
        "provision/Repository": ctx.repository,
        "provision/Branch": ctx.branch,
        "provision/Commit": ctx.commit,
        "provision/BuildId": ctx.build_id,
        **(draft.product_fields or {}),
    }
    return {k: clip(v, PRODUCT_FIELD_VALUE_MAX) for k, v in fields.items() if v}


def _resource(ctx: FindingContext, draft: FindingDraft) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "Type": "Other",
        "Id": clip(draft.resource_id or ctx.repository or draft.tool, RESOURCE_ID_MAX),
        "Partition": ctx.partition,
        "Region": ctx.region,
    }
    details = {k: clip(v, 1024) for k, v in (("Repository", ctx.repository), ("Branch", ctx.branch)) if v}
    if details:
        resource["Details"] = {"Other": details}
    return resource


def build_finding(ctx: FindingContext, draft: FindingDraft) -> dict[str, Any]:
    """One ASFF finding whose Id comes from `draft.identity`."""
    recommendation: dict[str, str] = {"Text": clip(draft.remediation_text or "See the scanner documentation.", 512)}
    if draft.remediation_url:
        recommendation["Url"] = draft.remediation_url
    title, rule = draft.title.strip(), draft.rule
    finding: dict[str, Any] = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding_id(draft.tool, ctx.repository, ctx.branch, draft.identity),
        "ProductArn": ctx.product_arn,
        "GeneratorId": clip(f"provision/{draft.tool}/{rule}", 512),
        "AwsAccountId": ctx.account_id,
        "Types": draft.types,
        "FirstObservedAt": ctx.observed_at,
        "LastObservedAt": ctx.observed_at,
        "CreatedAt": ctx.observed_at,
        "UpdatedAt": ctx.observed_at,
        "Severity": draft.severity.as_asff(),
        "Title": clip(title or rule, TITLE_MAX),
        "Description": clip(draft.description.strip() or title or rule, DESCRIPTION_MAX),
        "Remediation": {"Recommendation": recommendation},
        "ProductFields": _product_fields(ctx, draft),
        "Resources": [_resource(ctx, draft)],
        "RecordState": "ACTIVE",
    }
    if draft.source_url:
        finding["SourceUrl"] = draft.source_url
    if draft.extra:
        finding.update(draft.extra)
    return finding

"""Apply (or compare) the stack's OpenSearch content: security roles and mappings, index templates, ISM
policies, the alert channel, Dashboards saved objects and Alerting monitors.

Each object is read back first and written only when OpenSearch does not already hold it, so a second run
writes nothing. In `compare` mode nothing is written and the differences are returned (drift). An engine without
a kind's API (OpenSearch answers `no handler found for uri`, e.g. a cluster without the security or alerting
plugin, or the emulator's osmem-server) gets the other kinds; the report's `skipped` names what it did not get.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provisioner.functions.opensearch_config.apis import KINDS
from provisioner.functions.opensearch_config.client import ApiError, Client
from provisioner.functions.opensearch_config.compare import differences, resolve

__all__ = ["ApiError", "Client", "ObjectResult", "Report", "configure"]

MODES = ("apply", "compare")


@dataclass
class ObjectResult:
    kind: str
    name: str
    status: str  # unchanged | created | updated | missing | differs | skipped
    differences: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "status": self.status, "differences": self.differences}


@dataclass
class Report:
    mode: str
    objects: list[ObjectResult] = field(default_factory=list)

    @property
    def changed(self) -> list[ObjectResult]:
        return [o for o in self.objects if o.status not in ("unchanged", "skipped")]

    def skipped(self) -> dict[str, int]:
        """Per kind, how many objects were not applied because the engine has no such API."""
        kinds: dict[str, int] = {}
        for obj in self.objects:
            if obj.status == "skipped":
                kinds[obj.kind] = kinds.get(obj.kind, 0) + 1
        return kinds

    def as_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for obj in self.objects:
            counts[obj.status] = counts.get(obj.status, 0) + 1
        objects = [o.as_dict() for o in self.changed]
        return {"mode": self.mode, "counts": counts, "objects": objects, "skipped": self.skipped()}


def _no_such_api(exc: ApiError) -> bool:
    """OpenSearch's answer to a path no installed module or plugin handles."""
    return exc.status in (400, 405) and "no handler found for uri" in str(exc)


def _check(content: Any) -> list[dict[str, Any]]:
    objects = content.get("objects") if isinstance(content, dict) else None
    if not isinstance(objects, list):
        raise ValueError("content must be an object with a list 'objects'")
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict) or obj.get("kind") not in KINDS or not obj.get("name") or "body" not in obj:
            raise ValueError(f"content objects[{i}]: needs kind (one of {', '.join(KINDS)}), name and body")
    return objects


def configure(client: Client, content: Any, bindings: dict[str, Any], mode: str = "apply") -> Report:
    """Bring OpenSearch to `content` (mode apply) or only report how it differs (mode compare)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    report = Report(mode)
    for obj in _check(content):
        obj = {**obj, "body": resolve(obj["body"], bindings)}
        read, write = KINDS[obj["kind"]]
        try:
            current = read(client, obj["kind"], obj["name"])
        except ApiError as exc:
            if not _no_such_api(exc):
                raise
            report.objects.append(ObjectResult(obj["kind"], obj["name"], "skipped", ["no such API on this engine"]))
            continue
        found = ["absent"] if current is None else differences(obj["body"], current.body)
        if current is not None and current.ref.get("duplicates"):
            found.append(f"{current.ref['duplicates']} more objects carry this name")
        if not found:
            report.objects.append(ObjectResult(obj["kind"], obj["name"], "unchanged"))
            continue
        if mode == "compare":
            status = "missing" if current is None else "differs"
        else:
            write(client, obj, current)
            status = "created" if current is None else "updated"
        report.objects.append(ObjectResult(obj["kind"], obj["name"], status, found))
    return report

"""Drift of the OpenSearch content: the configurator Lambda, invoked in compare mode, reads every object back and
reports how it differs from the rendered content (it writes nothing). The drift use-case calls `compare()` with
the environment's Terraform outputs `opensearch_configurator_function_name` and `opensearch_configurator_event`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from provisioner.errors import ProvisionError


@dataclass(frozen=True)
class ContentDrift:
    """One object that is missing or differs: kind (e.g. monitor), name, status (missing|differs), details."""

    kind: str
    name: str
    status: str
    differences: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "status": self.status, "differences": list(self.differences)}

    def line(self) -> str:
        detail = f": {'; '.join(self.differences[:3])}" if self.differences and self.status == "differs" else ""
        return f"opensearch {self.kind} {self.name} {self.status}{detail}"


def compare(lambda_client: Any, function_name: str, event_json: str, content: dict[str, Any]) -> list[ContentDrift]:
    """Invoke the configurator in compare mode; [] when OpenSearch holds exactly the content."""
    try:
        event = json.loads(event_json)
    except ValueError:
        raise ProvisionError(f"opensearch configurator_event output is not JSON: {event_json[:80]!r}") from None
    payload = json.dumps({**event, "mode": "compare", "content": content}).encode()
    response = lambda_client.invoke(FunctionName=function_name, InvocationType="RequestResponse", Payload=payload)
    body = response["Payload"].read()
    if response.get("FunctionError"):
        raise ProvisionError(
            f"OpenSearch content could not be compared ({function_name}): {body.decode(errors='replace')}"
        )
    report = json.loads(body)
    return [
        ContentDrift(o["kind"], o["name"], o["status"], tuple(o.get("differences", [])))
        for o in report.get("objects", [])
    ]

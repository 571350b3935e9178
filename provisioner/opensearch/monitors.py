"""The Alerting monitors of the content, each with an action that notifies the stack's alert channel.

`monitors()` is the one seam for the monitors: today it reads `modules/opensearch/dashboards/monitors/*.json`;
once the detection catalogue exists it becomes `provisioner.rules.compile.build_monitors(catalogue, channel_id)`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from provisioner.errors import InputError

MONITORS_DIR = Path("opensearch") / "dashboards" / "monitors"
_SUBJECT = "[{{ctx.monitor.name}}] {{ctx.trigger.name}}"
_MESSAGE = (
    "Monitor {{ctx.monitor.name}} fired trigger {{ctx.trigger.name}} (severity {{ctx.trigger.severity}}).\n"
    "Matching documents: {{ctx.results.0.hits.total.value}} between {{ctx.periodStart}} and {{ctx.periodEnd}}."
)


def notify_action(channel_id: str) -> dict[str, Any]:
    return {
        "name": "Notify the security alert topic",
        "destination_id": channel_id,
        "subject_template": {"source": _SUBJECT, "lang": "mustache"},
        "message_template": {"source": _MESSAGE, "lang": "mustache"},
        "throttle_enabled": True,
        "throttle": {"value": 60, "unit": "MINUTES"},
    }


def with_actions(monitor: dict[str, Any], channel_id: str) -> dict[str, Any]:
    """A copy whose every trigger notifies the channel (replacing any action the source carried)."""
    out = copy.deepcopy(monitor)
    for trigger in out.get("triggers", []):
        trigger["actions"] = [notify_action(channel_id)]
    return out


def monitors(channel_id: str, modules_dir: Path) -> list[dict[str, Any]]:
    """Every monitor, sorted by name, with the channel action."""
    found = []
    for path in sorted((modules_dir / MONITORS_DIR).glob("*.json")):
        try:
            monitor = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: not a readable JSON monitor: {exc}") from None
        if not isinstance(monitor, dict) or not isinstance(monitor.get("name"), str):
            raise InputError(f"{path}: name: a monitor needs a string name")
        found.append(with_actions(monitor, channel_id))
    return sorted(found, key=lambda m: str(m["name"]))

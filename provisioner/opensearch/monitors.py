"""The Alerting monitors of the content: the detection catalogue (`rules/`, Sigma) compiled by
`provisioner.rules`, every trigger notifying the stack's alert channel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from provisioner.rules.detection import Placeholders

RULES_DIR = "rules"


def monitors(channel_id: str, root: Path, placeholders: Placeholders | None = None) -> list[dict[str, Any]]:
    """Every alerting rule of `root/rules` as a monitor body, sorted by name."""
    from provisioner.rules import build_monitors, load_catalogue

    catalogue = load_catalogue(root / RULES_DIR, root, placeholders)
    return sorted(build_monitors(catalogue, channel_id), key=lambda m: str(m["name"]))

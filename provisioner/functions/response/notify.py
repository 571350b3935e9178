"""The alert-topic message: what was decided and done, and how to undo each change."""

from __future__ import annotations

from typing import Any

from provisioner.functions.common import as_dict
from provisioner.functions.response.finding import Finding

_TRACKED_NOTE = (
    "Note: a security group change does not end connections that are already tracked; established sessions "
    "to or from the instance can continue until they go idle. Add a network ACL deny for the instance's "
    "subnet if they must stop at once."
)


def subject(report: dict[str, Any]) -> str:
    finding = report["finding"]
    done = [a for a in report["actions"] if a["status"] == "done" and a["action"] != "note_finding"]
    verdict = f"{len(done)} action(s) taken" if done else "no action"
    if any(a["status"] == "dry_run" for a in report["actions"]):
        verdict = "dry run"
    text = f"GuardDuty response: {verdict}: {finding.get('type') or 'unreadable finding'}"
    # SNS subjects: ASCII, no newlines, at most 100 characters.
    return text.encode("ascii", "replace").decode()[:100]


def _action_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    for action in report["actions"]:
        reason = f" ({action['reason']})" if action.get("reason") else ""
        lines.append(f"- {action['action']} {action['resource']}: {action['status']}{reason}")
        lines.extend(f"    {detail}" for detail in action.get("details", []))
    return lines or ["- none"]


def connection_line(finding: Finding | None) -> str | None:
    """The connection the finding saw, so the responder knows which tracked session may outlive the isolation."""
    if finding is None:
        return None
    action = as_dict(finding.service.get("action"))
    conn = as_dict(action.get("networkConnectionAction"))
    if not conn:
        return None
    remote = as_dict(conn.get("remoteIpDetails")).get("ipAddressV4", "?")
    remote_port = as_dict(conn.get("remotePortDetails")).get("port", "?")
    local_port = as_dict(conn.get("localPortDetails")).get("port", "?")
    direction, protocol = conn.get("connectionDirection", "?"), conn.get("protocol", "?")
    return f"Connection in the finding: {direction} {protocol} remote {remote}:{remote_port}, local port {local_port}"


def message(report: dict[str, Any], connection: str | None = None) -> str:
    finding = report["finding"]
    lines = [
        f"Finding: {finding.get('id')}  type {finding.get('type')}  severity {finding.get('severity')}",
        f"Outcome: {report['skipped_reason'] or 'actions taken'}",
        "",
        "Actions:",
        *_action_lines(report),
    ]
    undo = [step for action in report["actions"] for step in action.get("undo", [])]
    if undo:
        lines += ["", "To undo:", *(f"  {step}" for step in undo)]
    if any(a["action"] == "isolate_network" and a["status"] in ("done", "already_done") for a in report["actions"]):
        lines += ["", _TRACKED_NOTE, *([connection] if connection else [])]
    return "\n".join(lines)


def note_text(report: dict[str, Any]) -> str:
    done = [f"{a['action']} {a['resource']}" for a in report["actions"] if a["status"] == "done"]
    return ("gd-response: " + "; ".join(done))[:512]

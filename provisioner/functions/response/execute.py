"""Carry out a decision with boto3 clients, record it on the finding, and notify the alert topic.

Nothing here raises: every failure ends in an outcome with status `failed` and a reason, and the report is
still notified, so a finding is never dropped silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from provisioner.functions.common import parse_arn, partition_of
from provisioner.functions.response import ec2, identity, ipblock
from provisioner.functions.response.decide import Decision
from provisioner.functions.response.notify import connection_line, message, note_text, subject
from provisioner.functions.response.outcome import ALREADY, DONE, FAILED, MISSING, Clients, Context, Outcome

log = logging.getLogger(__name__)
_RECORDED = frozenset({DONE})


@dataclass
class Report:
    decision: Decision
    outcomes: list[Outcome]
    skipped_reason: str | None
    note: Outcome | None = None
    notified: bool = False
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        actions = [o.as_dict() for o in self.outcomes] + ([self.note.as_dict()] if self.note else [])
        return {
            "finding": self.decision.summary(),
            "actions": actions,
            "skipped_reason": self.skipped_reason,
            "notified": self.notified,
        }


def _guard(step: Any, out: Outcome, *args: Any) -> None:
    try:
        step(*args, out)
    except Exception as exc:
        out.status, out.reason = FAILED, f"{type(exc).__name__}: {exc}"[:500]


def run_actions(decision: Decision, clients: Clients, ctx: Context) -> list[Outcome]:
    outcomes = [Outcome(a.action, a.resource, a.status, a.reason) for a in decision.actions]
    planned = [o for o in outcomes if o.status == "planned"]
    instance_steps = [o for o in planned if o.action in ec2.STEPS]
    if instance_steps:
        try:
            ec2.run_instance_steps(clients.ec2, ctx, instance_steps)
        except Exception as exc:
            for out in instance_steps:
                out.status, out.reason = FAILED, f"{type(exc).__name__}: {exc}"[:500]
    for out in planned:
        if out.action == "deactivate_access_key":
            _guard(identity.deactivate_access_key, out, clients.iam, ctx)
        elif out.action == "revoke_role_sessions":
            _guard(identity.revoke_role_sessions, out, clients.iam, ctx)
        elif out.action == "block_remote_ip":
            _guard(ipblock.block_remote_ip, out, clients.wafv2, ctx)
    return outcomes


def _outcome_reason(decision: Decision, outcomes: list[Outcome]) -> str | None:
    if decision.skipped_reason:
        return decision.skipped_reason
    if any(o.status in (DONE, ALREADY, "dry_run") for o in outcomes):
        return None
    reasons = sorted({o.reason or o.status for o in outcomes if o.status in (MISSING, FAILED, "exempt")})
    return "no action taken: " + "; ".join(reasons) if reasons else "no action taken"


def record_note(clients: Clients, ctx: Context, text: str) -> Outcome:
    """A note on the finding: GuardDuty feedback, else a Security Hub note on the imported finding."""
    finding = ctx.finding
    out = Outcome("note_finding", finding.id, FAILED)
    try:
        clients.guardduty.update_findings_feedback(
            DetectorId=finding.detector_id, FindingIds=[finding.id], Feedback="USEFUL", Comments=text
        )
        out.status, out.details = DONE, ["GuardDuty UpdateFindingsFeedback"]
        return out
    except Exception as exc:
        out.details.append(f"GuardDuty UpdateFindingsFeedback failed: {type(exc).__name__}")
    parsed = parse_arn(finding.arn)
    partition = parsed.partition if parsed else partition_of(finding.region)
    product = f"arn:{partition}:securityhub:{finding.region}::product/aws/guardduty"
    try:
        answer = clients.securityhub.batch_update_findings(
            FindingIdentifiers=[{"Id": finding.arn, "ProductArn": product}],
            Note={"Text": text[:512], "UpdatedBy": "gd-response"},
        )
        if answer.get("UnprocessedFindings"):
            raise RuntimeError(str(answer["UnprocessedFindings"][0].get("ErrorMessage", "unprocessed")))
        out.status = DONE
        out.details.append("Security Hub BatchUpdateFindings note")
    except Exception as exc:
        out.reason = "no note on the finding (GuardDuty and Security Hub both refused); see the alert message"
        out.details.append(f"Security Hub BatchUpdateFindings failed: {type(exc).__name__}")
    return out


def publish(clients: Clients, topic_arn: str, report: Report) -> None:
    if not topic_arn:
        report.errors.append("no alert topic configured")
        return
    try:
        body = report.as_dict()
        text = message(body, connection_line(report.decision.finding))
        clients.sns.publish(TopicArn=topic_arn, Subject=subject(body), Message=text)
        report.notified = True
    except Exception as exc:
        report.errors.append(f"SNS publish failed: {type(exc).__name__}: {exc}")


def execute(decision: Decision, clients: Clients, ctx: Context | None, topic_arn: str) -> Report:
    """Run the decision's planned actions; note and notify as the decision and outcomes require."""
    outcomes = run_actions(decision, clients, ctx) if ctx is not None else []
    report = Report(decision, outcomes, _outcome_reason(decision, outcomes))
    if ctx is not None and any(o.status in _RECORDED for o in outcomes):
        report.note = record_note(clients, ctx, note_text(report.as_dict()))
    trouble = any(o.status in (MISSING, FAILED) for o in outcomes)
    # A re-run that finds everything already done says nothing new: no second message.
    news = trouble or any(o.status in (DONE, "dry_run", "exempt") for o in outcomes)
    if (decision.skipped_reason and decision.notify) or news:
        publish(clients, topic_arn, report)
    level = logging.WARNING if trouble or report.errors else logging.INFO
    log.log(level, "guardduty response %s", report.as_dict() | {"errors": report.errors})
    return report

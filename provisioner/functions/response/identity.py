"""Credential containment: deactivate an IAM user's access key, or revoke a role's older sessions.

Session revocation is the documented one: an inline policy `AWSRevokeOlderSessions` that denies everything
to tokens issued before a time (`aws:TokenIssueTime`), as the IAM console's "Revoke active sessions" writes it.
"""

from __future__ import annotations

import json
from typing import Any

from provisioner.functions.common import error_code
from provisioner.functions.response.outcome import (
    ALREADY,
    DONE,
    EXEMPT,
    MISSING,
    Context,
    Outcome,
    aws_tags,
    tag_map,
)
from provisioner.functions.response.policy import REVOCABLE_TAG

REVOKE_POLICY_NAME = "AWSRevokeOlderSessions"


def revoke_policy(issued_before: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": ["*"],
                "Resource": ["*"],
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": issued_before}},
            }
        ],
    }


def _exempt(tags: dict[str, str], ctx: Context, out: Outcome, what: str) -> bool:
    if ctx.exempt_tag is None:
        return False
    key, value = ctx.exempt_tag
    if tags.get(key) == value:
        out.status, out.reason = EXEMPT, f"{what} tagged {key}={value}"
        return True
    return False


def deactivate_access_key(iam: Any, ctx: Context, out: Outcome) -> None:
    user, _, key_id = out.resource.partition("/")
    try:
        keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        user_tags = tag_map(iam.list_user_tags(UserName=user).get("Tags"))
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        out.status, out.reason = MISSING, f"IAM user {user} no longer exists"
        return
    key = next((k for k in keys if k.get("AccessKeyId") == key_id), None)
    if key is None:
        out.status, out.reason = MISSING, f"access key {key_id} of {user} no longer exists"
        return
    if _exempt(user_tags, ctx, out, f"IAM user {user}"):
        return
    if key.get("Status") == "Inactive":
        out.status = ALREADY
        return
    iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Inactive")
    iam.tag_user(UserName=user, Tags=aws_tags({ctx.tag(f"key-{key_id}"): f"deactivated {ctx.finding.id}"}))
    out.status = DONE
    out.undo.append(f"aws iam update-access-key --user-name {user} --access-key-id {key_id} --status Active")


def _revoked_before(iam: Any, role: str) -> str | None:
    """The cut-off time of an existing revocation policy on the role, if any."""
    try:
        document = iam.get_role_policy(RoleName=role, PolicyName=REVOKE_POLICY_NAME)["PolicyDocument"]
    except Exception as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise
    if isinstance(document, str):  # boto3 decodes it; a raw API answer is URL-encoded JSON text
        document = json.loads(document)
    for statement in document.get("Statement", []):
        value = statement.get("Condition", {}).get("DateLessThan", {}).get("aws:TokenIssueTime")
        if isinstance(value, str):
            return value
    return None


def revoke_role_sessions(iam: Any, ctx: Context, out: Outcome) -> None:
    role = out.resource
    if ctx.own_role_name and role == ctx.own_role_name:
        out.status, out.reason = "not_applicable", "refusing to revoke the response function's own role"
        return
    try:
        tags = tag_map(iam.get_role(RoleName=role)["Role"].get("Tags"))
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        out.status, out.reason = MISSING, f"IAM role {role} no longer exists"
        return
    if role not in ctx.revocable_roles and tags.get(REVOCABLE_TAG[0]) != REVOCABLE_TAG[1]:
        out.status = "not_applicable"
        out.reason = f"IAM role {role} is neither in the policy's revocable_roles nor tagged {'='.join(REVOCABLE_TAG)}"
        return
    if _exempt(tags, ctx, out, f"IAM role {role}"):
        return
    existing = _revoked_before(iam, role)
    # ISO-8601 UTC strings compare in time order: a cut-off at or after the finding's last update covers it.
    if existing and ctx.finding.updated_at and existing >= ctx.finding.updated_at[:19] + "Z":
        out.status, out.details = ALREADY, [f"sessions issued before {existing} already denied"]
        return
    cutoff = ctx.stamp()
    iam.put_role_policy(RoleName=role, PolicyName=REVOKE_POLICY_NAME, PolicyDocument=json.dumps(revoke_policy(cutoff)))
    iam.tag_role(RoleName=role, Tags=aws_tags({ctx.tag("sessions-revoked"): f"{cutoff} {ctx.finding.id}"}))
    out.status, out.details = DONE, [f"sessions issued before {cutoff} denied"]
    out.undo.append(f"aws iam delete-role-policy --role-name {role} --policy-name {REVOKE_POLICY_NAME}")

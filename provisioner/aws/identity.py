"""Preflight: who are we, and is that account one this environment may touch."""

from __future__ import annotations

from dataclasses import dataclass

from provisioner.aws import aws_error, client
from provisioner.errors import GateFailed


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str


def caller_identity(region: str) -> Identity:
    try:
        reply = client("sts", region).get_caller_identity()
    except Exception as exc:  # botocore raises many types; all become one clear line
        raise aws_error("AWS identity check (sts:GetCallerIdentity)", exc) from None
    return Identity(account=str(reply["Account"]), arn=str(reply["Arn"]))


def require_account(region: str, allowed: list[str], env_file: str) -> Identity:
    """Refuse before any Terraform call when the credentials belong to another account."""
    identity = caller_identity(region)
    if identity.account not in allowed:
        raise GateFailed(
            f"refusing: credentials are for account {identity.account} ({identity.arn}), "
            f"but {env_file} allows only {', '.join(allowed)}",
            hint="switch AWS credentials (AWS_PROFILE) or fix account_ids in the spec",
        )
    return identity

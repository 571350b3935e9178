"""The only code that calls AWS for provision's own needs (identity, state backend, posture, inventory, clean-up).

Endpoints come from the standard AWS environment (`AWS_ENDPOINT_URL` included), so the same code runs
against a local moto server in tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from typing import Any

from provisioner.errors import ProvisionError
from provisioner.functions.common import error_code as error_code  # one helper, shared with the Lambdas


@cache
def _session(region: str) -> Any:
    import boto3

    return boto3.session.Session(region_name=region)


def reset_sessions() -> None:
    """Forget cached sessions: the environment (endpoint, credentials) changed, e.g. the emulator started."""
    _session.cache_clear()


# botocore sessions are not thread-safe while they build clients (drift checks run environments in threads).
_CLIENT_LOCK = threading.Lock()


def client(service: str, region: str) -> Any:
    from botocore.config import Config

    config = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=10, read_timeout=60)
    with _CLIENT_LOCK:
        return _session(region).client(service, config=config)


def aws_error(action: str, exc: Exception) -> ProvisionError:
    """One-line error for a failed AWS call (no credentials, access denied, endpoint unreachable)."""
    from botocore.exceptions import ClientError, NoCredentialsError

    if isinstance(exc, NoCredentialsError):
        return ProvisionError(
            f"{action}: no AWS credentials found",
            hint="configure credentials (AWS_PROFILE, environment variables or an instance role)",
        )
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return ProvisionError(f"{action}: {err.get('Code', 'error')}: {err.get('Message', '')}".rstrip(": "))
    return ProvisionError(f"{action}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")


def call(action: str, api_call: Callable[..., Any], **kwargs: Any) -> Any:
    """One AWS call; any failure becomes `aws_error`'s one line naming `action` (e.g. `wafv2:ListWebACLs`)."""
    try:
        return api_call(**kwargs)
    except Exception as exc:  # botocore raises many types; each becomes one clear line
        raise aws_error(action, exc) from None

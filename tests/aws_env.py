"""The one way a test points boto3 (and provision's aws helpers) at the moto server, with test credentials."""

from __future__ import annotations

import pytest

REGION = "eu-west-1"


def point_at_moto(patch: pytest.MonkeyPatch, endpoint: str) -> None:
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        patch.setenv(name, value)

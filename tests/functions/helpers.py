"""Shared test helpers: real data paths, botocore's own ASFF validation, a fake Lambda context."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

DATA = Path(__file__).resolve().parent.parent / "data"
ACCOUNT = "123456789012"
REGION = "eu-west-1"

_INPUT_SHAPE = (
    botocore.session.get_session().get_service_model("securityhub").operation_model("BatchImportFindings").input_shape
)


def asff_errors(findings: list[dict[str, Any]]) -> str:
    """botocore's validation report for a BatchImportFindings call ('' when valid)."""
    assert _INPUT_SHAPE is not None
    report = ParamValidator().validate({"Findings": findings}, _INPUT_SHAPE)
    return report.generate_report() if report.has_errors() else ""


@dataclass
class LambdaContext:
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:findings_importer"

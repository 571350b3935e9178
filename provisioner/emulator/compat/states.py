"""Step Functions fixes (the fleet module's state machine), kept apart from the other services' fixes."""

from __future__ import annotations

import json
from typing import Any

from provisioner.emulator.compat import fix


def _decimal_percentages(node: Any) -> Any:
    """moto's ASL grammar takes `ToleratedFailurePercentage` only as a decimal (`10.0`) where AWS takes any
    number; `jsonencode` writes `10`. The value is unchanged, only its spelling."""
    if isinstance(node, dict):
        out = {k: _decimal_percentages(v) for k, v in node.items()}
        if isinstance(out.get("ToleratedFailurePercentage"), int):
            out["ToleratedFailurePercentage"] = float(out["ToleratedFailurePercentage"])
        return out
    return [_decimal_percentages(v) for v in node] if isinstance(node, list) else node


@fix
def stepfunctions_validate_definition_missing() -> None:
    """`ValidateStateMachineDefinition` is not implemented; hashicorp/aws 5.100 calls it before it creates a state
    machine and retries the 500 for minutes. Answer as AWS does, judged by the ASL parser moto itself ships (the
    one that executes state machines): `OK`, or `FAIL` with the parser's message as an ERROR diagnostic."""
    from moto.core.responses import ActionResult
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.responses import StepFunctionResponse

    def validate_state_machine_definition(self: Any) -> ActionResult:
        definition = self._get_param("definition") or ""
        try:
            AmazonStateLanguageParser.parse(json.dumps(_decimal_percentages(json.loads(definition))))
        except Exception as exc:  # any parser failure is the definition's fault, reported as AWS does
            diagnostic = {"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": str(exc)[:500]}
            return ActionResult({"result": "FAIL", "diagnostics": [diagnostic], "truncated": False})
        return ActionResult({"result": "OK", "diagnostics": [], "truncated": False})

    StepFunctionResponse.validate_state_machine_definition = validate_state_machine_definition  # type: ignore[attr-defined]


@fix
def stepfunctions_list_state_machine_versions_missing() -> None:
    """`ListStateMachineVersions` is not implemented; hashicorp/aws 5.100 reads a state machine's versions after
    every create and refresh. List the versions moto keeps (published ones only), newest first, as AWS does."""
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def list_state_machine_versions(self: Any) -> ActionResult:
        machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
        versions = sorted(machine.versions.items(), reverse=True)
        listed = [{"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for _, v in versions]
        return ActionResult({"stateMachineVersions": listed})

    StepFunctionResponse.list_state_machine_versions = list_state_machine_versions  # type: ignore[attr-defined]

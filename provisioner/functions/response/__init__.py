"""GuardDuty automated response: one pure decision function shared by the Lambda and `provision respond`.

`policy` validates the per-environment policy, `finding` reads a finding (raw, EventBridge envelope or the
PascalCase GetFindings shape), `decide` maps finding + policy to actions, `execute` carries them out with
boto3 clients (idempotently), `notify` writes the alert-topic message and `handler` is the Lambda entry point.
"""

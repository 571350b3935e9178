"""`provision drift`: does the live infrastructure still match the code, and is its security posture intact?

`check` runs the checks (Terraform plans, posture, unmanaged resources) per environment, concurrently;
`model` holds the results and their verdict (exit code); `unmanaged` decides which tagged resources the state
does not explain. Output formats live in `provisioner.report.drift`; the JSON shape is the committed schema
`provisioner/schemas/drift-report.schema.json`.
"""

from provisioner.drift.check import DriftRequest, check_drift, run
from provisioner.drift.model import DriftReport, EnvironmentDrift

__all__ = ["DriftReport", "DriftRequest", "EnvironmentDrift", "check_drift", "run"]

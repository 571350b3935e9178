"""Drift results and their verdict: one `EnvironmentDrift` per environment, a `DriftReport` over all of them.

Exit codes (the command's public contract, as Terraform's `-detailed-exitcode`): 0 no drift, 2 drift, 1 error
(any environment could not be checked completely; drift found in the others is still in the report).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from provisioner.errors import EXIT_DRIFT, EXIT_FAILED, EXIT_OK
from provisioner.functions.common import iso_utc

if TYPE_CHECKING:
    from provisioner.aws.inventory import TaggedResource
    from provisioner.aws.posture import PostureCheck
    from provisioner.opensearch.drift import ContentDrift
    from provisioner.plan import DriftResult

JSON_SCHEMA = 1
Status = Literal["clean", "drift", "error"]


@dataclass
class EnvironmentDrift:
    """One environment's result; parts that did not run stay None."""

    environment: str
    workspace: str | None = None
    region: str | None = None
    terraform: DriftResult | None = None
    posture: list[PostureCheck] | None = None
    unmanaged: list[TaggedResource] | None = None
    opensearch: list[ContentDrift] | None = None  # OpenSearch content (templates, roles, monitors) vs the code
    errors: list[str] = field(default_factory=list)
    duration: float = 0.0

    @property
    def name(self) -> str:
        return self.workspace or self.environment

    @property
    def findings(self) -> list[PostureCheck]:
        return [c for c in self.posture or () if c.status == "drift"]

    @property
    def all_errors(self) -> list[str]:
        return list(self.errors) + [f"{c.id}: {c.message}" for c in self.posture or () if c.status == "error"]

    @property
    def status(self) -> Status:
        if self.all_errors:
            return "error"
        drifted = self.terraform is not None and self.terraform.has_drift
        return "drift" if drifted or self.findings or self.unmanaged or self.opensearch else "clean"

    def counts(self) -> dict[str, int]:
        tf = self.terraform
        return {
            "changed_outside": len(tf.changed_outside) if tf else 0,
            "pending": len(tf.pending) if tf else 0,
            "posture": len(self.findings),
            "unmanaged": len(self.unmanaged or ()),
            "opensearch": len(self.opensearch or ()),
        }

    def to_json(self) -> dict[str, Any]:
        terraform = None
        if self.terraform is not None:
            terraform = self.terraform.to_json()
            terraform.pop("schema", None)
        return {
            "environment": self.environment,
            "workspace": self.workspace,
            "region": self.region,
            "status": self.status,
            "errors": self.all_errors,
            "duration_seconds": round(self.duration, 2),
            "terraform": terraform,
            "posture": None if self.posture is None else [c.to_json() for c in self.posture],
            "unmanaged": None if self.unmanaged is None else [r.to_json() for r in self.unmanaged],
            "opensearch": None if self.opensearch is None else [d.to_json() for d in self.opensearch],
        }


@dataclass
class DriftReport:
    environments: list[EnvironmentDrift]
    aws_checks: bool
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def exit_code(self) -> int:
        statuses = {env.status for env in self.environments}
        if "error" in statuses:
            return EXIT_FAILED
        return EXIT_DRIFT if "drift" in statuses else EXIT_OK

    def summary(self) -> dict[str, int]:
        counts = {"environments": len(self.environments), "clean": 0, "drift": 0, "error": 0}
        for env in self.environments:
            counts[env.status] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": JSON_SCHEMA,
            "generated_at": iso_utc(self.generated_at),
            "aws_checks": self.aws_checks,
            "exit_code": self.exit_code,
            "summary": self.summary(),
            "environments": [env.to_json() for env in self.environments],
        }

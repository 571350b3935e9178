"""The only code that runs the terraform binary, by concern:

- `binary`: finding terraform and checking its version;
- `diagnostics`: diagnostics from `-json` events and from the human output, and the lock ID in them;
- `process`: one streamed process, its events, stderr and Ctrl-C (forwarded once, then a kill);
- `results`: what a run, a plan and an apply leave behind;
- `runner`: `Terraform`, one method per command for one working directory.

Importers use this package's names (`from provisioner.terraform import Terraform, find_terraform`).
"""

from provisioner.terraform.binary import INSTALL_ADVICE, MIN_VERSION, TerraformBinary, find_terraform
from provisioner.terraform.diagnostics import Diagnostic, parse_plain_diagnostics
from provisioner.terraform.process import KILL_GRACE_SECONDS, EventHandler
from provisioner.terraform.results import ApplyOutcome, ChangeCounts, PlanOutcome, RunResult
from provisioner.terraform.runner import LOCAL_LOCK_FILE, Terraform

__all__ = [
    "INSTALL_ADVICE",
    "KILL_GRACE_SECONDS",
    "LOCAL_LOCK_FILE",
    "MIN_VERSION",
    "ApplyOutcome",
    "ChangeCounts",
    "Diagnostic",
    "EventHandler",
    "PlanOutcome",
    "RunResult",
    "Terraform",
    "TerraformBinary",
    "find_terraform",
    "parse_plain_diagnostics",
]

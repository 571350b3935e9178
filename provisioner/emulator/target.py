"""The seam the lifecycle calls before preflight: where an environment's AWS calls go.

For `target: aws` nothing changes. For `target: emulator` the emulator is started (or reused) and the
process environment is pointed at it, so Terraform (provider and S3 backend) and boto3 all reach it:
`AWS_ENDPOINT_URL` for the provider and boto3, the per-service variables the S3 backend (Terraform >= 1.6)
reads, test credentials, and the provider plugin dir when one is found.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from provisioner.errors import InputError
from provisioner.project import Project

if TYPE_CHECKING:
    from provisioner.spec import EnvironmentSpec

PLUGIN_DIR_ENV = "PROVISION_PLUGIN_DIR"
# Standard filesystem mirror locations Terraform itself searches (CLI config docs, "Implied local mirror
# directories"), plus /opt/tf-plugins where machines of this kind keep hashicorp/aws.
MIRROR_CANDIDATES = (
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
    "/opt/tf-plugins",
)
AWS_PROVIDER_PATH = Path("registry.terraform.io/hashicorp/aws")
# Pass-through credentials: any non-empty value works against moto; these are never real secrets.
TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
# Variables that would send calls elsewhere or pick other credentials.
_CLEARED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")


@dataclass(frozen=True)
class Target:
    emulator: bool
    endpoint: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    plugin_dir: Path | None = None


def find_aws_mirror(candidates: tuple[str, ...] = MIRROR_CANDIDATES) -> Path | None:
    """The first standard mirror directory that holds hashicorp/aws for this platform."""
    for raw in candidates:
        root = Path(raw).expanduser()
        if any((root / AWS_PROVIDER_PATH).glob("*/linux_amd64/terraform-provider-aws*")):
            return root
    return None


def check_plugin_dir(plugin_dir: Path, source: str) -> Path:
    """A plugin dir given by the user must hold hashicorp/aws; exit 2 naming the layout otherwise."""
    if not plugin_dir.is_dir():
        raise InputError(f"{source} {plugin_dir}: not a directory")
    if not any((plugin_dir / AWS_PROVIDER_PATH).glob("*/*/terraform-provider-aws*")):
        raise InputError(
            f"{source} {plugin_dir}: no hashicorp/aws provider in it; lay it out as "
            f"{plugin_dir}/{AWS_PROVIDER_PATH}/VERSION/linux_amd64/terraform-provider-aws_*"
        )
    return plugin_dir.resolve()


def emulator_env(endpoint: str, region: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        # The S3 backend's services by name (its `endpoints` block reads these), so no SDK's reading of the
        # global variable decides where the state goes.
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_ENDPOINT_URL_STS": endpoint,
        "AWS_ENDPOINT_URL_IAM": endpoint,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        # The emulator answers every service: no instance-metadata lookups.
        "AWS_EC2_METADATA_DISABLED": "true",
        # A call the emulator lacks fails in seconds instead of minutes of SDK retries (provider and boto3).
        "AWS_MAX_ATTEMPTS": "3",
        **TEST_CREDENTIALS,
    }


def activate(project: Project, spec: EnvironmentSpec, plugin_dir: Path | None = None) -> Target:
    """Point this process (and the Terraform it starts) at the environment's target; idempotent."""
    if spec.target != "emulator":
        return Target(emulator=False, plugin_dir=plugin_dir)
    from provisioner.emulator.launcher import ensure_running

    if plugin_dir is None and os.environ.get(PLUGIN_DIR_ENV):
        plugin_dir = check_plugin_dir(Path(os.environ[PLUGIN_DIR_ENV]), PLUGIN_DIR_ENV)
    elif plugin_dir is not None:
        plugin_dir = check_plugin_dir(plugin_dir, "--plugin-dir")
    else:
        plugin_dir = find_aws_mirror()  # None: terraform init downloads the provider as usual
    record = ensure_running(project)
    env = emulator_env(record.endpoint, spec.region)
    for name in _CLEARED:
        os.environ.pop(name, None)
    os.environ.update(env)
    if plugin_dir is not None:
        os.environ[PLUGIN_DIR_ENV] = str(plugin_dir)
    from provisioner.aws import reset_sessions

    reset_sessions()
    _bootstrap_backend(spec)
    return Target(emulator=True, endpoint=record.endpoint, env=env, plugin_dir=plugin_dir)


def _bootstrap_backend(spec: EnvironmentSpec) -> None:
    """A fresh emulator has no state bucket (or lock table, where one is needed): create them as `provision
    bootstrap` would."""
    if spec.backend.type != "s3":
        return
    from provisioner.aws.backend import bootstrap, lock_table
    from provisioner.ownership import project_tags
    from provisioner.terraform import find_terraform

    table = lock_table(spec, find_terraform().version)
    tags = project_tags(spec.project, spec.tags.as_aws_tags())
    bootstrap(spec.backend_bucket(), table, spec.region, tags, kms_key=spec.backend.kms_key_alias)


def configurator_skipped(spec: EnvironmentSpec) -> str | None:
    """What the OpenSearch configurator did not apply because the emulator's engine has no such API (its last
    run's log line), or None when it skipped nothing or did not run."""
    from provisioner.aws import client
    from provisioner.functions.opensearch_config.handler import SKIPPED_MARKER

    logs = client("logs", spec.region)
    group = f"/aws/lambda/{spec.name_prefix}-os-configurator"
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        events = logs.filter_log_events(logGroupName=group, filterPattern=f'"{SKIPPED_MARKER}"')["events"]
    except (BotoCoreError, ClientError):  # no configurator (a stand-in), or the log is unreadable: say nothing
        return None
    if not events:
        return None
    return str(events[-1]["message"]).split(SKIPPED_MARKER, 1)[1].strip()


def next_steps(spec: EnvironmentSpec) -> str:
    """What `up` on the emulator created and what to try next (printed after the apply)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    env = f"--env {spec.name}" + (f" --name {spec.instance}" if spec.instance else "")
    skipped = configurator_skipped(spec)
    lines = [f"The {spec.workspace} stack is up on the embedded emulator ({endpoint}); state in its S3 bucket."]
    if skipped:
        lines.append(f"OpenSearch content not applied (the emulator's engine has no such API), per kind: {skipped}")
    lines += [
        "Next:",
        f"  provision demo attack {env}      # replay an attack: Lambdas -> OpenSearch -> monitor -> SNS alert",
        f"  provision drift {env}            # no drift right after up; change something and see it reported",
        f"  aws --endpoint-url {endpoint} s3 ls   # any AWS CLI/SDK call works (credentials: testing/testing)",
        f"  provision down {env} --yes       # destroy it all (then `provision emulator stop`)",
    ]
    return "\n".join(lines)

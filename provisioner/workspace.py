"""The workspace context: one environment (or ephemeral instance) being worked on by one command.

Every use-case (`lifecycle`, `drift`, `teardown`) receives a `Workspace` instead of a long argument list: the
spec is loaded once, there is one `Terraform` for the work dir, and the steps every use-case shares (preflight,
render, validate, init) and the command hints that name `--env`/`--name` live here, once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from provisioner.errors import GateFailed, InputError, ProvisionError, TerraformError
from provisioner.planstore import PlanStore
from provisioner.project import Project, WorkspaceRef, validate_instance_name
from provisioner.ui import UI

if TYPE_CHECKING:
    from provisioner.emulator.target import Target
    from provisioner.instances import Instance
    from provisioner.render import RenderResult
    from provisioner.scan import ScanSession
    from provisioner.spec import CheckovPolicy, EnvironmentSpec
    from provisioner.terraform import Terraform


def _real_terraform(work_dir: Path, plugin_dir: Path | None) -> Terraform:
    from provisioner.terraform import Terraform

    return Terraform(work_dir, plugin_dir=plugin_dir)


def _real_scan_session(policy: CheckovPolicy, base: Path) -> ScanSession:
    from provisioner.scan import ScanSession

    return ScanSession(policy, base=base)


def _real_terraform_version() -> str:
    """The binary as preflight names it: product, version and path (refused below the supported floor)."""
    from provisioner.terraform import find_terraform

    binary = find_terraform()
    return f"{binary.label} ({binary.path})"


@dataclass(frozen=True)
class Tools:
    """The external programs a workspace drives. The defaults run the real ones; the fast test lane passes
    fakes (tests/fakes.py), as Atlantis mocks its TerraformExec, so use-cases are tested without spawning them."""

    terraform: Callable[[Path, Path | None], Terraform] = _real_terraform
    scan_session: Callable[[CheckovPolicy, Path], ScanSession] = _real_scan_session
    terraform_version: Callable[[], str] = _real_terraform_version


def require_template(project: Project, spec: EnvironmentSpec) -> None:
    """`--name` stamps an instance of a template environment; anything else is refused."""
    if not spec.ephemeral.template:
        shown = project.relative(project.environment_file(spec.name))
        raise InputError(f"{shown}: ephemeral.template: is false; --name needs a template")


def load_spec(project: Project, ref: WorkspaceRef, record: Instance | None = None) -> EnvironmentSpec:
    """The one builder of a workspace's spec: the environment's, or for an instance its template stamped with
    the instance's record (`record`, when the caller already holds it, else the one found locally or in S3)."""
    from provisioner import instances
    from provisioner.spec import load_environment

    template = load_environment(project, ref.env)
    if ref.instance is None:
        return template
    validate_instance_name(ref.instance)
    require_template(project, template)
    record = record or instances.find(project, template, ref.instance)
    if record is None:
        raise InputError(
            f"no instance {ref.instance!r} of environment {ref.env!r}; create it with "
            f"`provision up --env {ref.env} --name {ref.instance} --ttl 24h`"
        )
    return stamped(template, record)


def stamped(template: EnvironmentSpec, record: Instance) -> EnvironmentSpec:
    """An instance's spec: its template with the record's name, creation and expiry (tags, prefix, state key)."""
    return template.stamp(record.name, record.created_at, record.expires_at)


@dataclass
class Workspace:
    project: Project
    spec: EnvironmentSpec
    ui: UI
    plugin_dir: Path | None = None
    tools: Tools = field(default_factory=Tools)
    _rendered: RenderResult | None = field(default=None, init=False, repr=False)
    _terraform: Terraform | None = field(default=None, init=False, repr=False)
    _target: Target | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.plugin_dir is not None:
            if not self.plugin_dir.is_dir():
                raise InputError(f"--plugin-dir {self.plugin_dir}: not a directory")
            self.plugin_dir = self.plugin_dir.resolve()

    @classmethod
    def open(
        cls, project: Project, env: str, *, instance: str | None = None, ui: UI, plugin_dir: Path | None = None
    ) -> Workspace:
        return cls(project, load_spec(project, WorkspaceRef(env, instance)), ui, plugin_dir)

    # -- naming -------------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.spec.workspace

    @property
    def spec_file(self) -> str:
        return self.project.relative(self.project.environment_file(self.spec.name))

    def command(self, verb: str) -> str:
        """How the operator repeats a step on this workspace, e.g. `provision down --env demo --name pr-1`."""
        named = f" --name {self.spec.instance}" if self.spec.instance else ""
        return f"provision {verb} --env {self.spec.name}{named}"

    @property
    def work_dir(self) -> Path:
        return self.project.work_dir(self.spec.name, self.spec.instance)

    @property
    def plans(self) -> PlanStore:
        return PlanStore(self.work_dir)

    def for_instance(self, record: Instance) -> Workspace:
        """The workspace of one instance of this template workspace (`up --name`): a new one, so nothing
        rendered or run for the template carries over, except the target it activated (the same account or
        emulator: an instance shares its template's)."""
        instance = Workspace(self.project, stamped(self.spec, record), self.ui, self.plugin_dir, self.tools)
        instance._target = self._target
        return instance

    # -- shared steps ---------------------------------------------------------------------------------------

    def activate(self) -> Target:
        """Point this process at the environment's target (for `target: emulator`: start or reuse the emulator,
        its endpoint, credentials and provider dir), once. `terraform` calls it before it builds anything, so no
        Terraform of this workspace can exist without its target."""
        if self._target is None:
            from provisioner.emulator.target import activate

            self._target = activate(self.project, self.spec)
        return self._target

    def preflight(self) -> None:
        """Terraform is usable and the credentials belong to one of the spec's accounts: before anything
        touches AWS or Terraform."""
        from provisioner.aws.identity import require_account

        self.ui.step("Preflight: terraform and AWS identity")
        target = self.activate()
        if target.emulator:
            where = target.plugin_dir or "the registry"
            self.ui.info(f"  target: the embedded emulator at {target.endpoint} (provider: {where})")
        version = self.tools.terraform_version()
        identity = require_account(self.spec.region, self.spec.account_ids, self.spec_file)
        self.ui.info(f"  {version}")
        self.ui.info(f"  AWS account {identity.account} ({identity.arn})")

    def render(self) -> RenderResult:
        if self._rendered is None:
            from provisioner.render import render

            self._rendered = render(self.project, self.spec)
        return self._rendered

    @property
    def terraform(self) -> Terraform:
        """The one `Terraform` of this work dir, built only after the target is active."""
        if self._terraform is None:
            target = self.activate()
            found = os.environ.get("PROVISION_PLUGIN_DIR")
            plugin_dir = self.plugin_dir or target.plugin_dir or (Path(found).resolve() if found else None)
            self._terraform = self.tools.terraform(self.work_dir, plugin_dir)
        return self._terraform

    def scan_session(self) -> ScanSession:
        """One Checkov start-up for the scans of this run (close it when done)."""
        return self.tools.scan_session(self.spec.checkov, self.project.root)

    def validate(self) -> None:
        from provisioner.validate import validate_tree

        self.ui.step("Validating (HCL parse, terraform fmt, AWS provider schema)")
        rendered = self.render()
        root = self.project.root
        problems = [str(d) for d in validate_tree(rendered.work_dir, self.project.modules_dir, relative_to=root)]
        # `terraform fmt` reads files only: `provision validate` alone stays offline (no emulator started for it);
        # after preflight (plan, up) the workspace's own Terraform does it.
        tf = self.terraform if self._target is not None else self.tools.terraform(self.work_dir, None)
        for path in (rendered.work_dir, self.project.modules_dir):
            for unformatted in tf.fmt_check([path]):
                where = Path(unformatted)
                shown = self.project.relative(where if where.is_absolute() else (tf.workdir / where).resolve())
                problems.append(f"{shown}: not formatted (run `terraform fmt`)")
        if problems:
            for line in problems:
                self.ui.error(line)
            raise GateFailed(f"validation failed: {len(problems)} problem(s) in the configuration")
        self.ui.info("  configuration is valid")

    def init(self) -> None:
        self.ui.step("terraform init")
        self.render()
        from provisioner.aws.backend import init_settings

        tf = self.terraform
        other = tf.initialised_by_other()
        if other is not None:
            self.ui.info(
                f"  {other} initialised this work dir, this run uses terraform {tf.binary.version_text} "
                f"({tf.binary.path}): re-initialising it (-reconfigure; the state stays where it is)"
            )
        try:
            tf.init(
                backend_config=init_settings(self.spec, tf.binary.version),
                reconfigure=other is not None,
                on_event=lambda event: None,
            )
        except TerraformError as exc:
            text = " ".join([exc.message, *exc.diagnostics])
            if "Failed to query available provider packages" in text or "Failed to install provider" in text:
                raise _offline(self.spec) from None
            raise


def _offline(spec: EnvironmentSpec) -> ProvisionError:
    providers = ", ".join(p.source for p in spec.terraform.providers.values()) or "providers"
    return ProvisionError(
        f"offline: render, validate and the Checkov scan passed, but terraform init could not install "
        f"{providers} (the Terraform registry is unreachable from here)",
        hint="point provision at a local copy: --plugin-dir DIR (or PROVISION_PLUGIN_DIR), laid out as "
        "DIR/registry.terraform.io/hashicorp/aws/VERSION/linux_amd64/terraform-provider-aws_*, or set "
        "TF_CLI_CONFIG_FILE to a CLI config with a provider_installation filesystem_mirror or "
        "network_mirror block",
    )

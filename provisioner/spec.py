"""Environment specs: `environments/_defaults.yaml` deep-merged with `environments/<env>.yaml`, validated.

Every problem becomes a `SpecError` naming the file, the key path and the reason, before anything is written.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from provisioner.component_inputs import TAG_MAX, check_component_inputs, check_wiring, tag_problem
from provisioner.errors import SpecError
from provisioner.functions.common import iso_utc
from provisioner.primitives import did_you_mean
from provisioner.project import INSTANCE_SEPARATOR, Project, workspace_id
from provisioner.spec_files import Sources, deep_merge, key_path, origin, read_layers, shown_key

# ASCII digits only throughout: `\d` also matches Arabic-Indic or fullwidth digits.
_DURATION_RE = re.compile(r"([0-9]+)([mhdw])")
_DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# `<component>.<output>` or `lambda.<function>`
_REF_RE = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")
# Names written into HCL as identifiers. A provider's local name (`<name> = {` in required_providers): Terraform's
# provider-name grammar, lowercase. A component name: `module.<name>`, `var.<name>` and the wiring grammar above.
_PROVIDER_NAME_RE = re.compile(r"[a-z](?:[a-z0-9-]{0,62}[a-z0-9])?")
_COMPONENT_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_ENVIRONMENT_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9])?")
# Root variables provision declares, wiring's `lambda.<function>`, and the names Terraform reserves for variables.
_RESERVED_COMPONENT_NAMES = {"allowed_account_ids", "lambda_packages", "lambda", "source", "version", "providers"}
_RESERVED_COMPONENT_NAMES |= {"count", "for_each", "lifecycle", "depends_on", "locals"}
NAME_PREFIX_MAX = 24
GLOBAL_INPUTS = (
    "name_prefix",
    "environment",
    "region",
    "tags",
    "vpc_cidr",
    "private_subnet_cidrs",
    "public_subnet_cidrs",
)
# Set by provision on every resource besides the spec's own: Owner, CostCenter, ownership and instance tags.
PROVISION_TAGS = ("Owner", "CostCenter", "Project", "Environment", "ManagedBy", "Instance", "CreatedAt", "ExpiresAt")


def parse_duration(text: str) -> timedelta:
    """`90m`, `24h`, `7d`, `2w` -> timedelta; ValueError otherwise."""
    match = _DURATION_RE.fullmatch(text.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration like 90m, 24h, 7d or 2w")
    return timedelta(**{_DURATION_UNITS[match.group(2)]: int(match.group(1))})


def _check_names(names: Iterable[str], grammar: re.Pattern[str], what: str, allowed: str) -> None:
    """Names Terraform reads as identifiers (never quoted in HCL): refused unless they match `grammar`."""
    for name in names:
        if not grammar.fullmatch(name):
            shown = shown_key(name) if len(name) > 64 else repr(name)
            raise ValueError(f"{what} {shown}: {allowed}, starting with a letter, at most 64 (a Terraform name)")


class _Model(BaseModel):
    # Misspelt keys are errors, not silently ignored settings.
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckSkip(_Model):
    id: str = Field(pattern=r"^CKV2?_[A-Z0-9]+_[0-9]+$")
    reason: str
    # Resource addresses (fnmatch patterns) the skip is limited to; empty = every resource.
    resources: list[str] = []

    def covers(self, resource: str) -> bool:
        return not self.resources or any(fnmatch.fnmatchcase(resource, p) for p in self.resources)

    @field_validator("reason")
    @classmethod
    def _specific_reason(cls, value: str) -> str:
        if len(value.strip()) < 15:
            raise ValueError("a skipped check needs a specific written reason (at least 15 characters)")
        return value.strip()


class CheckovPolicy(_Model):
    skip: list[CheckSkip] = []

    @field_validator("skip")
    @classmethod
    def _unique(cls, value: list[CheckSkip]) -> list[CheckSkip]:
        seen: set[str] = set()
        for item in value:
            if item.id in seen:
                raise ValueError(f"{item.id} is listed twice")
            seen.add(item.id)
        return value


class Protection(_Model):
    destroy_protected: bool = False
    # A protected environment can only be destroyed when this is true AND the operator confirms explicitly.
    allow_destroy: bool = False


class Ephemeral(_Model):
    template: bool = False
    default_ttl: str = "24h"
    max_ttl: str = "7d"

    @field_validator("default_ttl", "max_ttl")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @model_validator(mode="after")
    def _ttl_order(self) -> Ephemeral:
        if parse_duration(self.default_ttl) > parse_duration(self.max_ttl):
            raise ValueError("default_ttl is longer than max_ttl")
        return self


class Network(_Model):
    vpc_cidr: str
    private_subnet_cidrs: list[str] = Field(min_length=1)
    public_subnet_cidrs: list[str] = []

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        return _check_cidr(value)

    @field_validator("private_subnet_cidrs", "public_subnet_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        return [_check_cidr(v) for v in value]

    @model_validator(mode="after")
    def _subnets_inside_vpc(self) -> Network:
        vpc = ipaddress.ip_network(self.vpc_cidr)
        subnets = [ipaddress.ip_network(c) for c in (*self.private_subnet_cidrs, *self.public_subnet_cidrs)]
        for subnet in subnets:
            if not subnet.subnet_of(vpc):  # type: ignore[arg-type]
                raise ValueError(f"subnet {subnet} is not inside vpc_cidr {vpc}")
        for i, a in enumerate(subnets):
            for b in subnets[i + 1 :]:
                if a.overlaps(b):
                    raise ValueError(f"subnets {a} and {b} overlap")
        return self


def _check_cidr(value: str) -> str:
    try:
        net = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid IPv4 CIDR ({exc})") from None
    if net.prefixlen < 16 or net.prefixlen > 28:
        raise ValueError(f"{value!r}: AWS allows VPC/subnet prefixes from /16 to /28")
    return value


class Tags(_Model):
    model_config = ConfigDict(extra="allow", frozen=True)
    owner: str = Field(min_length=1, max_length=256)
    cost_center: str = Field(min_length=1, max_length=256)

    def as_aws_tags(self) -> dict[str, str]:
        extra = {str(k): str(v) for k, v in (self.model_extra or {}).items()}
        return {"Owner": self.owner, "CostCenter": self.cost_center, **extra}

    @model_validator(mode="after")
    def _aws_limits(self) -> Tags:
        extra = dict(self.model_extra or {})
        taken = sorted(set(extra) & set(PROVISION_TAGS))
        if taken:
            raise ValueError(f"tag {taken[0]!r} is set by provision (owner, cost_center and ownership tags)")
        # Room for every tag provision adds, so an ephemeral instance of this spec stays within AWS's limit.
        if len(extra) > TAG_MAX - len(PROVISION_TAGS):
            raise ValueError(
                f"{len(extra)} tags: at most {TAG_MAX - len(PROVISION_TAGS)} of your own "
                f"(AWS allows {TAG_MAX} per resource; provision sets {len(PROVISION_TAGS)})"
            )
        problem = tag_problem({"Owner": self.owner, "CostCenter": self.cost_center, **extra})
        if problem:
            raise ValueError(problem)
        return self


class Provider(_Model):
    source: str = Field(pattern=r"^[a-z0-9-]+/[a-z0-9-]+$")
    version: str = Field(pattern=r"^[0-9<>=~!,. ]+$")


class TerraformSettings(_Model):
    required_version: str = Field(default=">= 1.5", pattern=r"^[0-9<>=~!,. ]+$")
    providers: dict[str, Provider] = {}

    @field_validator("providers")
    @classmethod
    def _local_names(cls, value: dict[str, Provider]) -> dict[str, Provider]:
        _check_names(value, _PROVIDER_NAME_RE, "provider name", "lowercase letters, digits and '-'")
        return value


class Backend(_Model):
    type: Literal["s3", "local"] = "s3"
    bucket: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    lock_table: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{3,255}$")
    key_prefix: str = Field(default="provision", pattern=r"^[A-Za-z0-9_./-]+$")
    kms_key_alias: str | None = Field(default=None, pattern=r"^alias/[A-Za-z0-9/_-]+$")


class Drift(_Model):
    # Resource ARNs (or ARN prefixes ending in *) never reported as unmanaged.
    ignore: list[str] = []


_ROLE_ARN = r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}$"


class Fleet(_Model):
    """How a fleet run (a CI matrix job, the `fleet` module's builds) reaches this environment's account."""

    # The role a drift job assumes in the environment's account; default `<project>-fleet-drift` there (the
    # role the `fleet_member` module creates).
    role_arn: str | None = Field(default=None, pattern=_ROLE_ARN)


class Component(_Model):
    enabled: bool = True
    module: str | None = None
    inputs: dict[str, Any] = {}
    wiring: dict[str, str | list[str]] = {}

    @field_validator("wiring")
    @classmethod
    def _refs(cls, value: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        for var, ref in value.items():
            for item in [ref] if isinstance(ref, str) else ref:
                if not _REF_RE.fullmatch(item):
                    raise ValueError(
                        f"{shown_key(var)}: {item!r} is not a reference like network.vpc_id or lambda.name"
                    )
        return value


class EnvironmentSpec(_Model):
    name: str
    project: str = Field(pattern=r"^[a-z][a-z0-9-]{1,30}$")
    account_ids: list[str] = Field(min_length=1)
    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
    # Modules name resources `<name_prefix>-...` within AWS name limits: at most 24 characters.
    name_prefix: str = Field(pattern=r"^[a-z][a-z0-9-]{0,22}[a-z0-9]$")
    # Where the AWS calls go: a real account, or the embedded emulator (provisioner/emulator, `local` env).
    target: Literal["aws", "emulator"] = "aws"
    network: Network | None = None
    tags: Tags
    protection: Protection = Protection()
    ephemeral: Ephemeral = Ephemeral()
    checkov: CheckovPolicy = CheckovPolicy()
    terraform: TerraformSettings = TerraformSettings()
    backend: Backend = Backend()
    drift: Drift = Drift()
    fleet: Fleet = Fleet()
    components: dict[str, Component] = {}
    # Set for an ephemeral instance stamped from a template (not written in YAML).
    instance: str | None = None
    created_at: datetime | None = None
    expires_at: datetime | None = None
    # Which spec file each key path came from (set by load_environment; errors found later name the right file).
    _sources: Sources = PrivateAttr(default=())

    def file_of(self, key: str) -> str:
        """The spec file that holds `key` (the environment's file when it came from neither)."""
        return origin(key, self._sources) if self._sources else f"environments/{self.name}.yaml"

    @field_validator("components")
    @classmethod
    def _component_names(cls, value: dict[str, Component]) -> dict[str, Component]:
        _check_names(value, _COMPONENT_NAME_RE, "component name", "lowercase letters, digits and '_'")
        for name in value:
            if name in _RESERVED_COMPONENT_NAMES or name in GLOBAL_INPUTS:
                raise ValueError(f"component name {name!r} is reserved (a name provision or Terraform uses)")
        return value

    @field_validator("account_ids", mode="before")
    @classmethod
    def _accounts(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        for account in value:
            if isinstance(account, int):
                raise ValueError(f"write account id {account} as a quoted string (YAML drops leading zeros)")
            if not isinstance(account, str) or not re.fullmatch(r"[0-9]{12}", account):
                raise ValueError(f"{account!r} is not a 12-digit AWS account id")
        return [str(a) for a in value]

    @property
    def workspace(self) -> str:
        return workspace_id(self.name, self.instance)

    @property
    def enabled_components(self) -> dict[str, Component]:
        return {name: c for name, c in sorted(self.components.items()) if c.enabled}

    def aws_tags(self) -> dict[str, str]:
        from provisioner.ownership import owner_tags

        tags = {**owner_tags(self), **self.tags.as_aws_tags()}
        if self.instance:
            if self.created_at:
                tags["CreatedAt"] = iso_utc(self.created_at)
            if self.expires_at:
                tags["ExpiresAt"] = iso_utc(self.expires_at)
        return dict(sorted(tags.items()))

    def globals(self) -> dict[str, Any]:
        """Values every module may declare as a variable and receive automatically."""
        values: dict[str, Any] = {
            "name_prefix": self.name_prefix,
            "environment": self.workspace,
            "region": self.region,
            "tags": self.aws_tags(),
        }
        if self.network:
            values["vpc_cidr"] = self.network.vpc_cidr
            values["private_subnet_cidrs"] = list(self.network.private_subnet_cidrs)
            values["public_subnet_cidrs"] = list(self.network.public_subnet_cidrs)
        return values

    def stamp(
        self,
        instance: str,
        created_at: datetime | None,
        expires_at: datetime | None,
        *,
        spec_file: str | None = None,
    ) -> EnvironmentSpec:
        """This template stamped as one ephemeral instance (own name prefix, state key and tags)."""
        shown = spec_file or f"environments/{self.name}.yaml"
        if not self.ephemeral.template:
            raise SpecError(shown, "ephemeral.template", f"environment {self.name!r} is not an ephemeral template")
        prefix = f"{self.name_prefix}-{instance}"
        if len(prefix) > NAME_PREFIX_MAX:
            raise SpecError(
                shown,
                "name_prefix",
                f"instance {instance!r} makes the name prefix {prefix!r} {len(prefix)} characters long "
                f"(at most {NAME_PREFIX_MAX}): use a shorter --name",
            )
        update = {"instance": instance, "name_prefix": prefix, "created_at": created_at, "expires_at": expires_at}
        return self.model_copy(update=update)

    def state_key(self) -> str:
        return f"{self.backend.key_prefix}/{self.project}/{self.workspace}/terraform.tfstate"

    def backend_bucket(self) -> str:
        return self.backend.bucket or f"{self.project}-tfstate-{self.account_ids[0]}-{self.region}"

    def backend_lock_table(self) -> str:
        return self.backend.lock_table or f"{self.project}-tfstate-lock"


def load_environment(
    project: Project,
    name: str,
    *,
    instance: str | None = None,
    created_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> EnvironmentSpec:
    """Load, merge and validate one environment; raise SpecError naming file, key and reason."""
    env_dir = project.environments_dir
    known = project.environment_names()
    if name not in known:
        suggestion = did_you_mean(name, known)
        raise SpecError(
            project.relative(env_dir),
            "",
            f"unknown environment {name!r}{suggestion}; known: {', '.join(known) or 'none'}",
        )
    if INSTANCE_SEPARATOR in name:
        raise SpecError(project.relative(env_dir), "", f"environment names cannot contain {INSTANCE_SEPARATOR!r}")
    if not _ENVIRONMENT_NAME_RE.fullmatch(name):
        raise SpecError(
            project.relative(env_dir),
            "",
            f"environment name {name!r}: letters, digits, '_', '.' and '-' only (it names files, state and tags)",
        )
    sources = read_layers(project, name)
    spec = _validate(sources, name)
    check_wiring(project, spec, lambda key: origin(key, sources))
    # Inputs naming files (GuardDuty IP lists), carrying a policy or a URL are checked by their own loader.
    check_component_inputs(project, spec, lambda key: origin(key, sources))
    if instance is not None:
        spec = spec.stamp(instance, created_at, expires_at, spec_file=sources[0][0])
    return spec


def _validate(sources: Sources, name: str) -> EnvironmentSpec:
    (_, env_data), (_, defaults) = sources
    merged = deep_merge(defaults, env_data)
    merged["name"] = name
    try:
        spec = EnvironmentSpec.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = key_path(tuple(first["loc"]))
        reason = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            reason = "unknown key"
        elif first["type"] == "missing":
            reason = "required key is missing"
        more = len(exc.errors()) - 1
        if more:
            reason += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise SpecError(origin(key, sources), key, reason) from None
    spec._sources = sources
    return spec

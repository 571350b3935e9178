"""Ephemeral instances stamped from a template environment (`up --env demo --name pr-42 --ttl 24h`).

Each instance has a small record (created-at, expires-at) that makes its render deterministic and lets
`provision envs` and `provision reap` find it. Records live under `.provision/instances/`; when the template
keeps its state in S3, a copy also lives next to the instance's state (`<key_prefix>/<project>/<workspace>/
instance.json`) so that a nightly reap on a fresh machine finds every instance.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from provisioner.errors import InputError, ProvisionError
from provisioner.functions.common import iso_utc
from provisioner.primitives import write_atomic
from provisioner.project import INSTANCE_SEPARATOR, Project, WorkspaceRef, validate_instance_name, workspace_id
from provisioner.spec import EnvironmentSpec, load_environment, parse_duration

REMOTE_RECORD_FILE = "instance.json"


@dataclass(frozen=True)
class Instance:
    env: str
    name: str
    created_at: datetime
    expires_at: datetime

    @property
    def workspace(self) -> str:
        return self.ref.id

    @property
    def ref(self) -> WorkspaceRef:
        return WorkspaceRef(self.env, self.name)

    def expired(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.expires_at

    def age(self, now: datetime | None = None) -> timedelta:
        return (now or utcnow()) - self.created_at

    def to_json(self) -> dict[str, str]:
        data = asdict(self)
        data["created_at"] = iso_utc(self.created_at)
        data["expires_at"] = iso_utc(self.expires_at)
        return data


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _parse(moment: str) -> datetime:
    return datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _records_dir(project: Project) -> Path:
    return project.work_root / "instances"


def _record_path(project: Project, env: str, name: str) -> Path:
    return _records_dir(project) / f"{workspace_id(env, name)}.json"


def from_json(data: dict[str, str]) -> Instance:
    """The record written by `Instance.to_json`; ValueError, KeyError or TypeError when it is not one."""
    record = Instance(data["env"], data["name"], _parse(data["created_at"]), _parse(data["expires_at"]))
    validate_instance_name(record.name)
    return record


def load(project: Project, env: str, name: str) -> Instance | None:
    path = _record_path(project, env, name)
    if not path.exists():
        return None
    try:
        return from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{project.relative(path)}: unreadable instance record ({exc})") from None


def list_local(project: Project) -> list[Instance]:
    """Records under `.provision/instances/` (this machine's own)."""
    out: list[Instance] = []
    directory = _records_dir(project)
    if not directory.is_dir():
        return out
    for path in sorted(directory.glob("*.json")):
        env, _, name = path.stem.partition(INSTANCE_SEPARATOR)
        if name:
            record = load(project, env, name)
            if record:
                out.append(record)
    return out


@dataclass(frozen=True)
class Discovery:
    """Every known instance (local and S3 records merged) and one line per record store that failed."""

    records: list[Instance]
    problems: list[str]


def _newer(known: Instance | None, other: Instance | None) -> Instance | None:
    """Two copies of one record: the later expiry wins, so nothing is reaped early."""
    if known is None or (other is not None and other.expires_at > known.expires_at):
        return other
    return known


def discover(project: Project) -> Discovery:
    """The one instance discovery (`envs`, `drift --all`, `reap`): this machine's records merged with the
    copies kept next to the state in S3, so a fresh CI machine sees what others created."""
    merged: dict[str, Instance] = {}
    remote, problems = list_remote(project)
    for record in [*list_local(project), *remote]:
        chosen = _newer(merged.get(record.workspace), record)
        if chosen is not None:
            merged[record.workspace] = chosen
    ordered = sorted(merged.values(), key=lambda r: (r.expires_at, r.workspace))
    return Discovery(ordered, problems)


def plan_instance(
    project: Project, template: EnvironmentSpec, name: str, ttl: str | None, now: datetime | None = None
) -> Instance:
    """The record an `up` would write: existing instances keep created-at; a --ttl extends from now."""
    validate_instance_name(name)
    now = now or utcnow()
    limit = parse_duration(template.ephemeral.max_ttl)
    try:
        lifetime = parse_duration(ttl) if ttl else parse_duration(template.ephemeral.default_ttl)
    except ValueError as exc:
        raise InputError(f"--ttl: {exc}") from None
    if lifetime > limit:
        raise InputError(
            f"--ttl {ttl}: longer than ephemeral.max_ttl {template.ephemeral.max_ttl} of environment {template.name!r}"
        )
    existing = find(project, template, name)
    if existing and not ttl:
        return existing
    created = existing.created_at if existing else now
    return Instance(template.name, name, created, now + lifetime)


def find(project: Project, template: EnvironmentSpec, name: str) -> Instance | None:
    """One instance's record: the local one, else (S3 backend) the copy next to the state, as a fresh CI
    machine has no local one."""
    local = load(project, template.name, name)
    if local is not None or template.backend.type != "s3":
        return local
    from provisioner.aws.records import list_records

    key = remote_record_key(template, name)
    for found, data in list_records(template.region, template.backend_bucket(), key, f"/{REMOTE_RECORD_FILE}"):
        if found == key:
            try:
                return from_json(data)
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(
                    f"s3://{template.backend_bucket()}/{key}: unreadable instance record ({exc})"
                ) from None
    return None


def remote_record_key(template: EnvironmentSpec, name: str) -> str:
    """Next to the instance's state key (`EnvironmentSpec.state_key` of the instance)."""
    return f"{_remote_prefix(template)}{workspace_id(template.name, name)}/{REMOTE_RECORD_FILE}"


def _remote_prefix(template: EnvironmentSpec) -> str:
    return f"{template.backend.key_prefix}/{template.project}/"


def save(project: Project, instance: Instance, *, remote_to: EnvironmentSpec | None = None) -> Path:
    """Write the local record and, when `remote_to` (the template) keeps its state in S3, the copy next to the
    instance's state."""
    path = _record_path(project, instance.env, instance.name)
    write_atomic(path, json.dumps(instance.to_json(), indent=2, sort_keys=True) + "\n")
    if remote_to is not None and remote_to.backend.type == "s3":
        from provisioner.aws.records import put_record

        key = remote_record_key(remote_to, instance.name)
        put_record(remote_to.region, remote_to.backend_bucket(), key, instance.to_json())
    return path


def forget(project: Project, env: str, name: str, *, remote_to: EnvironmentSpec | None = None) -> None:
    if remote_to is not None and remote_to.backend.type == "s3":
        from provisioner.aws.records import delete_record

        delete_record(remote_to.region, remote_to.backend_bucket(), remote_record_key(remote_to, name))
    _record_path(project, env, name).unlink(missing_ok=True)


def list_remote(project: Project) -> tuple[list[Instance], list[str]]:
    """Records kept in the state buckets of every template with an S3 backend, and one line per problem
    (an invalid spec, an unreachable bucket, an unreadable record) so one of them does not hide the rest."""
    from provisioner.aws.records import list_records

    found: list[Instance] = []
    problems: list[str] = []
    for env in project.environment_names():
        try:
            template = load_environment(project, env)
        except InputError as exc:
            problems.append(exc.message)
            continue
        if not template.ephemeral.template or template.backend.type != "s3":
            continue
        prefix = f"{_remote_prefix(template)}{env}{INSTANCE_SEPARATOR}"
        try:
            bucket = template.backend_bucket()
            records = list_records(template.region, bucket, prefix, f"/{REMOTE_RECORD_FILE}")
        except ProvisionError as exc:
            problems.append(exc.message)
            continue
        for key, data in records:
            try:
                record = from_json(data)
            except (ValueError, KeyError, TypeError, InputError):
                problems.append(f"s3://{bucket}/{key}: unreadable instance record")
                continue
            if record.env == env:
                found.append(record)
    return found, problems

"""Where things live: the project root (modules/ + environments/) and per-environment work dirs."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from provisioner.errors import InputError

WORK_DIR_NAME = ".provision"
DEFAULTS_FILE = "_defaults.yaml"
INSTANCE_SEPARATOR = "--"
_INSTANCE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?$")


@dataclass(frozen=True)
class Project:
    """A project root: `modules/` holds Terraform modules, `environments/` the specs."""

    root: Path

    @property
    def modules_dir(self) -> Path:
        return self.root / "modules"

    @property
    def environments_dir(self) -> Path:
        return self.root / "environments"

    @property
    def work_root(self) -> Path:
        return self.root / WORK_DIR_NAME

    def work_dir(self, env: str, instance: str | None = None) -> Path:
        return self.work_root / workspace_id(env, instance)

    def environment_file(self, env: str) -> Path:
        """`environments/<env>.yaml` (or `.yml`); the `.yaml` path when neither exists."""
        for suffix in (".yaml", ".yml"):
            path = self.environments_dir / f"{env}{suffix}"
            if path.exists():
                return path
        return self.environments_dir / f"{env}.yaml"

    @property
    def defaults_file(self) -> Path:
        return self.environments_dir / DEFAULTS_FILE

    def relative(self, path: Path) -> str:
        """A path as the user should see it: relative to the project root when inside it."""
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    def module_names(self) -> list[str]:
        if not self.modules_dir.is_dir():
            return []
        return sorted(p.name for p in self.modules_dir.iterdir() if p.is_dir() and any(p.glob("*.tf")))

    def environment_names(self) -> list[str]:
        if not self.environments_dir.is_dir():
            return []
        names = {
            p.stem
            for p in self.environments_dir.iterdir()
            if p.suffix in (".yaml", ".yml") and not p.name.startswith("_")
        }
        return sorted(names)


def workspace_id(env: str, instance: str | None) -> str:
    """`dev`, or `demo--pr-42` for an ephemeral instance (env names cannot contain `--`)."""
    return f"{env}{INSTANCE_SEPARATOR}{instance}" if instance else env


@dataclass(frozen=True)
class WorkspaceRef:
    """Which environment, or which instance of a template environment, a command works on: the identity a
    `Workspace` is opened from (`workspace.load_spec` builds its spec, in one place)."""

    env: str
    instance: str | None = None

    @property
    def id(self) -> str:
        return workspace_id(self.env, self.instance)

    @classmethod
    def parse(cls, given: str) -> WorkspaceRef:
        """A workspace id the operator typed (`dev`, `demo--pr-42`)."""
        env, _, instance = given.partition(INSTANCE_SEPARATOR)
        return cls(env, instance or None)


def validate_instance_name(name: str) -> str:
    if not _INSTANCE_RE.match(name):
        raise InputError(
            f"--name {name!r}: an instance name is 1-20 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return name


def find_project(start: Path | None = None) -> Project:
    """The project root: PROVISION_PROJECT, else the nearest parent with modules/ and environments/."""
    explicit = os.environ.get("PROVISION_PROJECT")
    if explicit:
        root = Path(explicit).expanduser().resolve()
        if not (root / "environments").is_dir():
            raise InputError(f"PROVISION_PROJECT={explicit}: no environments/ directory there")
        return Project(root)
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "environments").is_dir() and (candidate / "modules").is_dir():
            return Project(candidate)
    raise InputError(
        f"{here}: not inside a provision project (no parent directory has both modules/ and environments/); "
        "cd into one or set PROVISION_PROJECT"
    )

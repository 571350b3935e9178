"""What the fast use-case tests share: a project copy, a read-only AWS (the moto server) and workspaces whose
Terraform and Checkov are the fakes of tests/fakes.py."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
import yaml

from provisioner.project import Project, WorkspaceRef
from provisioner.ui import UI
from provisioner.workspace import Tools, Workspace, load_spec
from tests.fakes import FakeCheckov, FakeCloud

# What `up --env dev` shows, in this order (the real-binary test and its fast twin check the same contract).
UP_STEPS = [
    "Preflight",
    "Rendering",
    "Validating",
    "Checkov: scanning the rendered",
    "terraform init",
    "terraform plan",
    "Checkov: scanning the plan",
    "Plan summary",
    "terraform apply",
    "applied dev",
]


def in_order(output: str, steps: list[str]) -> bool:
    positions = [output.index(step) for step in steps]
    return positions == sorted(positions)


class Run:
    """One operator session on a fixture project: the fake tools, and what the operator saw."""

    def __init__(self, root: Path, cloud: FakeCloud, checkov: FakeCheckov) -> None:
        self.root = root
        self.project = Project(root)
        self.cloud = cloud
        self.checkov = checkov
        self.out = io.StringIO()

    def ui(self, *, interactive: bool = False) -> UI:
        return UI(out=self.out, err=self.out, interactive=interactive)

    def workspace(self, env: str = "dev", *, instance: str | None = None, interactive: bool = False) -> Workspace:
        spec = load_spec(self.project, WorkspaceRef(env, instance))
        return Workspace(self.project, spec, self.ui(interactive=interactive), tools=self.tools)

    @property
    def tools(self) -> Tools:
        return self.cloud.tools(self.checkov)

    @property
    def output(self) -> str:
        return self.out.getvalue()

    def state(self, workspace: str = "dev") -> list[str]:
        return sorted(self.cloud.state_of(self.project.work_root / workspace))

    def edit_spec(self, env: str, **changes: object) -> None:
        path = self.root / "environments" / f"{env}.yaml"
        data = yaml.safe_load(path.read_text())
        data.update(changes)
        path.write_text(yaml.safe_dump(data))


def type_answer(monkeypatch: pytest.MonkeyPatch, answer: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(answer + "\n"))

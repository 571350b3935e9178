"""The README cannot drift from the code: its command table matches the CLI, its JSON shapes are generated from
the committed JSON Schemas, and what the tool prints validates against those schemas."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer.main

from provisioner.cli import app

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import docs  # noqa: E402


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def _leaf_commands(command: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        return {path: command}
    found: dict[tuple[str, ...], Any] = {}
    for name, sub in subcommands.items():
        found.update(_leaf_commands(sub, (*path, name)))
    return found


def _table_rows() -> list[tuple[list[tuple[str, ...]], set[str]]]:
    """(command paths, options) of each row of the README's command table."""
    section = _readme().split("## Commands", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        match = re.match(r"\| `(provision [^`]*)` \|", line)
        if not match:
            continue
        tokens = match.group(1).replace("\\|", "|").split()[1:]
        words: list[list[str]] = []
        for token in tokens:
            if not re.fullmatch(r"[a-z][a-z|-]*", token):
                break
            words.append(token.split("|"))
        paths = [()]
        for alternatives in words:
            paths = [(*p, alt) for p in paths for alt in alternatives]
        rows.append((paths, set(re.findall(r"--[a-z][a-z-]*", match.group(1)))))
    return rows


def test_readme_command_table_matches_the_cli() -> None:
    commands = _leaf_commands(typer.main.get_command(app))
    documented: set[tuple[str, ...]] = set()
    for paths, options in _table_rows():
        for path in paths:
            assert path in commands, f"README documents `provision {' '.join(path)}`, which does not exist"
            known = {opt for param in commands[path].params for opt in param.opts if opt.startswith("--")}
            assert options <= known, f"`provision {' '.join(path)}`: README options {sorted(options - known)} unknown"
            documented.add(path)
    missing = sorted(" ".join(p) for p in set(commands) - documented)
    assert not missing, f"commands missing from the README's table: {missing}"


@pytest.mark.parametrize("name", sorted(docs.SHAPES))
def test_readme_json_shapes_are_generated_from_the_schemas(name: str) -> None:
    assert docs.block(name) in _readme(), "run `make docs` to regenerate the README's JSON shapes"


def validate(instance: Any, name: str) -> None:
    """What the tool printed, against its committed schema."""
    jsonschema.validate(instance, docs.schema(name))


def test_the_schemas_are_valid_json_schemas() -> None:
    for name in docs.SHAPES.values():
        jsonschema.Draft202012Validator.check_schema(docs.schema(name))


def test_plan_summaries_of_real_plans_validate() -> None:
    from provisioner.plan import Plan

    for plan in ("create.json", "mixed.json", "drift_plan.json"):
        data = json.loads((ROOT / "tests" / "data" / "plans" / plan).read_text())
        validate(Plan.from_json(data).summary().to_json(), "plan-summary")


MODULES = sorted(p.name for p in (ROOT / "modules").iterdir() if (p / "variables.tf").exists())


@pytest.mark.parametrize("module", MODULES)
def test_module_readme_interface_matches_variables_and_outputs(module: str) -> None:
    readme = (ROOT / "modules" / module / "README.md").read_text(encoding="utf-8")
    assert docs.module_block(ROOT / "modules" / module) in readme, (
        f"modules/{module}/README.md: inputs/outputs differ from variables.tf/outputs.tf; run `make docs`"
    )

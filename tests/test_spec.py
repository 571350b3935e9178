"""Environment specs: merge, validation, and one-line errors naming file, key and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from provisioner.cli import app
from provisioner.errors import SpecError
from provisioner.project import Project
from provisioner.spec import deep_merge, load_environment, parse_duration

REPO = Path(__file__).resolve().parent.parent


def _write(project: Path, name: str, text: str) -> None:
    (project / "environments" / name).write_text(text, encoding="utf-8")


def test_deep_merge_maps_merge_and_lists_replace() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1}
    merged = deep_merge(base, {"a": {"y": [3]}, "c": 2})
    assert merged == {"a": {"x": 1, "y": [3]}, "b": 1, "c": 2}
    assert base["a"]["y"] == [1, 2]


def test_parse_duration() -> None:
    assert parse_duration("24h").total_seconds() == 86400
    assert parse_duration("2w").days == 14
    for bad in ("0h", "1y", "h", "-1d"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_repo_environments_load_with_defaults_merged() -> None:
    project = Project(REPO)
    assert {"dev", "staging", "prod", "demo"} <= set(project.environment_names())
    prod = load_environment(project, "prod")
    dev = load_environment(project, "dev")
    assert prod.protection.destroy_protected and not dev.protection.destroy_protected
    assert load_environment(project, "demo").ephemeral.template
    # Written once in _defaults.yaml, inherited by every environment.
    assert dev.terraform.providers["aws"].version == prod.terraform.providers["aws"].version == ">= 5.100, < 7"
    assert dev.aws_tags()["CostCenter"] == "sec-dev"
    assert dev.aws_tags()["Project"] == prod.aws_tags()["Project"] == "devsecops"


@pytest.mark.parametrize(
    ("file", "text", "expected"),
    [
        (
            "dev.yaml",
            "name_prefix: fx-dev\naccount_ids: [12345]\n",
            "environments/dev.yaml: account_ids: write account id 12345 as a quoted string",
        ),
        ("dev.yaml", "name_prefix: fx-dev\nregion: 42\n", "environments/dev.yaml: region: "),
        (
            "dev.yaml",
            "name_prefix: fx-dev\nnetwork: {vpc_cidr: 10.0.0.0/33, private_subnet_cidrs: [10.0.0.0/24]}\n",
            "environments/dev.yaml: network.vpc_cidr: '10.0.0.0/33' is not a valid IPv4 CIDR",
        ),
        (
            "dev.yaml",
            "name_prefix: fx-dev\nnetwork: {vpc_cidr: 10.0.0.0/16, private_subnet_cidrs: [10.1.0.0/24]}\n",
            "environments/dev.yaml: network: subnet 10.1.0.0/24 is not inside",
        ),
        (
            "dev.yaml",
            "name_prefix: fx-dev\ncomponents: {wafx: {}}\n",
            "environments/dev.yaml: components.wafx: unknown",
        ),
        (
            "dev.yaml",
            "name_prefix: fx-dev\nregoin: eu-west-1\n",
            "environments/dev.yaml: regoin: unknown key",
        ),
        ("dev.yaml", "name_prefix: [unclosed\n", "environments/dev.yaml: line 2: malformed YAML"),
        ("dev.yaml", "- just\n- a list\n", "environments/dev.yaml: expected a mapping"),
        (
            "dev.yaml",
            "name_prefix: fx-dev\ncheckov: {skip: [{id: CKV_AWS_18}]}\n",
            "environments/dev.yaml: checkov.skip[0].reason: required key is missing",
        ),
        (
            "dev.yaml",
            "name_prefix: fx-dev\ncheckov: {skip: [{id: CKV_AWS_18, reason: meh}]}\n",
            "environments/dev.yaml: checkov.skip[0].reason: a skipped check needs a specific written reason",
        ),
        ("dev.yaml", "{}\n", "environments/dev.yaml: name_prefix: required key is missing"),
        (
            "_defaults.yaml",
            "project: fixture\naccount_ids: ['123456789012']\nregion: eu-west-1\ntags: {owner: x}\n",
            "environments/_defaults.yaml: tags.cost_center: required key is missing",
        ),
        (
            "dev.yaml",
            "name_prefix: fx-dev\ncomponents: {echo: {wiring: {message: nothing.here}}}\n",
            "environments/dev.yaml: components.echo.wiring.message: refers to component 'nothing'",
        ),
    ],
)
def test_bad_spec_one_line_error_exit_2_nothing_written(
    fixture_project: Path, file: str, text: str, expected: str
) -> None:
    _write(fixture_project, file, text)
    result = CliRunner().invoke(app, ["--project", str(fixture_project), "render", "--env", "dev"])
    assert result.exit_code == 2, result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert expected in error_lines[0], error_lines[0]
    assert "Traceback" not in result.output
    assert not (fixture_project / ".provision").exists()


def test_unknown_environment_suggests(fixture_project: Path) -> None:
    result = CliRunner().invoke(app, ["--project", str(fixture_project), "render", "--env", "dve"])
    assert result.exit_code == 2
    assert "unknown environment 'dve' (did you mean 'dev'?)" in result.output
    assert not (fixture_project / ".provision").exists()


def test_reserved_keys_cannot_be_written(fixture_project: Path) -> None:
    _write(fixture_project, "dev.yaml", "name_prefix: fx-dev\ninstance: hack\n")
    with pytest.raises(SpecError, match="instance: is set by provision"):
        load_environment(Project(fixture_project), "dev")


def test_instance_of_template_gets_own_prefix_and_tags(fixture_project: Path) -> None:
    from datetime import UTC, datetime

    created = datetime(2026, 1, 1, tzinfo=UTC)
    spec = load_environment(Project(fixture_project), "demo", instance="pr-42", created_at=created, expires_at=created)
    assert spec.name_prefix == "fx-demo-pr-42"
    assert spec.workspace == "demo--pr-42"
    assert spec.state_key().endswith("/demo--pr-42/terraform.tfstate")
    tags = spec.aws_tags()
    assert tags["Instance"] == "pr-42" and tags["CreatedAt"] == "2026-01-01T00:00:00Z"
    with pytest.raises(SpecError, match="not an ephemeral template"):
        load_environment(Project(fixture_project), "dev", instance="pr-42")


def test_instance_name_that_makes_the_prefix_too_long_is_refused(fixture_project: Path) -> None:
    with pytest.raises(SpecError, match="makes the name prefix 'fx-demo-a-very-long-branch' 26 characters long"):
        load_environment(Project(fixture_project), "demo", instance="a-very-long-branch")

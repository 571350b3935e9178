"""Rendering: deterministic bytes, spec values never become HCL syntax, wiring errors named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from provisioner.errors import SpecError
from provisioner.project import Project
from provisioner.render import MAIN_FILE, TFVARS_FILE, hcl_string, render
from provisioner.spec import load_environment
from provisioner.terraform import Terraform

REPO = Path(__file__).resolve().parent.parent
HOSTILE = 'a"b${c}%{d}\n\\ end'


def _set_env(project: Path, name: str, data: dict[str, object]) -> None:
    (project / "environments" / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")


def test_hcl_string_escapes_interpolation() -> None:
    assert hcl_string('x${y}%{z}"') == '"x$${y}%%{z}\\""'


@pytest.mark.parametrize("env", ["dev", "staging", "prod", "demo"])
def test_repo_environment_renders_byte_identically(env: str, tmp_path: Path) -> None:
    import shutil

    # A private copy so parallel tests and a developer's .provision/ never interfere.
    copy = tmp_path / "repo"
    shutil.copytree(REPO / "modules", copy / "modules")
    shutil.copytree(REPO / "environments", copy / "environments")
    shutil.copytree(REPO / "rules", copy / "rules")  # the detection catalogue the OpenSearch content compiles
    project = Project(copy)
    spec = load_environment(project, env)
    first = render(project, spec)
    snapshot = {p: p.read_bytes() for p in first.files}
    second = render(project, load_environment(project, env))
    assert second.config_hash == first.config_hash
    assert {p: p.read_bytes() for p in second.files} == snapshot
    main = (first.work_dir / MAIN_FILE).read_text()
    assert 'backend "s3"' in main and "allowed_account_ids = var.allowed_account_ids" in main


def test_hostile_string_reaches_terraform_unchanged(fixture_project: Path, terraform_bin: Path) -> None:
    _set_env(
        fixture_project,
        "outputs",
        {"name_prefix": "fx-out", "components": {"echo": {"inputs": {"message": HOSTILE}}}},
    )
    project = Project(fixture_project)
    result = render(project, load_environment(project, "outputs"))
    main = (result.work_dir / MAIN_FILE).read_text()
    assert "${c}" not in main and "%{d}" not in main  # the value lives only in the tfvars JSON
    tf = Terraform(result.work_dir)
    tf.init()
    plan = tf.plan(result.work_dir / "tfplan")
    tf.apply(plan.plan_file)
    outputs = tf.output_json()
    assert outputs["echo_message"]["value"] == HOSTILE


# Every character class AWS allows in a tag value (quotes, `$`, `{` and newlines are not: see test_spec_hostile.py).
UNUSUAL_TAG = "Équipe 東京 ٣ a+b=c.d_e:f/g@h -"


def test_unusual_tag_value_reaches_terraform_unchanged(fixture_project: Path, terraform_bin: Path) -> None:
    defaults = yaml.safe_load((fixture_project / "environments" / "_defaults.yaml").read_text())
    defaults["tags"]["team"] = UNUSUAL_TAG
    _set_env(fixture_project, "_defaults", defaults)
    project = Project(fixture_project)
    result = render(project, load_environment(project, "outputs"))
    tf = Terraform(result.work_dir)
    tf.init()
    plan = tf.plan(result.work_dir / "tfplan")
    tf.apply(plan.plan_file)
    assert tf.output_json()["echo_tags"]["value"]["team"] == UNUSUAL_TAG


def test_render_is_deterministic_and_leaves_state_alone(fixture_project: Path) -> None:
    project = Project(fixture_project)
    first = render(project, load_environment(project, "dev"))
    state = first.work_dir / "terraform.tfstate"
    state.write_text('{"version": 4}')
    mtimes = {p: p.stat().st_mtime_ns for p in first.files}
    second = render(project, load_environment(project, "dev"))
    assert {p: p.stat().st_mtime_ns for p in second.files} == mtimes  # identical files are not rewritten
    assert state.read_text() == '{"version": 4}'
    values = (first.work_dir / TFVARS_FILE).read_text()
    assert '"count_of_markers": 3' in values


@pytest.mark.parametrize(
    ("component", "expected"),
    [
        (
            {"echo": {"inputs": {"mesage": "x"}}},
            "components.echo.inputs.mesage: not a variable of modules/echo",
        ),
        ({"echo": {"inputs": {}}}, "components.echo: modules/echo needs variable 'message'"),
        (
            {"echo": {"inputs": {}, "wiring": {"message": "marker.idz"}}, "marker": {}},
            "components.echo.wiring.message: modules/marker has no output 'idz' (did you mean 'ids'?)",
        ),
        (
            {"echo": {"inputs": {}, "wiring": {"message": "lambda.nope"}}},
            "components.echo.wiring.message: unknown Lambda function 'nope'",
        ),
    ],
)
def test_wiring_errors_name_file_and_key(fixture_project: Path, component: dict[str, object], expected: str) -> None:
    _set_env(fixture_project, "dev", {"name_prefix": "fx-dev", "components": component})
    # _defaults.yaml gives echo a message; drop it so the "needs variable" case is reachable.
    defaults = yaml.safe_load((fixture_project / "environments" / "_defaults.yaml").read_text())
    defaults["components"] = {}
    _set_env(fixture_project, "_defaults", defaults)
    project = Project(fixture_project)
    with pytest.raises(SpecError) as err:
        render(project, load_environment(project, "dev"))
    assert f"environments/dev.yaml: {expected}" in str(err.value)
    assert not (fixture_project / ".provision").exists()


def test_wiring_between_modules_renders_module_reference(fixture_project: Path) -> None:
    _set_env(
        fixture_project,
        "dev",
        {
            "name_prefix": "fx-dev",
            "terraform": {"providers": {"null": {"source": "hashicorp/null", "version": "2.1.2"}}},
            "components": {"echo": {"inputs": {}, "wiring": {"message": "marker.token"}}, "marker": {}},
        },
    )
    defaults = yaml.safe_load((fixture_project / "environments" / "_defaults.yaml").read_text())
    defaults["components"] = {}
    _set_env(fixture_project, "_defaults", defaults)
    project = Project(fixture_project)
    result = render(project, load_environment(project, "dev"))
    main = (result.work_dir / MAIN_FILE).read_text()
    assert "message     = module.marker.token" in main
    assert 'source      = "../../modules/echo"' in main


def test_provision_validate_reports_planted_errors_with_file_and_line(tmp_path: Path) -> None:
    import shutil

    from typer.testing import CliRunner

    from provisioner.cli import app

    copy = tmp_path / "repo"
    shutil.copytree(REPO / "modules", copy / "modules")
    shutil.copytree(REPO / "environments", copy / "environments")
    shutil.copytree(REPO / "rules", copy / "rules")  # the detection catalogue the OpenSearch content compiles
    clean = CliRunner().invoke(app, ["--project", str(copy), "validate", "--env", "dev"])
    assert clean.exit_code == 0, clean.output
    assert "configuration is valid" in clean.output

    planted = copy / "modules" / "findings" / "planted.tf"
    planted.write_text(
        'resource "aws_s3_bucket" "typo" {\n'
        '  buckett = "x"\n'
        "}\n"
        "\n"
        'resource "aws_s3_bucket_versioning" "missing" {\n'
        '  bucket = "x"\n'
        "}\n"
        "\n"
        'resource "aws_s3_buckit" "unknown" {\n'
        '  bucket = "x"\n'
        "}\n"
    )
    result = CliRunner().invoke(app, ["--project", str(copy), "validate", "--env", "dev"])
    assert result.exit_code == 1
    out = result.output
    assert 'modules/findings/planted.tf:2: aws_s3_bucket.typo: unknown argument "buckett"' in out
    assert "modules/findings/planted.tf:5: aws_s3_bucket_versioning.missing: missing required block" in out
    assert "modules/findings/planted.tf:9:" in out and "aws_s3_buckit" in out
    assert "validation failed: 3 problem(s)" in out

    planted.write_text('output "x" {\nvalue = 1\n}\n')
    unformatted = CliRunner().invoke(app, ["--project", str(copy), "validate", "--env", "dev"])
    assert unformatted.exit_code == 1
    assert "modules/findings/planted.tf: not formatted (run `terraform fmt`)" in unformatted.output

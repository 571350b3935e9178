"""Hostile and careless specs: each one is refused by `render` as one `error: <file>: <key>: <reason>` line, exit 2,
in under 5 s, with nothing written; and no spec string, key or value, can add HCL to the rendered root."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from typer.testing import CliRunner

from provisioner.cli import app
from provisioner.component_inputs import parse_type, type_mismatch
from provisioner.errors import SpecError
from provisioner.project import Project
from provisioner.render import MAIN_FILE, TFVARS_FILE, render
from provisioner.spec import load_environment
from provisioner.spec_files import deep_merge

REPO = Path(__file__).resolve().parent.parent
PROVISION = Path(sys.executable).parent / "provision"
SECONDS = 5.0

# The classic "billion laughs": nine levels of nine aliases, 1e9 strings once expanded.
LAUGHS = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
    for prev, name in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)
DEEP = "x: " + "[" * 20_000 + "]" * 20_000 + "\n"
# Thirty levels behind an alias, used again thirty levels deep: shallow in the file, 60 levels once expanded.
ALIAS_DEEP = "x: &a " + "[" * 30 + "]" * 30 + "\ny: " + "[" * 30 + "*a" + "]" * 30 + "\n"
INJECTION = '\n}\n}\nresource "null_resource" "x" {\n  provisioner "local-exec" { command = "id" }\n}\n#'


def _render(project: Path) -> tuple[int, list[str], float]:
    start = time.monotonic()
    result = CliRunner().invoke(app, ["--project", str(project), "render", "--env", "dev"])
    return result.exit_code, result.output.splitlines(), time.monotonic() - start


def assert_refused(project: Path, expected: str) -> None:
    code, lines, elapsed = _render(project)
    errors = [line for line in lines if line.startswith("error:")]
    assert code == 2, lines
    assert len(errors) == 1 and expected in errors[0], lines
    assert not any("Traceback" in line or "internal error" in line for line in lines)
    assert not (project / ".provision").exists()
    assert elapsed < SECONDS, elapsed


def _dev(project: Path, text: str) -> None:
    (project / "environments" / "dev.yaml").write_text("name_prefix: fx-dev\n" + text, encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (LAUGHS, "environments/dev.yaml: f: expands to more than 1000000 nodes and characters (YAML aliases?)"),
        ("x: &a [*a]\n", "x[0]: an alias refers to a node that contains it"),
        (DEEP, "environments/dev.yaml: line 2: malformed YAML: nested deeper than 32 levels"),
        (ALIAS_DEEP, "[0][0]: nested deeper than 32 levels once aliases are expanded"),
        (
            "protection: {destroy_protected: true}\nprotection: {destroy_protected: false}\n",
            "environments/dev.yaml: protection: duplicate key (lines 2 and 3)",
        ),
        (
            "components:\n  echo: {inputs: {message: a}}\n  marker: {}\n  echo: {inputs: {message: b}}\n",
            "components.echo: duplicate key (lines 3 and 5)",
        ),
        ("components: {marker: {inputs: {count_of_markers: .inf}}}\n", "count_of_markers: .inf is not a finite"),
        ("components: {marker: {inputs: {count_of_markers: .nan}}}\n", "count_of_markers: .nan is not a finite"),
        ("components: {marker: {inputs: {count_of_markers: -.Inf}}}\n", "-.Inf is not a finite number"),
        ("components: {marker: {inputs: {count_of_markers: 1.0e+999}}}\n", "1.0e+999 is not a finite number"),
        ("components: {marker: {inputs: {count_of_markers: " + "9" * 30 + "}}}\n", "number out of range"),
        ("components: {marker: {inputs: {count_of_markers: " + "9" * 5000 + "}}}\n", "is not a valid int"),
        (
            "components: {echo: {inputs: {message: 2024-01-01}}}\n",
            'components.echo.inputs.message: YAML reads 2024-01-01 as a date: quote it ("2024-01-01")',
        ),
        ("components: {echo: {inputs: {message: !!binary aGk=}}}\n", "message: !!binary values are not accepted"),
        ("components: {echo: {inputs: {message: !!set {a, b}}}}\n", "YAML tag 'tag:yaml.org,2002:set'"),
        ("components: {echo: {inputs: {message: !!python/name:os.system ''}}}\n", "is not accepted in a spec"),
        ("components: {echo: {inputs: {message: !!int abc}}}\n", "message: 'abc' is not a valid int"),
        ("tags: {owner: o, cost_center: c, 1: one}\n", "tags: key '1' is read by YAML as int: quote it"),
        ("tags: {owner: o, cost_center: c, on: x}\n", "tags: key 'on' is read by YAML as bool: quote it"),
        ("account_ids: ['١٢٣٤٥٦٧٨٩٠١٢']\n", "account_ids: '١٢٣٤٥٦٧٨٩٠١٢' is not a 12-digit AWS account id"),
        ("account_ids: ['１２３４５６７８９０１２']\n", "account_ids: '１２３４５６７８９０１２' is not a 12-digit"),
        ("region: eu-west-١\n", "environments/dev.yaml: region: String should match pattern"),
        ("ephemeral: {template: true, default_ttl: ١h}\n", "ephemeral.default_ttl: '١h' is not a duration"),
        (
            "terraform: {providers: {" + json.dumps(f"null{INJECTION}") + ": {source: a/b, version: '1'}}}\n",
            "environments/dev.yaml: terraform.providers: provider name 'null\\n}\\n}\\nresource",
        ),
        ("terraform: {providers: {Aws: {source: a/b, version: '1'}}}\n", "provider name 'Aws': lowercase letters"),
        (
            "components: {" + json.dumps(f"echo{INJECTION}") + ": {module: echo}}\n",
            "environments/dev.yaml: components: component name 'echo\\n}\\n}\\nresource",
        ),
        ("components: {tags: {module: echo}}\n", "components: component name 'tags' is reserved"),
        ("components: {lambda: {module: echo}}\n", "components: component name 'lambda' is reserved"),
        (
            'components: {echo: {inputs: {"message\\n = 1 }\\nresource": x}}}\n',
            "components.echo.inputs.'message\\n = 1 }\\nresource': not a variable of modules/echo",
        ),
        (
            'components: {echo: {wiring: {"message\\n}": marker.token}}, marker: {}}\n',
            "components.echo.wiring.'message\\n}': not a variable of modules/echo",
        ),
        ("components: {echo: {wiring: {message: 'marker.token\\n'}}, marker: {}}\n", "is not a reference like"),
        ("components: {marker: {inputs: {count_of_markers: lots}}}\n", "expected number, got the string 'lots'"),
        ("components: {echo: {inputs: {message: [a, b]}}}\n", "message: expected string, got a list"),
        ("components: {echo: {inputs: {message: hi, tags: {a: [1]}}}}\n", "tags.a: expected string, got a list"),
        ("components: {echo: {inputs: {message: hi, tags: {a: " + "v" * 257 + "}}}}\n", "a value of 257 char"),
        ("tags: {owner: o, cost_center: c, team: " + "v" * 257 + "}\n", "tags: tag team: a value of 257 characters"),
        ("tags: {owner: o, cost_center: c, " + "k" * 129 + ": v}\n", "tags: a tag key of 129 characters"),
        ('tags: {owner: o, cost_center: c, team: "a\\nb"}\n', "tags: tag team: '\\n' is not allowed in AWS tags"),
        ("tags: {owner: o, cost_center: c, team: '${x}'}\n", "tags: tag team: '$' is not allowed in AWS tags"),
        ("tags: {owner: o, cost_center: c, 'aws:x': v}\n", "tags: tag 'aws:x': the aws: prefix is reserved"),
        ("tags: {owner: o, cost_center: c, Project: other}\n", "tags: tag 'Project' is set by provision"),
        ("tags: {owner: o, cost_center: c, team: 7}\n", "tags: tag team: a tag value is a string (quote it)"),
        (
            "tags: {owner: o, cost_center: c, " + ", ".join(f"t{i}: v" for i in range(43)) + "}\n",
            "tags: 43 tags: at most 42 of your own (AWS allows 50 per resource; provision sets 8)",
        ),
    ],
)
def test_hostile_spec_refused(fixture_project: Path, text: str, expected: str) -> None:
    _dev(fixture_project, text)
    assert_refused(fixture_project, expected)


def test_spec_over_the_size_cap_is_refused_before_reading(fixture_project: Path) -> None:
    # A 50 MB tag value: refused by size, never parsed.
    _dev(fixture_project, "tags: {owner: o, cost_center: c, team: " + "v" * 50_000_000 + "}\n")
    assert_refused(fixture_project, "bytes: a spec is at most 262144 bytes")


def test_billion_laughs_is_small_and_fails_fast_in_a_real_process(fixture_project: Path) -> None:
    _dev(fixture_project, LAUGHS)
    assert (fixture_project / "environments" / "dev.yaml").stat().st_size < 700
    result, elapsed = _cli(fixture_project, "render", "--env", "dev")
    assert result.returncode == 2 and "expands to more than" in result.stderr, result.stderr
    assert elapsed < SECONDS and not (fixture_project / ".provision").exists()


def _cli(project: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    result = subprocess.run(
        [str(PROVISION), "--project", str(project), *args], capture_output=True, text=True, timeout=30, check=False
    )
    return result, time.monotonic() - start


def _plant(path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "loop":
        path.symlink_to(path.name)
    elif kind == "dangling":
        path.symlink_to("nowhere.yaml")
    elif kind == "directory":
        path.mkdir()
    else:  # binary: bytes that are not UTF-8
        path.write_bytes(bytes(range(256)) * 8)


NOT_REGULAR = "not a regular file (a spec must be a plain YAML file)"
BAD_FILES = {
    "fifo": NOT_REGULAR,
    "dev-zero": NOT_REGULAR,
    "loop": "cannot read: Too many levels of symbolic links",
    "dangling": "cannot read: No such file or directory",
    "directory": NOT_REGULAR,
    "binary": "not UTF-8 text (byte 128): a binary file?",
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_non_regular_or_binary_spec_file_refused_without_hanging(fixture_project: Path, kind: str) -> None:
    target = fixture_project / "environments" / "dev.yaml"
    target.unlink()
    _plant(target, kind)
    result, elapsed = _cli(fixture_project, "render", "--env", "dev")
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 2, result.stderr
    assert errors == [f"error: environments/dev.yaml: {BAD_FILES[kind]}"]
    assert elapsed < SECONDS and not (fixture_project / ".provision").exists()


def test_envs_reports_each_bad_file_in_one_line_and_lists_the_rest(fixture_project: Path) -> None:
    environments = fixture_project / "environments"
    for kind in BAD_FILES:
        _plant(environments / f"bad-{kind}.yaml", kind)
    (environments / "bad-laughs.yaml").write_text("name_prefix: fx-l\n" + LAUGHS)
    (environments / "bad-deep.yaml").write_text(DEEP)
    result, elapsed = _cli(fixture_project, "envs")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    for kind in [*BAD_FILES, "laughs", "deep"]:
        assert f"INVALID: environments/bad-{kind}.yaml: " in rows[f"bad-{kind}"]
    assert rows["dev"].split()[1:3] == ["eu-west-1", "123456789012"]
    assert rows["prod"].split()[3] == "protected"
    assert elapsed < 3 * SECONDS


@pytest.fixture()
def repo_project(tmp_path: Path) -> Path:
    """The repository's modules and environments (a private copy): the real variable types."""
    copy = tmp_path / "repo"
    for part in ("modules", "environments"):
        shutil.copytree(REPO / part, copy / part)
    return copy


def _repo_dev(project: Path, components: str) -> None:
    dev = project / "environments" / "dev.yaml"
    dev.write_text(dev.read_text() + f"components: {components}\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("components", "expected"),
    [
        (
            "{waf: {inputs: {rate_limit: lots}}}",
            "environments/dev.yaml: components.waf.inputs.rate_limit: expected number, got the string 'lots' "
            "(modules/waf declares rate_limit as number)",
        ),
        (
            "{shared: {inputs: {alert_emails: not-a-list}}}",
            "components.shared.inputs.alert_emails: expected list(string), got the string 'not-a-list'",
        ),
        ("{zap_scanner: {inputs: {egress_ports: [443, https]}}}", "egress_ports[1]: expected number, got the string"),
        ("{network: {inputs: {single_nat_gateway: maybe}}}", "single_nat_gateway: expected bool, got the string"),
        (
            "{opensearch: {inputs: {index_retention: {audit: {hot_days: 7}}}}}",
            "components.opensearch.inputs.index_retention.audit: expected object({hot_days = number, delete_days = "
            "number}): attribute 'delete_days' is required",
        ),
        ("{pipeline: {inputs: {branch: 2024-01-01}}}", "components.pipeline.inputs.branch: YAML reads 2024-01-01"),
        (
            "{pipeline: {inputs: {sonar_host_url: 'http://sonarqube.example.com'}}}",
            "components.pipeline.inputs.sonar_host_url: 'http://sonarqube.example.com': must be an https:// URL",
        ),
        ("{pipeline: {inputs: {sonar_host_url: 'https://u:p@sonar.example.com'}}}", "without credentials"),
    ],
)
def test_repo_component_inputs_checked_at_render(repo_project: Path, components: str, expected: str) -> None:
    _repo_dev(repo_project, components)
    assert_refused(repo_project, expected)


def test_inherited_input_error_names_the_defaults_file(repo_project: Path) -> None:
    defaults = repo_project / "environments" / "_defaults.yaml"
    defaults.write_text(defaults.read_text().replace("rate_limit: 2000", "rate_limit: lots"), encoding="utf-8")
    assert_refused(repo_project, "environments/_defaults.yaml: components.waf.inputs.rate_limit: expected number")


# Every place a spec string can go, as (overlay on the fixture's dev spec, a benign value for that place).
PLACES: dict[str, tuple[Callable[[str], dict[str, Any]], str]] = {
    "input value": (lambda v: {"components": {"echo": {"inputs": {"message": v}}}}, "hello"),
    "input key": (lambda v: {"components": {"echo": {"inputs": {v: "x"}}}}, "name_prefix"),
    "wiring key": (lambda v: {"components": {"echo": {"wiring": {v: "marker.token"}}}}, "name_prefix"),
    "wiring value": (lambda v: {"components": {"echo": {"wiring": {"name_prefix": v}}}}, "marker.token"),
    "component name": (lambda v: {"components": {v: {"module": "echo", "inputs": {"message": "m"}}}}, "echo_two"),
    "component module": (lambda v: {"components": {"echo": {"module": v}}}, "echo"),
    "provider name": (lambda v: {"terraform": {"providers": {v: {"source": "a/b", "version": "1"}}}}, "random"),
    "provider source": (lambda v: {"terraform": {"providers": {"null": {"source": v}}}}, "hashicorp/null"),
    "provider version": (lambda v: {"terraform": {"providers": {"null": {"version": v}}}}, "2.1.2"),
    "required_version": (lambda v: {"terraform": {"required_version": v}}, ">= 1.0"),
    "tag key": (lambda v: {"tags": {v: "x"}}, "team"),
    "tag value": (lambda v: {"tags": {"team": v}}, "blue"),
    "name_prefix": (lambda v: {"name_prefix": v}, "fx-dev"),
    "project": (lambda v: {"project": v}, "fixture"),
    "region": (lambda v: {"region": v}, "eu-west-1"),
    "backend key_prefix": (lambda v: {"backend": {"type": "s3", "key_prefix": v}}, "provision"),
    "backend bucket": (lambda v: {"backend": {"type": "s3", "bucket": v}}, "state-bucket"),
    "backend kms": (lambda v: {"backend": {"type": "s3", "kms_key_alias": v}}, "alias/state"),
    "checkov reason": (lambda v: {"checkov": {"skip": [{"id": "CKV_AWS_18", "reason": v * 5}]}}, "a reason"),
    "checkov resources": (
        lambda v: {"checkov": {"skip": [{"id": "CKV_AWS_1", "reason": "r" * 20, "resources": [v]}]}},
        "x",
    ),
    "drift ignore": (lambda v: {"drift": {"ignore": [v]}}, "arn:aws:s3:::bucket"),
    "ttl": (lambda v: {"ephemeral": {"template": True, "default_ttl": v}}, "24h"),
}
HCL_INJECTIONS = [
    INJECTION,
    '${file("/etc/passwd")}',
    "%{ for x in [1] }${x}%{ endfor }",
    '"\n',
    '*/ resource "a" "b" {} /*',
    'x\r\nresource "a" "b" {}',
    'x\u2028resource "a" "b" {}',
    "<<EOT\nresource\nEOT",
    "a = 1\n  b",
    "\x1b]0;title\x07",
]


def _shape(node: Any) -> Any:
    """The parsed HCL with string literals blanked out: blocks, labels, attributes and expressions remain."""
    if isinstance(node, dict):
        return {key: _shape(value) for key, value in node.items() if key != "__comments__"}
    if isinstance(node, list):
        return [_shape(item) for item in node]
    return "<string>" if isinstance(node, str) and node.startswith('"') else node


def _rendered_shape(project: Path, overlay: dict[str, Any]) -> Any:
    """The shape of the rendered main.tf, or None when the spec is refused (and then nothing is written)."""
    dev = project / "environments" / "dev.yaml"
    base = yaml.safe_load((REPO / "tests/fixtures/project/environments/dev.yaml").read_text())
    dev.write_text(yaml.safe_dump(deep_merge(base, overlay), allow_unicode=True), encoding="utf-8")
    shutil.rmtree(project / ".provision", ignore_errors=True)
    try:
        result = render(Project(project), load_environment(Project(project), "dev"))
    except SpecError:
        assert not (project / ".provision").exists()
        return None
    json.loads((result.work_dir / TFVARS_FILE).read_text(), parse_constant=_no_constant)
    return _shape(hcl2.loads((result.work_dir / MAIN_FILE).read_text()))


def _no_constant(name: str) -> None:
    raise AssertionError(f"{name} in the tfvars: not JSON")


@pytest.mark.parametrize("place", sorted(PLACES))
def test_no_spec_string_adds_hcl(fixture_project: Path, place: str) -> None:
    overlay, benign = PLACES[place]
    baseline = _rendered_shape(fixture_project, overlay(benign))
    assert baseline is not None and baseline["terraform"]  # the benign value renders
    for injection in HCL_INJECTIONS:
        shape = _rendered_shape(fixture_project, overlay(injection))
        assert shape is None or shape == baseline, (place, injection)


def test_every_module_variable_type_is_understood() -> None:
    """The checker knows every type constraint the repository's modules declare (none is silently skipped)."""
    from provisioner.render import read_module_interface

    types = {
        text for module in sorted((REPO / "modules").iterdir()) for text in read_module_interface(module).types.values()
    }
    assert len(types) >= 8
    assert all(parse_type(text) is not None for text in types), [t for t in types if parse_type(t) is None]


@pytest.mark.parametrize(
    ("value", "type_text", "problem"),
    [
        ("2000", "number", None),  # Terraform converts numeric strings
        (2000, "string", None),
        ("true", "bool", None),
        (None, "${list(string)}", None),  # null is valid for every type
        ([1, "a"], "${list(string)}", None),
        ({"a": {"x": 1, "y": "z"}}, "${map(object({x = number, y = string}))}", None),
        ([1, "a"], "${tuple([number, string])}", None),
        ({"a": [1]}, "any", None),
        ("1e3", "number", None),
        ("lots", "number", ("", "expected number, got the string 'lots'")),
        ([1], "${map(string)}", ("", "expected map(string), got a list")),
        ({"a": {"x": "n"}}, "${map(object({x = number}))}", (".a.x", "expected number, got the string 'n'")),
        ({"a b": [1]}, "${map(string)}", (".'a b'", "expected string, got a list")),
        ([1], "${tuple([number, string])}", ("", "expected tuple([number, string]) (2 elements), got 1")),
        (True, "number", ("", "expected number, got the bool true")),
    ],
)
def test_type_mismatch_follows_terraform_conversions(value: Any, type_text: str, problem: Any) -> None:
    wanted = parse_type(type_text)
    assert wanted is not None
    assert type_mismatch(value, wanted) == problem


def test_unknown_type_constructs_are_not_checked() -> None:
    assert parse_type("${optional(string)}") is None
    assert parse_type("${list(string)) extra") is None

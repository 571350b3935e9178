"""Property: whatever a spec file holds, `provision render` gives a rendered root or one `error:` line with exit 2;
never exit 3, a traceback, a hang, non-JSON tfvars, or a file written on refusal. Bounded: explicit example
counts and deadlines, no example database (nothing written into the checkout)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from provisioner.cli import app

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "project"
BOUNDED = settings(
    max_examples=60,
    deadline=timedelta(seconds=3),
    database=None,
    # The autouse environment fixture (tests/conftest.py) only sets variables: sharing it across examples is fine.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KEYS = ["name_prefix", "components", "echo", "marker", "inputs", "wiring", "message", "count_of_markers", "tags"]
KEYS += ["terraform", "providers", "null", "source", "version", "account_ids", "region", "module", "enabled"]
KEYS += ["owner", "cost_center", "protection", "destroy_protected", "backend", "type", "checkov", "skip"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["marker.token", "lambda.nope", "hashicorp/null", "2.1.2", "123456789012", "eu-west-1"]),
    st.dates(),
    st.binary(max_size=8),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=10), st.integers(-3, 3), st.booleans())
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=12
)
input_names = st.one_of(st.sampled_from(["message", "count_of_markers", "tags", "name_prefix"]), keys)
component = st.fixed_dictionaries(
    {}, optional={"inputs": st.dictionaries(input_names, values, max_size=3), "wiring": values, "module": values}
)
# Mostly the fixture's own components with generated inputs; sometimes anything at all.
components = st.dictionaries(st.one_of(st.sampled_from(["echo", "marker"]), keys), component, max_size=3)
specs = st.fixed_dictionaries(
    {"name_prefix": st.one_of(st.just("fx-dev"), values), "components": components},
    optional={
        "terraform": st.fixed_dictionaries({}, optional={"providers": values, "required_version": values}),
        "tags": st.dictionaries(keys, values, max_size=4),
        "account_ids": values,
    },
)
# Close to valid: the fixture's components with one generated scalar each, and generated tags.
near_valid = st.fixed_dictionaries(
    {
        "name_prefix": st.just("fx-dev"),
        "components": st.fixed_dictionaries(
            {
                "echo": st.fixed_dictionaries({"inputs": st.fixed_dictionaries({"message": scalars})}),
                "marker": st.fixed_dictionaries({"inputs": st.fixed_dictionaries({"count_of_markers": scalars})}),
            }
        ),
        "tags": st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=20), max_size=3),
    }
)
FRAGMENTS = ["name_prefix: fx-dev\n", "components:\n", "  echo:\n", "    inputs:\n", "      message: ", "&a ", "*a"]
FRAGMENTS += ["[", "]", "{", "}", ", ", ": ", "- ", "\n", "  ", "'", '"', "? ", "|\n", "~", "<<: *a\n", "---\n"]
FRAGMENTS += ["!!binary aGk=", "!!set ", "!!python/name:os.system ", "!!int ", ".inf", ".nan", "2024-01-01", "1e999"]
FRAGMENTS += ["١٢", "\x00", "\x1b[2J", "\ufeff", "%YAML 1.1\n", "tags: {owner: o, cost_center: c}\n", "9" * 40]
texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), max_size=40).map("".join)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("property") / "project"
    shutil.copytree(FIXTURE, root)
    yield root


def _files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def _no_constant(name: str) -> Any:
    raise AssertionError(f"{name} in the tfvars: not JSON")


def check_render(project: Path, data: bytes) -> None:
    (project / "environments" / "dev.yaml").write_bytes(data)
    shutil.rmtree(project / ".provision" / "dev", ignore_errors=True)
    before = _files(project / ".provision") if (project / ".provision").exists() else {}
    result = CliRunner().invoke(app, ["--project", str(project), "render", "--env", "dev"])
    lines = result.output.splitlines()
    event(f"exit {result.exit_code}")
    assert result.exit_code in (0, 2), result.output
    assert not any("Traceback" in line or "internal error" in line for line in lines), result.output
    if result.exit_code == 2:
        assert len(lines) == 1 and lines[0].startswith("error: environments/"), result.output
        after = _files(project / ".provision") if (project / ".provision").exists() else {}
        assert after == before  # nothing written on refusal
    else:
        tfvars = project / ".provision" / "dev" / "provision.auto.tfvars.json"
        json.loads(tfvars.read_text(encoding="utf-8"), parse_constant=_no_constant)


@pytest.mark.timeout(120)
@BOUNDED
@given(spec=st.one_of(specs, near_valid))
def test_generated_specs_render_or_fail_in_one_line(project: Path, spec: dict[str, Any]) -> None:
    check_render(project, yaml.safe_dump(spec, allow_unicode=True).encode())


@pytest.mark.timeout(120)
@BOUNDED
@given(text=texts)
def test_generated_yaml_text_renders_or_fails_in_one_line(project: Path, text: str) -> None:
    check_render(project, text.encode("utf-8", errors="surrogatepass"))


@pytest.mark.timeout(120)
@settings(BOUNDED, max_examples=30)
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_render_or_fail_in_one_line(project: Path, data: bytes) -> None:
    check_render(project, data)

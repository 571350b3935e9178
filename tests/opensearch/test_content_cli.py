"""`provision opensearch content`, the content file render writes, and the drift seam (compare mode)."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from provisioner.cli import app
from provisioner.functions.opensearch_config import Client
from provisioner.functions.opensearch_config.handler import run
from provisioner.opensearch.drift import ContentDrift, compare
from provisioner.opensearch.environment import CONTENT_FILE
from tests.opensearch.stub import REGION, StubOpenSearch
from tests.opensearch.test_configurator import BINDINGS, CREDS

# Renders the whole dev stack and its OpenSearch content per test (seconds each): `make test` only.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(REPO / "modules", root / "modules")
    shutil.copytree(REPO / "environments", root / "environments")
    shutil.copytree(REPO / "rules", root / "rules")
    return root


def _content(project: Path, out: Path) -> Any:
    return CliRunner().invoke(
        app, ["--project", str(project), "opensearch", "content", "--env", "dev", "--out", str(out)]
    )


def test_content_writes_one_file_per_api_object_matching_what_render_applies(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "review"
    result = _content(project, out)
    assert result.exit_code == 0, result.output
    rendered = CliRunner().invoke(app, ["--project", str(project), "render", "--env", "dev"])
    assert rendered.exit_code == 0, rendered.output
    applied = json.loads((project / ".provision" / "dev" / CONTENT_FILE).read_text())
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.json"))
    assert len(files) == len(applied["objects"]) + 1  # + bindings.json
    for obj in applied["objects"]:
        matches = [f for f in files if f.endswith(f"/{obj['name'].split('/')[-1]}.json")]
        bodies = [json.loads((out / f).read_text()) for f in matches]
        assert obj["body"] in bodies, obj["name"]
    assert "security/rolesmapping/log_ingest.json" in files
    assert "saved_objects/dashboard/security-overview.json" in files
    assert "index_templates/logs-cloudtrail.json" in files
    ndjson = (out / "saved_objects" / "import.ndjson").read_text().splitlines()
    assert len(ndjson) == sum(1 for o in applied["objects"] if o["kind"] == "saved_object")
    assert set(json.loads((out / "bindings.json").read_text())) == set(BINDINGS)


def test_content_is_deterministic_and_drops_removed_objects(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "review"
    assert _content(project, out).exit_code == 0
    first = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    stale = out / "monitors" / "removed-monitor.json"
    stale.write_text("{}")
    assert _content(project, out).exit_code == 0
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == first


def test_retention_and_analysts_come_from_the_spec(project: Path, tmp_path: Path) -> None:
    dev = project / "environments" / "dev.yaml"
    spec = yaml.safe_load(dev.read_text())
    inputs = {
        "analyst_role_arns": ["arn:aws:iam::111111111111:role/soc"],
        "index_retention": {f: {"hot_days": 2, "delete_days": 14} for f in ("cloudtrail", "guardduty", "waf")},
    }
    spec["components"] = {"opensearch": {"inputs": inputs}}
    dev.write_text(yaml.safe_dump(spec))
    out = tmp_path / "review"
    assert _content(project, out).exit_code == 0
    policy = json.loads((out / "ism_policies" / "logs-waf-retention.json").read_text())["policy"]
    ages = [t["conditions"]["min_index_age"] for s in policy["states"] for t in s["transitions"]]
    assert ages == ["2d", "14d"]
    mapping = json.loads((out / "security" / "rolesmapping" / "security_analyst.json").read_text())
    assert mapping["backend_roles"] == ["arn:aws:iam::111111111111:role/soc"]


def test_bad_retention_is_one_error_line_and_nothing_written(project: Path, tmp_path: Path) -> None:
    dev = project / "environments" / "dev.yaml"
    spec = yaml.safe_load(dev.read_text())
    bad = {f: {"hot_days": 30, "delete_days": 7} for f in ("cloudtrail", "guardduty", "waf")}
    spec["components"] = {"opensearch": {"inputs": {"index_retention": bad}}}
    dev.write_text(yaml.safe_dump(spec))
    out = tmp_path / "review"
    result = _content(project, out)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: environments/dev.yaml: components.opensearch.inputs.index_retention.cloudtrail: "
        "needs whole days with 1 <= hot_days < delete_days"
    ]
    assert not out.exists()
    rendered = CliRunner().invoke(app, ["--project", str(project), "render", "--env", "dev"])
    assert rendered.exit_code == 2
    assert not (project / ".provision" / "dev" / "main.tf").exists()


class _LambdaOverStub:
    """The Lambda transport replaced by a direct call of the handler's work against the SigV4 stub peer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.calls: list[str] = []

    def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:
        self.calls.append(FunctionName)
        result = run(Client(self.url, REGION, CREDS), json.loads(Payload))
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(result).encode())}


@pytest.fixture()
def stub() -> Iterator[StubOpenSearch]:
    with StubOpenSearch(CREDS) as peer:
        yield peer


def test_drift_compare_reports_a_changed_mapping_and_writes_nothing(stub: StubOpenSearch, project: Path) -> None:
    from provisioner.opensearch.environment import content_for
    from provisioner.project import WorkspaceRef, find_project
    from provisioner.workspace import load_spec

    content = content_for(find_project(project), load_spec(find_project(project), WorkspaceRef("dev")))
    run(Client(stub.url, REGION, CREDS), {"content": content, "bindings": BINDINGS})
    writes = len(stub.writes)
    event = json.dumps({"endpoint": stub.url, "admin_role_arn": BINDINGS["admin_role_arn"], "bindings": BINDINGS})
    client = _LambdaOverStub(stub.url)
    assert compare(client, "dso-dev-os-configurator", event, content) == []
    stub.store["rolesmapping"]["log_ingest"]["backend_roles"] = []
    found = compare(client, "dso-dev-os-configurator", event, content)
    assert [d.line() for d in found] == [
        "opensearch security_role_mapping log_ingest differs: backend_roles: expected "
        '["arn:aws:iam::123456789012:role/dso-dev-cloudtrail-normalizer-role", '
        '"arn:aws:iam::123456789012:role/dso-dev-waf-firehose"], found []'
    ]
    assert isinstance(found[0], ContentDrift)
    assert len(stub.writes) == writes

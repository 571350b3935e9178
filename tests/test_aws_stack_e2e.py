"""The real stack on the embedded emulator with the real OpenSearch module: `up --env local` creates at least
95% of what the plan (the same components as `dev`) holds.

Slow: the aws provider waits a fixed 10 minutes before it first polls an OpenSearch domain, on create and on
delete. This test is create-only (~13 minutes): `up`, `drift` and `down` of `local` itself with the real module,
as a newcomer runs them, are the default lane's journey (tests/test_journey.py); the emulator is discarded at
the end. Deselected by default (`aws_provider`
marker); CI runs it as its own job in parallel with the default lane: `pytest -m aws_provider
tests/test_aws_stack_e2e.py` (or `make test-all`). PROVISION_E2E_DOWN=1 also runs `down` (~12 more minutes).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from tests.e2e_local import LocalCli, build_project, instance_count, local_cli, provider_dir_or_skip, state_resources

pytestmark = [pytest.mark.aws_provider, pytest.mark.slow, pytest.mark.timeout(2400)]


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCli]:
    plugin_dir = provider_dir_or_skip()
    yield from local_cli(build_project(tmp_path_factory.mktemp("local-real"), standin=False), plugin_dir)


def test_the_real_stack_is_created_and_destroyed(cli: LocalCli, capsys: pytest.CaptureFixture[str]) -> None:
    up = cli("up", "--env", "localci", "--auto-approve", timeout=2000)
    assert up.code == 0, up.out[-3000:] + up.err[-3000:]
    found = re.search(r"(\d+) to create", up.out)
    assert found, up.out[-2000:]
    planned, created = int(found.group(1)), instance_count(state_resources(cli))
    with capsys.disabled():
        print(f"\nlocal (real OpenSearch, dev's components): {planned} planned, {created} created")
    assert created >= 0.95 * planned
    assert any(r["type"] == "aws_opensearch_domain" for r in state_resources(cli))
    if os.environ.get("PROVISION_E2E_DOWN") != "1":
        return  # the emulator (and everything on it) is discarded by the fixture
    down = cli("down", "--env", "localci", "--yes", timeout=2000)
    assert down.code == 0, down.out[-3000:] + down.err[-3000:]
    assert state_resources(cli) == []

"""The real stack on the embedded emulator with the real OpenSearch module: `up --env local` creates at least
95% of what the plan (the same components as `dev`) holds, and `down` removes it all.

Slow: the aws provider waits a fixed 10 minutes before it first polls an OpenSearch domain, on create and on
delete (~26 minutes in all). Deselected by default (`aws_provider` marker); CI runs it in its own job with
`make test-all` or `pytest -m aws_provider tests/test_aws_stack_e2e.py`, in parallel with the default lane.
"""

from __future__ import annotations

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
    down = cli("down", "--env", "localci", "--yes", timeout=2000)
    assert down.code == 0, down.out[-3000:] + down.err[-3000:]
    assert state_resources(cli) == []

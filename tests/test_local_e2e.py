"""The main job end to end with no AWS account: `local` on the embedded emulator, real terraform, the real
hashicorp/aws provider, the whole gate. up -> no drift -> changes behind Terraform's back are reported ->
down in one run, empty state, nothing left over.

Version matrix: this lifecycle runs on the machine's system-wide terraform (1.11.4, a user's own binary through
PROVISION_TERRAFORM), with one plan by the default terraform (the venv's 1.15.5) on the same work dir in the
middle; the journey test covers the default end to end.

Default lane: OpenSearch is replaced by the stand-in module (tests/fixtures/modules/opensearch_standin,
selected with components.opensearch.module): the provider waits a fixed 10 minutes before it first polls a
domain on create and again on delete, which alone would take ~22 of the CI budget. The real module runs in
test_aws_stack_e2e.py (slow)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e_local import (
    LocalCli,
    build_project,
    find_instance,
    instance_count,
    local_cli,
    provider_dir_or_skip,
    state_resources,
    venv_terraform,
)
from tests.webhook import Receiver

SYSTEM_TERRAFORM = Path("/usr/local/bin/terraform")  # 1.11.4 on machines of this kind (TOOLCHAIN.md)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCli]:
    plugin_dir = provider_dir_or_skip()
    if not SYSTEM_TERRAFORM.is_file():
        pytest.fail(f"{SYSTEM_TERRAFORM} missing: the version matrix runs this lifecycle on the system terraform")
    project = build_project(tmp_path_factory.mktemp("local"), standin=True)
    yield from local_cli(project, plugin_dir, SYSTEM_TERRAFORM)


def test_lifecycle_on_the_emulator(cli: LocalCli, capsys: pytest.CaptureFixture[str]) -> None:
    up = cli("up", "--env", "localci", "--auto-approve")
    assert up.code == 0, up.out[-3000:] + up.err[-3000:]
    assert f"terraform 1.11.4 ({SYSTEM_TERRAFORM})" in up.out  # preflight names the user's own binary
    planned = _planned_creates(up.out)
    created = instance_count(state_resources(cli))
    with capsys.disabled():
        print(f"\nlocal (OpenSearch stand-in): {planned} resources planned, {created} created, up {up.seconds:.0f}s")
    assert created >= planned > 150

    # Right after up: nothing changed outside, nothing pending, nothing unmanaged, no posture finding (issue 12):
    # drift exits 0. The posture checks run against the emulator too.
    hooks = Receiver()  # `--notify`: told once when drift appears, never while it is unchanged (state in S3)
    notify = ("--notify", f"{hooks.url}/json")
    quiet = cli("drift", "--env", "localci", "--format", "json", *notify)
    env = json.loads(quiet.out)["environments"][0]
    assert env["errors"] == [] and env["terraform"]["has_drift"] is False, json.dumps(env["terraform"])[:4000]
    assert env["unmanaged"] == []
    assert [p for p in env["posture"] if p["status"] != "ok"] == [], env["posture"]
    assert {"cloudtrail.logging", "waf.associated"} <= {p["id"] for p in env["posture"]}, "posture checks ran"
    assert quiet.code == 0, quiet.err[-2000:]
    assert hooks.take() == []  # clean and never notified: nothing to say

    # A second plan right after up is clean and passes the gate again (no perpetual diff, no finding that only
    # a resolved plan shows), and so it is with the default terraform on the same work dir: switching binaries
    # re-initialises it (the state and its S3 lock file stay; never "Backend configuration changed").
    again = cli.using(venv_terraform())("plan", "--env", "localci")
    assert again.code == 0, again.out[-3000:] + again.err[-3000:]
    assert "terraform 1.15.5" in again.out
    assert "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete" in again.out

    expected = _change_behind_terraforms_back(cli)
    drifted = cli("drift", "--env", "localci", "--format", "json", *notify)
    env = json.loads(drifted.out)["environments"][0]
    changed = {c["address"]: [a["path"] for a in c["attributes"]] for c in env["terraform"]["changed_outside"]}
    assert drifted.code == 2
    for address, path in expected:
        assert any(p.startswith(path) for p in changed.get(address, [])), (address, path, changed)
    assert [body["change"] for _, body in hooks.take()] == ["new"], drifted.err[-2000:]
    same = cli("drift", "--env", "localci", "--format", "json", *notify)  # the same drift the next night
    assert same.code == 2 and hooks.take() == [], same.err[-2000:]
    hooks.server.shutdown()

    down = cli("down", "--env", "localci", "--yes")
    assert down.code == 0, down.out[-3000:] + down.err[-3000:]
    assert state_resources(cli) == []
    assert "none left" in down.out
    with capsys.disabled():
        print(f"drift (clean) {quiet.seconds:.0f}s, drift (changed) {drifted.seconds:.0f}s, down {down.seconds:.0f}s")


def _planned_creates(output: str) -> int:
    """The plan summary's create count (`Plan: N to add, ...`)."""
    import re

    found = re.search(r"(\d+) to add", output) or re.search(r"(\d+) to create", output)
    assert found, output[-2000:]
    return int(found.group(1))


def _change_behind_terraforms_back(cli: LocalCli) -> list[tuple[str, str]]:
    """Versioning suspended on the access-log bucket, an ingress rule and a changed tag on a security group;
    returns the (address, attribute path prefix) pairs drift must name."""
    s3, ec2 = cli.boto("s3"), cli.boto("ec2")
    resources = state_resources(cli)
    versioning, attrs = find_instance(resources, "aws_s3_bucket_versioning", bucket="access-logs")
    s3.put_bucket_versioning(Bucket=attrs["bucket"], VersioningConfiguration={"Status": "Suspended"})
    group, sg = find_instance(resources, "aws_security_group", name="zap")
    ec2.authorize_security_group_ingress(
        GroupId=sg["id"], IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="10.0.0.0/8"
    )
    ec2.create_tags(Resources=[sg["id"]], Tags=[{"Key": "Owner", "Value": "someone-else"}])
    return [(versioning, "versioning_configuration[0].status"), (group, "ingress"), (group, "tags.Owner")]

"""The AWS-native fleet on the emulator, with the real terraform and hashicorp/aws provider: the management
environment applies (schedules, state machine, build project, aggregation Lambda, results bucket); its state
machine is a valid ASL document with a Distributed Map and `codebuild:startBuild.sync`; and the map over the fleet
list runs on moto's ASL interpreter with the build step stubbed at its boundary.

What is stubbed, exactly: moto has no CodeBuild `.sync` integration and its Lambda invoke needs Docker, so a copy
of the deployed definition replaces the `Build` task by a Pass + `aws-sdk:s3:putObject` that writes the drift
report a build would write (same key, same schema), and the `Aggregate` task by a Pass; the aggregation handler
then runs in-process against the emulator's S3 and SNS. Everything else (the ItemReader over fleet.json, the
ItemSelector, concurrency, the run's key layout) is the deployed definition."""

from __future__ import annotations

import copy
import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.e2e_local import REPO, LocalCli, build_project, local_cli, provider_dir_or_skip, state_resources

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
ACCOUNT = "123456789012"
TARGETS = ["dev", "staging", "prod"]


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCli]:
    plugin_dir = provider_dir_or_skip()
    project = build_project(tmp_path_factory.mktemp("fleet"), standin=False)
    spec = yaml.safe_load((REPO / "environments" / "management.yaml").read_text())
    spec |= {"target": "emulator", "account_ids": [ACCOUNT], "name_prefix": "dso-flt"}
    spec["components"]["fleet"]["inputs"]["targets"] = [
        {"name": n, "role": f"arn:aws:iam::{ACCOUNT}:role/devsecops-fleet-drift"} for n in TARGETS
    ]
    spec["components"]["fleet"]["inputs"]["force_destroy"] = True
    (project / "environments" / "mgmtci.yaml").write_text(yaml.safe_dump(spec))
    yield from local_cli(project, plugin_dir)


def asl_problems(definition: dict[str, Any], where: str = "") -> list[str]:
    """Structural rules of the Amazon States Language that the fleet relies on."""
    states = definition.get("States", {})
    problems = [] if definition.get("StartAt") in states else [f"{where}StartAt names no state"]
    for name, state in states.items():
        targets = [state.get("Next"), state.get("Default")]
        targets += [c.get("Next") for c in state.get("Choices", []) + state.get("Catch", [])]
        problems += [f"{where}{name}: Next {t!r} is no state" for t in targets if t is not None and t not in states]
        terminal = state.get("End") is True or state["Type"] in ("Choice", "Succeed", "Fail")
        if not terminal and "Next" not in state:
            problems.append(f"{where}{name}: neither End nor Next")
        for retry in state.get("Retry", []):
            if not retry.get("ErrorEquals") or retry.get("MaxAttempts", 3) < 0:
                problems.append(f"{where}{name}: Retry without ErrorEquals")
        if state["Type"] == "Map":
            problems += asl_problems(state["ItemProcessor"], f"{where}{name}.")
    return problems


def _definition(cli: LocalCli) -> tuple[str, dict[str, Any]]:
    sfn = cli.boto("stepfunctions")
    machine = next(m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == "dso-flt-fleet")
    described = sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])
    return described["roleArn"], json.loads(described["definition"])


def _stubbed(definition: dict[str, Any]) -> dict[str, Any]:
    stub = copy.deepcopy(definition)
    processor = stub["States"]["EachEnvironment"]["ItemProcessor"]
    bucket = stub["States"]["EachEnvironment"]["ItemReader"]["Parameters"]["Bucket"]
    environment = {
        "environment.$": "$.name", "workspace.$": "$.name", "region": "eu-west-1", "status": "clean",
        "errors": [], "duration_seconds": 1, "terraform": None, "posture": None, "unmanaged": None, "opensearch": None,
    }  # fmt: skip
    processor["StartAt"] = "Build"
    report = {"schema": 1, "aws_checks": True, "environments": [environment]}
    build = {"Type": "Pass", "Parameters": {"name.$": "$.name", "run.$": "$.run", "report": report}}
    write = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
        "Parameters": {
            "Bucket": bucket,
            "Key.$": "States.Format('runs/{}/{}.json', $.run, $.name)",
            "Body.$": "States.JsonToString($.report)",
        },
        "End": True,
    }
    processor["States"] = {"Build": {**build, "Next": "WriteReport"}, "WriteReport": write}
    stub["States"]["Aggregate"] = {"Type": "Pass", "End": True}
    # moto's ASL grammar takes this only as a decimal (provisioner/emulator/compat/states.py)
    each = stub["States"]["EachEnvironment"]
    each["ToleratedFailurePercentage"] = float(each["ToleratedFailurePercentage"])
    return stub


def _execute_state_machines(endpoint: str, on: bool) -> None:
    """moto runs state machines on its ASL interpreter (a second backend) only while its config says so."""
    body = json.dumps({"stepfunctions": {"execute_state_machine": on}}).encode()
    request = urllib.request.Request(f"{endpoint}/moto-api/config", data=body, method="POST")
    urllib.request.urlopen(request, timeout=10).read()


def test_fleet_applies_and_its_map_runs_over_the_fleet_list(
    cli: LocalCli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    up = cli("up", "--env", "mgmtci", "--auto-approve")
    assert up.code == 0, up.out[-3000:] + up.err[-3000:]

    role, definition = _definition(cli)
    assert asl_problems(definition) == []
    each = definition["States"]["EachEnvironment"]
    assert each["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert each["ItemProcessor"]["States"]["Build"]["Resource"] == "arn:aws:states:::codebuild:startBuild.sync"
    assert each["MaxConcurrency"] == 20 and each["ToleratedFailurePercentage"] == 10
    assert each["Catch"][0]["Next"] == "Aggregate"

    endpoint = cli.endpoint()
    _execute_state_machines(endpoint, True)
    sfn = cli.boto("stepfunctions")
    arn = sfn.create_state_machine(name="fleet-stubbed", definition=json.dumps(_stubbed(definition)), roleArn=role)[
        "stateMachineArn"
    ]
    execution = sfn.start_execution(stateMachineArn=arn, name="night-1", input=json.dumps({"mode": "drift"}))
    status = "RUNNING"
    for _ in range(120):
        status = sfn.describe_execution(executionArn=execution["executionArn"])["status"]
        if status != "RUNNING":
            break
        time.sleep(1)
    assert status == "SUCCEEDED", sfn.get_execution_history(executionArn=execution["executionArn"])["events"][-3:]

    _execute_state_machines(endpoint, False)  # back to the backend terraform created the real machine in
    bucket = each["ItemReader"]["Parameters"]["Bucket"]
    s3 = cli.boto("s3")
    written = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="runs/night-1/").get("Contents", []))
    assert written == sorted(f"runs/night-1/{n}.json" for n in TARGETS)

    # The aggregation step, for real, against the emulator's S3 and SNS.
    from provisioner.functions.fleet import handler

    topic = next(t["TopicArn"] for t in cli.boto("sns").list_topics()["Topics"] if "dso-flt" in t["TopicArn"])
    for key, value in {
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1", "RESULTS_BUCKET": bucket, "ALERTS_TOPIC_ARN": topic,
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    result = handler.lambda_handler({"run": "night-1"}, None)
    assert result["summary"] == {"environments": 3, "clean": 3, "drift": 0, "error": 0}
    assert result["message_id"] is None  # a clean fleet is news to nobody

    down = cli("down", "--env", "mgmtci", "--yes")
    assert down.code == 0, down.out[-3000:] + down.err[-3000:]
    assert state_resources(cli, "mgmtci") == []
    with capsys.disabled():
        print(f"\nfleet on the emulator: up {up.seconds:.0f}s, down {down.seconds:.0f}s")


def test_asl_rules_catch_a_dangling_next() -> None:
    broken = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}
    assert asl_problems(broken) == ["A: Next 'B' is no state"]
    assert asl_problems({"StartAt": "X", "States": {}}) == ["StartAt names no state"]

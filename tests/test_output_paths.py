"""Output directories are checked before anything is written: a path under a file, a directory nothing can be
written in, or a file name taken by a directory is one line, exit 2, and nothing is written (before: exit 3
with files already written)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provisioner.cli import app

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("out") / "project"
    for part in ("modules", "environments", "rules"):
        shutil.copytree(REPO / part, dest / part)
    return dest


def _rules_build(project: Path, out: Path) -> list[str]:
    return ["rules", "build", "--rules", str(project / "rules"), "--out", str(out)]


def _content(project: Path, out: Path) -> list[str]:
    return ["--project", str(project), "opensearch", "content", "--env", "dev", "--out", str(out)]


def _scan(project: Path, out: Path) -> list[str]:
    return ["--project", str(project), "scan", "--env", "dev", "--report-dir", str(out)]


COMMANDS = {"rules build": _rules_build, "opensearch content": _content, "scan --report-dir": _scan}


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_output_path_under_a_file_is_refused_with_nothing_written(
    project: Path, tmp_path: Path, command: str
) -> None:
    work = tmp_path / "work"  # tmp_path itself holds the suite's terraformrc
    work.mkdir()
    blocker = work / "a-file"
    blocker.write_text("keep me\n")
    out = blocker / "out"
    result = runner.invoke(app, COMMANDS[command](project, out))
    assert result.exit_code == 2, result.output
    option = "--report-dir" if "scan" in command else "--out"
    assert result.stderr == f"error: {option} {out}: is under {blocker}, which is not a directory\n"
    assert _files(work) == [blocker] and blocker.read_text() == "keep me\n"


@pytest.mark.parametrize("command", ["rules build", "opensearch content"])
def test_an_output_directory_nothing_can_be_written_in_is_refused(project: Path, command: str) -> None:
    # sysfs refuses new files even to root, as a read-only mount would (the tests run as root, so chmod is no test).
    out = Path("/sys/kernel/provision-out")
    result = runner.invoke(app, COMMANDS[command](project, out))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: --out {out}: cannot write in /sys/kernel: ")
    assert not out.exists()


def _collide_rules(out: Path) -> Path:
    (out / "cloudtrail-bedrock-model-invocation.json").mkdir(parents=True)
    return out / "cloudtrail-bedrock-model-invocation.json"


def _collide_content(out: Path) -> Path:
    (out / "bindings.json").mkdir(parents=True)
    return out / "bindings.json"


def _collide_reports(out: Path) -> Path:
    (out / "checkov.junit.xml").mkdir(parents=True)
    return out / "checkov.junit.xml"


COLLISIONS: dict[str, Callable[[Path], Path]] = {
    "rules build": _collide_rules,
    "opensearch content": _collide_content,
    "scan --report-dir": _collide_reports,
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_file_name_taken_by_a_directory_is_refused_before_writing(
    project: Path, tmp_path: Path, command: str
) -> None:
    out = tmp_path / "work" / "out"
    taken = COLLISIONS[command](out)
    result = runner.invoke(app, COMMANDS[command](project, out))
    assert result.exit_code == 2, result.output
    assert result.stderr.endswith(f"{taken} is a directory where a file is to be written\n")
    assert _files(out) == []


def test_a_report_file_whose_name_is_a_directory_is_refused_before_the_scan(project: Path, tmp_path: Path) -> None:
    taken = tmp_path / "work" / "report.json"
    taken.mkdir(parents=True)
    args = ["--project", str(project), "scan", "--env", "dev", "--format", "json", "--output", str(taken)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: --output {taken}: is a directory where a file is to be written\n"
    assert result.stdout == ""  # refused before the scan ran

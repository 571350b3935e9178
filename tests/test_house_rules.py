"""House size rules for `provisioner/`: no function over 60 lines, no file over 450 lines.

Ruff's complexity rules (C901, PLR0912, PLR0913, PLR0915; thresholds in pyproject.toml) bound branches and
arguments; these bound length, which ruff does not measure. A function's length counts from its `def` (or first
decorator) to its last line, docstring and comments included: that is what a reader scrolls through.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "provisioner"
MAX_FUNCTION_LINES = 60
MAX_FILE_LINES = 450
# Generated data is exempt: written by tools, read by code, never edited by hand.
GENERATED = ("schema/*.json",)
# Text that people write and read; binary or generated files are not sources.
SOURCE_SUFFIXES = {".py", ".j2", ".md", ".json", ".yaml", ".yml", ".tf"}

# Exceptions, each (path relative to provisioner/, function name or None for the file length): none.
ALLOWED: set[tuple[str, str | None]] = set()  # (file, function | None): empty, and it may only shrink


def _is_generated(path: Path) -> bool:
    relative = path.relative_to(PACKAGE)
    return any(relative.match(pattern) for pattern in GENERATED)


def _sources() -> list[Path]:
    return sorted(
        p
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix in SOURCE_SUFFIXES and "__pycache__" not in p.parts and not _is_generated(p)
    )


def _function_lengths(path: Path) -> list[tuple[str, int, int]]:
    """(qualified name, first line, length) of every function and method in a Python file."""
    found: list[tuple[str, int, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                assert child.end_lineno is not None
                found.append((f"{prefix}{child.name}", first, child.end_lineno - first + 1))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), "")
    return found


def _long_files() -> list[str]:
    offenders = []
    for path in _sources():
        count = len(path.read_text(encoding="utf-8").splitlines())
        relative = path.relative_to(PACKAGE).as_posix()
        if count > MAX_FILE_LINES and (relative, None) not in ALLOWED:
            offenders.append(f"provisioner/{relative}: {count} lines")
    return offenders


def _long_functions() -> list[str]:
    offenders = []
    for path in _sources():
        if path.suffix != ".py":
            continue
        relative = path.relative_to(PACKAGE).as_posix()
        for name, line, length in _function_lengths(path):
            if length > MAX_FUNCTION_LINES and (relative, name) not in ALLOWED:
                offenders.append(f"provisioner/{relative}:{line} {name}: {length} lines")
    return offenders


def test_no_file_over_450_lines() -> None:
    offenders = _long_files()
    assert not offenders, f"files over {MAX_FILE_LINES} lines (split by concern):\n" + "\n".join(offenders)


def test_no_function_over_60_lines() -> None:
    offenders = _long_functions()
    assert not offenders, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(offenders)


def test_the_walk_sees_the_package() -> None:
    # Guards the two tests above against passing on an empty walk (a moved package, a wrong suffix filter).
    paths = {p.relative_to(PACKAGE).as_posix() for p in _sources()}
    assert {"cli.py", "terraform/runner.py", "functions/logs/waf.py", "templates/main.tf.j2"} <= paths
    assert "schema/aws.json" not in paths
    names = {name for name, _, _ in _function_lengths(PACKAGE / "terraform" / "runner.py")}
    assert {"Terraform.plan", "Terraform.plan.watch", "Terraform._stream"} <= names


def test_allow_list_names_only_real_offenders() -> None:
    # An entry whose file got short (or whose function is gone or fits) must be deleted, not kept as a
    # silent licence: the allow-list only ever shrinks.
    stale = []
    for relative, name in sorted(ALLOWED, key=str):
        path = PACKAGE / relative
        if not path.is_file():
            stale.append(f"{relative}: no such file")
        elif name is None and len(path.read_text(encoding="utf-8").splitlines()) <= MAX_FILE_LINES:
            stale.append(f"{relative}: now within {MAX_FILE_LINES} lines")
        elif name is not None and all(
            n != name or length <= MAX_FUNCTION_LINES for n, _, length in _function_lengths(path)
        ):
            stale.append(f"{relative} {name}: gone or within {MAX_FUNCTION_LINES} lines")
    assert not stale, "stale allow-list entries:\n" + "\n".join(stale)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f():\n    return 1\n", [("f", 1, 2)]),
        ("@d\n@e\ndef f():\n    pass\n", [("f", 1, 4)]),
        ("class C:\n    def m(self):\n        def inner():\n            pass\n", [("C.m", 2, 3), ("C.m.inner", 3, 2)]),
        ("if True:\n    async def g():\n        pass\n", [("g", 2, 2)]),
    ],
)
def test_function_lengths_are_measured_from_decorator_to_last_line(
    tmp_path: Path, source: str, expected: list[tuple[str, int, int]]
) -> None:
    path = tmp_path / "m.py"
    path.write_text(source)
    assert _function_lengths(path) == expected


# -- imports: no cycles, Lambda code self-contained (the layers themselves: `lint-imports`, pyproject.toml) --


def _runtime_import_graph() -> grimp.ImportGraph:
    """Every import that can run, those inside functions included; `if TYPE_CHECKING:` ones never run."""
    return grimp.build_graph("provisioner", exclude_type_checking_imports=True, cache_dir=None)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Each import a -> b that b leads back from: the cycle as a chain of modules, a first."""
    found = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                found.append([importer, *back])
    return found


def test_no_import_cycle_in_the_package() -> None:
    assert _cycles(_runtime_import_graph()) == []


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from cyclic import b\n")
    (package / "b.py").write_text("from cyclic import a\n")
    (package / "c.py").write_text("from cyclic import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("cyclic", exclude_type_checking_imports=True, cache_dir=None)
    assert _cycles(graph) == [["cyclic.a", "cyclic.b", "cyclic.a"], ["cyclic.b", "cyclic.a", "cyclic.b"]]


def test_lambda_code_imports_only_lambda_code() -> None:
    graph = _runtime_import_graph()
    host = [
        f"{importer} -> {imported}"
        for importer in sorted(
            graph.find_children("provisioner.functions") | graph.find_descendants("provisioner.functions")
        )
        for imported in sorted(graph.find_modules_directly_imported_by(importer))
        if not imported.startswith("provisioner.functions")
    ]
    assert host == []

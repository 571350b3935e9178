"""Read a catalogue directory: every `*.yml`/`*.yaml` under it, each file one rule (plus its correlation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from provisioner.errors import InputError, SpecError
from provisioner.rules.catalogue import Catalogue, Rule, parse_correlation_rule, parse_detection_rule
from provisioner.rules.detection import Placeholders, RuleError


def _documents(path: Path, label: str) -> list[dict[str, Any]]:
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "yaml"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(label, where, f"YAML syntax error: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(label, "", f"cannot read: {exc}") from None
    if not docs:
        raise SpecError(label, "", "no rule in this file")
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise SpecError(label, f"document {i + 1}", "a rule must be a YAML map")
    return docs


def _name(doc: dict[str, Any], stem: str, index: int, count: int) -> str:
    name = doc.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    if count == 1 or "correlation" in doc:
        return stem
    raise RuleError("name", "required when a file holds more than one rule")


def load_file(path: Path, label: str, known: list[Rule], placeholders: Placeholders) -> list[Rule]:
    docs = _documents(path, label)
    out: list[Rule] = []
    for i, doc in enumerate(docs):
        try:
            name = _name(doc, path.stem, i, len(docs))
            if "correlation" in doc:
                out.append(parse_correlation_rule(doc, label, name, [*known, *out]))
            else:
                out.append(parse_detection_rule(doc, label, name, placeholders))
        except RuleError as exc:
            key = exc.key if len(docs) == 1 else f"document {i + 1}.{exc.key}"
            raise SpecError(label, key, exc.reason) from None
    return out


def read_placeholder(path: Path) -> list[str]:
    """Values of a placeholder file: one per line, `#` comments (GuardDuty's TXT threat-list format)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    return [v for line in lines if (v := line.split("#", 1)[0].strip())]


def load_catalogue(directory: Path, root: Path | None = None, placeholders: Placeholders | None = None) -> Catalogue:
    """Every rule under `directory`; ids and names must be unique. Files are named relative to `root`.

    `|expand` values (`%threat_list%`) come from `directory/placeholders/<name>.txt`; `placeholders` override them.
    """
    if not directory.is_dir():
        raise InputError(f"{directory}: no rule directory there")
    defaults = {p.stem: read_placeholder(p) for p in sorted((directory / "placeholders").glob("*.txt"))}
    placeholders = {**defaults, **(placeholders or {})}
    files = sorted(p for p in directory.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
    if not files:
        raise InputError(f"{directory}: no rule files (*.yml) there")
    rules: list[Rule] = []
    for path in files:
        label = str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
        loaded = load_file(path, label, rules, placeholders)
        for rule in loaded:
            for other in rules:
                if rule.id == other.id:
                    raise SpecError(label, "id", f"{rule.id} is also the id of {other.file}")
                if rule.name == other.name:
                    raise SpecError(label, "name", f"{rule.name!r} is also the name of a rule in {other.file}")
        rules.extend(loaded)
    return Catalogue(rules)

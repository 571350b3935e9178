"""Content for one environment: settings from the spec, the file render writes, the review layout."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from provisioner.errors import SpecError
from provisioner.opensearch.content import BINDINGS, ROLE_ARN, Settings, build, dumps
from provisioner.project import Project
from provisioner.spec import EnvironmentSpec

COMPONENT = "opensearch"
CONTENT_FILE = Path("build") / "opensearch-content.json"  # relative to the rendered root (path.root)
# Review layout: kind -> directory under --out (saved objects add <type>/, role kinds add their API name).
LAYOUT = {
    "security_role": "security/roles",
    "security_role_mapping": "security/rolesmapping",
    "index_template": "index_templates",
    "ism_policy": "ism_policies",
    "notification_channel": "notifications",
    "saved_object": "saved_objects",
    "monitor": "monitors",
}


def _parse_defaults(text: str) -> dict[str, Any]:
    import hcl2
    from hcl2 import SerializationOptions

    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    defaults: dict[str, Any] = {}
    for block in hcl2.loads(text, serialization_options=options).get("variable", []):
        for name, body in block.items():
            if "default" in body:
                defaults[name.strip('"')] = body["default"]
    return defaults


def _module_defaults(project: Project, module_dir: Path) -> dict[str, Any]:
    """Variable defaults of a module, cached by file content (importing and running the HCL parser costs ~0.3 s)."""
    cache_file = project.work_root / ".cache" / "module-defaults.json"
    try:
        cache = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {}
    defaults: dict[str, Any] = {}
    changed = False
    for path in sorted(module_dir.glob("variables*.tf")):
        text = path.read_text(encoding="utf-8")
        key = hashlib.sha256(text.encode()).hexdigest()
        if key not in cache:
            cache[key] = _parse_defaults(text)
            changed = True
        defaults.update(cache[key])
    if changed:
        with contextlib.suppress(OSError):  # a read-only checkout still works, only slower
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            cache_file.write_text(json.dumps(cache, sort_keys=True), encoding="utf-8")
    return defaults


def _retention(value: Any, families: tuple[str, ...], where: tuple[str, str]) -> dict[str, tuple[int, int]]:
    if not isinstance(value, dict):
        raise SpecError(*where, "must map each index family to {hot_days, delete_days}")
    out: dict[str, tuple[int, int]] = {}
    for family in families:
        entry = value.get(family)
        if not isinstance(entry, dict):
            raise SpecError(where[0], f"{where[1]}.{family}", "missing: give {hot_days, delete_days}")
        hot, delete = entry.get("hot_days"), entry.get("delete_days")
        if not (isinstance(hot, int) and isinstance(delete, int) and 1 <= hot < delete):
            raise SpecError(where[0], f"{where[1]}.{family}", "needs whole days with 1 <= hot_days < delete_days")
        out[family] = (hot, delete)
    return out


def settings_for(project: Project, spec: EnvironmentSpec) -> Settings:
    """Inputs of components.opensearch, else the module's defaults (what Terraform would use)."""
    component = spec.components.get(COMPONENT)
    module_dir = project.modules_dir / ((component.module if component else None) or COMPONENT)
    values = {**_module_defaults(project, module_dir), **(component.inputs if component else {})}
    shown = project.relative(project.environment_file(spec.name))
    key = f"components.{COMPONENT}.inputs"
    analysts = values.get("analyst_role_arns") or []
    if not isinstance(analysts, list) or not all(isinstance(a, str) and ROLE_ARN.match(a) for a in analysts):
        raise SpecError(shown, f"{key}.analyst_role_arns", "must be a list of IAM role ARNs")
    patterns = values.get("ingest_index_patterns") or list(Settings.ingest_index_patterns)
    families = Settings.families
    retention = _retention(values.get("index_retention"), families, (shown, f"{key}.index_retention"))
    return Settings(tuple(patterns), tuple(analysts), retention, families, _threat_list(project, spec))


def _threat_list(project: Project, spec: EnvironmentSpec) -> dict[str, list[str]]:
    """The environment's GuardDuty threat lists, as the rules' `threat_list` placeholder."""
    from provisioner.rules.loader import read_placeholder

    guardduty = spec.enabled_components.get("guardduty")
    files = (guardduty.inputs.get("threat_ip_list_files") if guardduty else None) or []
    values = [value for name in files for value in read_placeholder(project.root / str(name))]
    return {"threat_list": values} if values else {}


def content_for(project: Project, spec: EnvironmentSpec) -> dict[str, Any]:
    return build(settings_for(project, spec), project.root)


def content_bytes(project: Project, spec: EnvironmentSpec) -> bytes | None:
    """The canonical content file for render (None when the opensearch component is not enabled)."""
    if COMPONENT not in spec.enabled_components:
        return None
    return dumps(content_for(project, spec)).encode()


def _file_name(obj: dict[str, Any]) -> Path:
    name = str(obj["name"])
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name.split("/")[-1])
    sub = Path(LAYOUT[obj["kind"]])
    if obj["kind"] == "saved_object":
        sub = sub / name.split("/", 1)[0]
    return sub / f"{safe}.json"


def review_files(content: dict[str, Any]) -> list[str]:
    """The files `write_review_dir` writes, relative to its directory (checked before anything is written)."""
    return [*(str(_file_name(obj)) for obj in content["objects"]), "saved_objects/import.ndjson", "bindings.json"]


def write_review_dir(content: dict[str, Any], out: Path) -> list[Path]:
    """One pretty JSON file per API object (the request body), saved objects also as one NDJSON import file.

    The layout's directories are replaced, so a removed object disappears from the review too."""
    for sub in {Path(d).parts[0] for d in LAYOUT.values()}:
        shutil.rmtree(out / sub, ignore_errors=True)
    written: list[Path] = []
    ndjson: list[str] = []
    for obj in content["objects"]:
        path = out / _file_name(obj)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(obj["body"], indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
        if obj["kind"] == "saved_object":
            type_, _, id_ = obj["name"].partition("/")
            ndjson.append(json.dumps({"type": type_, "id": id_, **obj["body"]}, sort_keys=True, ensure_ascii=False))
    (out / "saved_objects" / "import.ndjson").write_text("\n".join(ndjson) + "\n", encoding="utf-8")
    bindings = out / "bindings.json"
    bindings.write_text(json.dumps(BINDINGS, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return [*written, out / "saved_objects" / "import.ndjson", bindings]

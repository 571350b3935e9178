"""Render an environment spec into a Terraform root module in `.provision/<workspace>/`.

Only structure is written as HCL (by a Jinja2 template); every value from the spec travels in
`provision.auto.tfvars.json`, so no spec string can ever become HCL syntax. Output is deterministic.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from provisioner.component_inputs import input_problem
from provisioner.errors import SpecError
from provisioner.primitives import did_you_mean, write_if_changed
from provisioner.project import Project
from provisioner.spec import GLOBAL_INPUTS, Component, EnvironmentSpec
from provisioner.spec_files import shown_key

MAIN_FILE = "main.tf"
TFVARS_FILE = "provision.auto.tfvars.json"
MANIFEST_FILE = "render.json"
BUILD_DIR = "build"
# Files of a module that change what Terraform does (buildspecs and scripts are read with file()).
_MODULE_FILE_SUFFIXES = {".tf", ".yml", ".yaml", ".json", ".sh", ".py", ".tpl", ".j2"}


@dataclass(frozen=True)
class ModuleInterface:
    """A module's declared variables (name -> has default), their type constraints (name -> HCL type text;
    `any` when absent) and outputs (name -> sensitive)."""

    name: str
    variables: dict[str, bool]
    outputs: dict[str, bool]
    types: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderResult:
    work_dir: Path
    files: tuple[Path, ...]
    config_hash: str
    components: tuple[str, ...]
    lambda_packages: dict[str, Path] = field(default_factory=dict)


def hcl_string(value: object) -> str:
    """A double-quoted HCL string literal that Terraform reads back verbatim (no interpolation)."""
    text = json.dumps(str(value), ensure_ascii=False)
    return text.replace("${", "$${").replace("%{", "%%{")


def hcl_identifier(name: object) -> str:
    """`name` when it is an HCL identifier; spec.py refuses any other name first, so this only guards the
    template against a caller that skipped validation (a refusal here is a bug, never HCL)."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not an HCL identifier: {name!r}")
    return name


def hcl_comment(text: object) -> str:
    """Text for a `#` comment: escaped like a JSON string, so a newline cannot end the comment."""
    return json.dumps(str(text), ensure_ascii=False)[1:-1]


def _aligned(pairs: Iterable[tuple[str, str]], indent: int) -> list[str]:
    """`key = value` lines with the `=` aligned, as `terraform fmt` writes them."""
    items = list(pairs)
    width = max((len(k) for k, _ in items), default=0)
    return [f"{' ' * indent}{k.ljust(width)} = {v}" for k, v in items]


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@cache
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("provisioner", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # HCL, not HTML: strings are escaped by the `hcl` filter instead
        keep_trailing_newline=True,
    )
    env.filters["hcl"] = hcl_string
    env.filters["identifier"] = hcl_identifier
    env.filters["comment"] = hcl_comment
    env.filters["aligned"] = _aligned
    return env


# Only files that declare variables or outputs need parsing (main.tf files are the big, slow ones).
_INTERFACE_BLOCK = re.compile(rb"^[ \t]*(?:variable|output)[ \t]+\"", re.MULTILINE)
_INTERFACE_CACHE_VERSION = 2


def _file_interface(text: bytes, shown: str) -> dict[str, dict[str, Any]]:
    """{"variables": name -> has default, "types": name -> type text, "outputs": name -> sensitive}."""
    import hcl2

    try:
        parsed = hcl2.loads(text.decode("utf-8"))
    except Exception as exc:  # python-hcl2 raises lark errors of several types
        raise SpecError(shown, "", f"cannot parse module file: {str(exc).splitlines()[0]}") from None
    found: dict[str, dict[str, Any]] = {"variables": {}, "types": {}, "outputs": {}}
    for block in parsed.get("variable", []):
        for raw_name, body in block.items():
            found["variables"][raw_name.strip('"')] = "default" in body
            found["types"][raw_name.strip('"')] = str(body.get("type", "any"))
    for block in parsed.get("output", []):
        for raw_name, body in block.items():
            found["outputs"][raw_name.strip('"')] = bool(body.get("sensitive", False))
    return found


def read_module_interface(module_dir: Path, cache: dict[str, Any] | None = None) -> ModuleInterface:
    """Variables (name -> has default) and outputs (name -> sensitive) of a module.

    `cache` maps a file's sha256 to its parsed interface, so unchanged files are never parsed twice."""
    merged: dict[str, dict[str, Any]] = {"variables": {}, "types": {}, "outputs": {}}
    for tf in sorted(module_dir.glob("*.tf")):
        text = tf.read_bytes()
        if not _INTERFACE_BLOCK.search(text):
            continue
        key = hashlib.sha256(text).hexdigest()
        hit = cache.get(key) if cache is not None else None
        if hit is None:
            hit = _file_interface(text, str(tf))
            if cache is not None:
                cache[key] = hit
        for part, values in merged.items():
            values.update(hit[part])
    return ModuleInterface(module_dir.name, merged["variables"], merged["outputs"], merged["types"])


def _load_interface_cache(project: Project) -> dict[str, Any]:
    path = project.work_root / ".cache" / "module-interfaces.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != _INTERFACE_CACHE_VERSION:
        return {}
    entries = data.get("files")
    return dict(entries) if isinstance(entries, dict) else {}


def _save_interface_cache(project: Project, cache: dict[str, Any]) -> None:
    path = project.work_root / ".cache" / "module-interfaces.json"
    payload = {"version": _INTERFACE_CACHE_VERSION, "files": dict(sorted(cache.items()))}
    # A read-only checkout still renders; it only parses again next time.
    with contextlib.suppress(OSError):
        write_if_changed(path, (json.dumps(payload, sort_keys=True) + "\n").encode())


@dataclass
class _Plan:
    """What will be rendered, computed fully before anything touches the disk."""

    variables: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (type, description)
    values: dict[str, Any] = field(default_factory=dict)
    modules: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    lambdas: set[str] = field(default_factory=set)


_GLOBAL_TYPES = {
    "name_prefix": ("string", "Prefix for every resource name."),
    "environment": ("string", "Environment (workspace) name."),
    "region": ("string", "AWS region."),
    "tags": ("map(string)", "Tags applied to every resource."),
    "vpc_cidr": ("string", "VPC CIDR block."),
    "private_subnet_cidrs": ("list(string)", "Private subnet CIDR blocks."),
    "public_subnet_cidrs": ("list(string)", "Public subnet CIDR blocks."),
}


def _plan_root(project: Project, spec: EnvironmentSpec, cache: dict[str, Any] | None) -> _Plan:
    components = spec.enabled_components
    root = _Root(
        where=spec.file_of,
        work_dir=project.work_dir(spec.name, spec.instance),
        modules_dir=project.modules_dir,
        globals_=spec.globals(),
        interfaces={
            name: read_module_interface(project.modules_dir / (comp.module or name), cache)
            for name, comp in components.items()
        },
    )
    plan = root.plan
    if "aws" in spec.terraform.providers:
        for name in ("region", "tags"):
            plan.variables[name] = _GLOBAL_TYPES[name]
            plan.values[name] = root.globals_[name]
        plan.variables["allowed_account_ids"] = ("list(string)", "Accounts this root may ever touch.")
        plan.values["allowed_account_ids"] = list(spec.account_ids)
    for name, comp in components.items():
        plan.modules.append({"name": name, "arguments": root.module_arguments(name, comp)})
        for output, sensitive in sorted(root.interfaces[name].outputs.items()):
            out_args = [
                ("description", hcl_string(f"{name}: {output}")),
                ("value", f"module.{name}.{output}"),
            ]
            if sensitive:
                out_args.append(("sensitive", "true"))
            plan.outputs.append({"name": f"{name}_{output}", "arguments": out_args})
    if plan.lambdas:
        plan.variables["lambda_packages"] = (
            "map(object({ filename = string, source_code_hash = string, handler = string }))",
            "Lambda zips built by provision (deterministic).",
        )
    return plan


@dataclass
class _Root:
    """One root module being planned: where it is written, the modules it calls, and the plan being filled in
    (the arguments every per-module step would otherwise take one by one)."""

    where: Callable[[str], str]  # key path -> the spec file that holds it
    work_dir: Path
    modules_dir: Path
    globals_: dict[str, Any]
    interfaces: dict[str, ModuleInterface]
    plan: _Plan = field(default_factory=_Plan)

    def module_arguments(self, name: str, comp: Component) -> list[tuple[str, str]]:
        """The `module "<name>"` block's arguments: globals, the component's inputs, then its wiring."""
        iface = self.interfaces[name]
        source = Path(os.path.relpath(self.modules_dir / iface.name, self.work_dir)).as_posix()
        args: list[tuple[str, str]] = [("source", hcl_string(source))]
        args += self._global_arguments(iface, comp)
        args += self._input_arguments(name, iface, comp)
        args += self._wiring_arguments(name, iface, comp)
        supplied = {var for var, _ in args[1:]}
        missing = sorted(v for v, has_default in iface.variables.items() if not has_default and v not in supplied)
        if missing:
            raise SpecError(
                self.where(f"components.{name}"),
                f"components.{name}",
                f"modules/{iface.name} needs variable {missing[0]!r} (no default): set it in inputs or wiring",
            )
        return args

    def _global_arguments(self, iface: ModuleInterface, comp: Component) -> list[tuple[str, str]]:
        args = []
        for var in GLOBAL_INPUTS:
            if var in iface.variables and var in self.globals_ and var not in comp.inputs and var not in comp.wiring:
                self.plan.variables[var] = _GLOBAL_TYPES[var]
                self.plan.values[var] = self.globals_[var]
                args.append((var, f"var.{var}"))
        return args

    def _input_arguments(self, name: str, iface: ModuleInterface, comp: Component) -> list[tuple[str, str]]:
        if comp.inputs:
            self.plan.variables[name] = ("any", f"Inputs of component {name} from the environment spec.")
            self.plan.values[name] = {k: comp.inputs[k] for k in sorted(comp.inputs)}
        for var in sorted(comp.inputs):
            key = f"components.{name}.inputs.{shown_key(var)}"
            self._check_variable(key, var, iface)
            problem = input_problem(iface.name, var, comp.inputs[var], iface.types.get(var, "any"))
            if problem:
                raise SpecError(self.where(key), key + problem[0], problem[1])
        return [(var, f"var.{name}.{var}") for var in sorted(comp.inputs)]

    def _wiring_arguments(self, name: str, iface: ModuleInterface, comp: Component) -> list[tuple[str, str]]:
        args = []
        for var in sorted(comp.wiring):
            key = f"components.{name}.wiring.{shown_key(var)}"
            self._check_variable(key, var, iface)
            ref = comp.wiring[var]
            exprs = [self._reference(key, r) for r in _as_list(ref)]
            args.append((var, exprs[0] if isinstance(ref, str) else "[" + ", ".join(exprs) + "]"))
        return args

    def _check_variable(self, key: str, var: str, iface: ModuleInterface) -> None:
        if var not in iface.variables:
            raise SpecError(
                self.where(key), key, f"not a variable of modules/{iface.name}{did_you_mean(var, iface.variables)}"
            )

    def _reference(self, key: str, ref: str) -> str:
        source, output = ref.split(".", 1)
        if source == "lambda":
            from provisioner.package import LAMBDA_FUNCTIONS

            if output not in LAMBDA_FUNCTIONS:
                raise SpecError(
                    self.where(key), key, f"unknown Lambda function {output!r}{did_you_mean(output, LAMBDA_FUNCTIONS)}"
                )
            self.plan.lambdas.add(output)
            return f'var.lambda_packages["{output}"]'
        iface = self.interfaces[source]
        if output not in iface.outputs:
            raise SpecError(
                self.where(key),
                key,
                f"modules/{iface.name} has no output {output!r}{did_you_mean(output, iface.outputs)}",
            )
        return f"module.{source}.{output}"


def _as_list(ref: str | list[str]) -> list[str]:
    return [ref] if isinstance(ref, str) else list(ref)


def _backend(project: Project, spec: EnvironmentSpec) -> dict[str, Any]:
    if spec.backend.type == "local":
        return {"type": "local", "settings": [("path", hcl_string("terraform.tfstate"))]}
    settings = [
        ("bucket", hcl_string(spec.backend_bucket())),
        ("key", hcl_string(spec.state_key())),
        ("region", hcl_string(spec.region)),
        ("encrypt", "true"),
    ]  # locking (use_lockfile / dynamodb_table) depends on the terraform version: `terraform init` adds it
    if spec.backend.kms_key_alias:
        settings.append(("kms_key_id", hcl_string(spec.backend.kms_key_alias)))
    if spec.target == "emulator":
        # The emulator's endpoint is an IP address: no virtual-hosted bucket names (endpoints come from env).
        settings.append(("use_path_style", "true"))
    return {"type": "s3", "settings": settings}


def render_text(
    project: Project, spec: EnvironmentSpec, cache: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any], set[str]]:
    """The root module text, the tfvars values and the Lambda functions needed; nothing is written."""
    env_file = project.relative(project.environment_file(spec.name))
    defaults = project.defaults_file
    spec_files = [*([project.relative(defaults)] if defaults.exists() else []), env_file]
    plan = _plan_root(project, spec, cache)
    template = _environment().get_template("main.tf.j2")
    text = template.render(
        spec_files=spec_files,
        workspace=spec.workspace,
        required_version=spec.terraform.required_version,
        providers={k: spec.terraform.providers[k] for k in sorted(spec.terraform.providers)},
        backend=_backend(project, spec),
        variables=[{"name": n, "type": t, "description": d} for n, (t, d) in sorted(plan.variables.items())],
        modules=plan.modules,
        outputs=plan.outputs,
    )
    return text, plan.values, plan.lambdas


def render(project: Project, spec: EnvironmentSpec) -> RenderResult:
    """Render the root module for `spec`; all checks happen before the first byte is written."""
    cache = _load_interface_cache(project)
    known = set(cache)
    text, values, lambdas = render_text(project, spec, cache)
    from provisioner.opensearch.environment import CONTENT_FILE, content_bytes

    content = content_bytes(project, spec)  # what the configurator Lambda applies; checked before any write
    work_dir = project.work_dir(spec.name, spec.instance)
    packages: dict[str, Path] = {}
    if lambdas:
        from provisioner.package import build_lambda_packages

        built = build_lambda_packages(work_dir / BUILD_DIR)
        values["lambda_packages"] = {
            name: {
                "filename": f"{BUILD_DIR}/{built[name].filename.name}",
                "source_code_hash": built[name].source_code_hash,
                "handler": built[name].handler,
            }
            for name in sorted(lambdas)
        }
        packages = {name: built[name].filename for name in sorted(lambdas)}

    main = work_dir / MAIN_FILE
    tfvars = work_dir / TFVARS_FILE
    write_if_changed(main, text.encode())
    write_if_changed(tfvars, (json.dumps(values, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode())
    generated = []
    if content is not None:
        generated.append(work_dir / CONTENT_FILE)
        write_if_changed(generated[0], content)
    files = (main, tfvars, *packages.values(), *generated)
    digest = config_hash(project, work_dir)
    manifest = {
        "workspace": spec.workspace,
        "config_hash": digest,
        "components": sorted(spec.enabled_components),
        "files": sorted(project.relative(f) for f in files),
    }
    write_if_changed(work_dir / MANIFEST_FILE, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    if set(cache) != known:
        _save_interface_cache(project, cache)
    return RenderResult(work_dir, files, digest, tuple(sorted(spec.enabled_components)), packages)


def _hash_inputs(project: Project, work_dir: Path) -> Iterator[Path]:
    for name in (MAIN_FILE, TFVARS_FILE):
        yield work_dir / name
    build = work_dir / BUILD_DIR
    if build.is_dir():
        yield from sorted(build.glob("*.zip"))
        yield from sorted(build.glob("*.json"))
    # Every module file counts, child modules (e.g. ../secure_bucket) included: cheap and never misses one.
    for path in sorted(project.modules_dir.rglob("*")):
        if path.is_file() and path.suffix in _MODULE_FILE_SUFFIXES and ".terraform" not in path.parts:
            yield path


def config_hash(project: Project, work_dir: Path) -> str:
    """sha256 over the rendered root, the Lambda zips and every module file: 'what would be applied'."""
    digest = hashlib.sha256()
    for path in _hash_inputs(project, work_dir):
        if path.exists():
            digest.update(project.relative(path).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()

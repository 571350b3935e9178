"""Build provisioner/schema/aws-5.100.0.json: the compact hashicorp/aws schema (same format as
scripts/build_aws_schema.py writes) from the real provider's `terraform providers schema -json`.

The provider is taken from a plugin dir / filesystem mirror (default: the first standard location that holds
it, e.g. /opt/tf-plugins): a temporary root module pinning that exact version is initialised with
`terraform init -plugin-dir`, then `terraform providers schema -json` prints the authoritative schema.

Mapping: an attribute that is required or optional is settable ("a"), required ones also in "q", computed and
neither required nor optional is computed-only ("c"); a nested block type is a block ("b"), required ("q")
when its min_items >= 1. Identical block bodies are stored once.

Usage: .venv/bin/python scripts/build_aws_schema_tf.py [--version 5.100.0] [--plugin-dir DIR] [--schema-json F]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_aws_schema import dedupe

PROVIDER_SOURCE = "registry.terraform.io/hashicorp/aws"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VERSION = "5.100.0"


def provider_schema_json(version: str, plugin_dir: Path, terraform: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="aws-schema-tf-") as tmp:
        (Path(tmp) / "main.tf").write_text(
            'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", version = "'
            + version
            + '" }\n  }\n}\n'
        )
        env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "TF_IN_AUTOMATION": "1"}
        run = [terraform, f"-chdir={tmp}"]
        subprocess.run([*run, "init", "-input=false", f"-plugin-dir={plugin_dir}"], check=True, env=env,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        return subprocess.run([*run, "providers", "schema", "-json"], check=True, env=env, capture_output=True).stdout


class Builder:
    def __init__(self) -> None:
        self.blocks: list[dict[str, Any]] = []

    def block(self, schema: dict[str, Any]) -> int:
        index = len(self.blocks)
        self.blocks.append({})
        settable, required, computed = [], [], []
        for name, attr in (schema.get("attributes") or {}).items():
            if attr.get("required") or attr.get("optional"):
                settable.append(name)
                if attr.get("required"):
                    required.append(name)
            elif attr.get("computed"):
                computed.append(name)
        nested: dict[str, int] = {}
        for name, block_type in (schema.get("block_types") or {}).items():
            nested[name] = self.block(block_type.get("block") or {})
            if int(block_type.get("min_items") or 0) >= 1:
                required.append(name)
        body: dict[str, Any] = {}
        for key, values in (("a", settable), ("q", required), ("c", computed)):
            if values:
                body[key] = sorted(values)
        if nested:
            body["b"] = dict(sorted(nested.items()))
        self.blocks[index] = body
        return index


def build(raw: bytes, version: str) -> dict[str, Any]:
    doc = json.loads(raw)
    provider = doc["provider_schemas"][PROVIDER_SOURCE]
    builder = Builder()
    resources = {t: builder.block(s["block"]) for t, s in sorted(provider["resource_schemas"].items())}
    data = {t: builder.block(s["block"]) for t, s in sorted(provider["data_source_schemas"].items())}
    blocks = dedupe(builder.blocks, [resources, data])
    return {
        "format": 1,
        "provider": {"source": PROVIDER_SOURCE, "version": version},
        "assembly": {"command": "terraform providers schema -json", "sha256": hashlib.sha256(raw).hexdigest()},
        "blocks": blocks,
        "resources": resources,
        "data": data,
    }


def main(argv: list[str] | None = None) -> int:
    from provisioner.emulator.target import find_aws_mirror

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=DEFAULT_VERSION)
    parser.add_argument("--plugin-dir", type=Path, default=None)
    parser.add_argument("--schema-json", type=Path, help="use this `providers schema -json` output")
    parser.add_argument("--terraform", default=os.environ.get("PROVISION_TERRAFORM", "terraform"))
    args = parser.parse_args(argv)
    out = ROOT / "provisioner" / "schema" / f"aws-{args.version}.json"
    if args.schema_json:
        raw = args.schema_json.read_bytes()
    else:
        plugin_dir = args.plugin_dir or find_aws_mirror()
        if plugin_dir is None:
            raise SystemExit("no hashicorp/aws provider found: pass --plugin-dir DIR")
        raw = provider_schema_json(args.version, plugin_dir, args.terraform)
    schema = build(raw, args.version)
    text = json.dumps(schema, separators=(",", ":"))
    out.write_text(text + "\n", encoding="utf-8")
    print(f"{out}: hashicorp/aws {args.version}, {len(schema['resources'])} resources, "
          f"{len(schema['data'])} data sources, {len(schema['blocks'])} block bodies, {len(text):,} bytes")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Bundle the request-body schemas of the OpenSearch APIs the configurator calls into one JSON file.

Source: a checkout of opensearch-project/opensearch-api-specification (Apache-2.0). Every `$ref` reachable from
the chosen operations' request bodies is copied under `$defs` (names `<file stem>:<schema>`), so the test needs
neither the checkout nor a network. Usage:

    python scripts/bundle_opensearch_api_spec.py SPEC_CHECKOUT COMMIT > tests/data/opensearch-api-spec/bodies.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

# (method, path as in the spec, namespace file) of every request the configurator sends with a body,
# plus the search request body (the monitors' queries are search bodies).
OPERATIONS = [
    ("put", "/_plugins/_security/api/roles/{role}", "security"),
    ("put", "/_plugins/_security/api/rolesmapping/{role}", "security"),
    ("put", "/_index_template/{name}", "indices"),
    ("put", "/_plugins/_ism/policies/{policy_id}", "ism"),
    ("post", "/_plugins/_notifications/configs", "notifications"),
    ("put", "/_plugins/_notifications/configs/{config_id}", "notifications"),
    ("post", "/_search", "_core"),
]


class Bundler:
    def __init__(self, spec: Path) -> None:
        self.spec = spec
        self.files: dict[Path, Any] = {}
        self.defs: dict[str, Any] = {}

    def load(self, path: Path) -> Any:
        path = path.resolve()
        if path not in self.files:
            self.files[path] = yaml.safe_load(path.read_text(encoding="utf-8"))
        return self.files[path]

    def pointer(self, path: Path, fragment: str) -> Any:
        node = self.load(path)
        for part in fragment.lstrip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def ref(self, base: Path, ref: str) -> tuple[Path, str]:
        file_part, _, fragment = ref.partition("#")
        return ((base.parent / file_part).resolve() if file_part else base.resolve()), fragment

    def inline(self, base: Path, node: Any) -> Any:
        """Copy node, turning every $ref into a local `#/$defs/...` one (and bundling its target)."""
        if isinstance(node, list):
            return [self.inline(base, n) for n in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                target, fragment = self.ref(base, value)
                name = f"{target.stem}:{fragment.rsplit('/', 1)[-1]}"
                if name not in self.defs:
                    self.defs[name] = {}
                    self.defs[name] = self.inline(target, self.pointer(target, fragment))
                out[key] = f"#/$defs/{name}"
            else:
                out[key] = self.inline(base, value)
        return out

    def body_schema(self, method: str, path: str, namespace: str) -> Any:
        ns_file = self.spec / "namespaces" / f"{namespace}.yaml"
        operation = self.load(ns_file)["paths"][path][method]
        body = operation["requestBody"]
        if "$ref" in body:
            target, fragment = self.ref(ns_file, body["$ref"])
            body = self.pointer(target, fragment)
        return self.inline(ns_file, body["content"]["application/json"]["schema"])


def main(argv: list[str]) -> int:
    checkout, commit = Path(argv[1]), argv[2]
    bundler = Bundler(checkout / "spec")
    operations = {f"{m.upper()} {p}": bundler.body_schema(m, p, ns) for m, p, ns in OPERATIONS}
    source = {
        "repository": "opensearch-project/opensearch-api-specification",
        "commit": commit,
        "license": "Apache-2.0",
    }
    out = {"source": source, "operations": operations, "$defs": dict(sorted(bundler.defs.items()))}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

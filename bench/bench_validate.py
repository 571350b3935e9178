"""Offline validation cost: loading the committed aws schema, and checking every .tf file under modules/."""

from __future__ import annotations

import time
from pathlib import Path

from provisioner.provider_schema import SCHEMA_FILE, load_provider_schema
from provisioner.validate import validate_files

REPO = Path(__file__).resolve().parent.parent
MODULES = REPO / "modules"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def run() -> dict[str, str]:
    load_provider_schema.cache_clear()
    start = time.perf_counter()
    schema = load_provider_schema()
    load_s = time.perf_counter() - start

    found = MODULES.rglob("*.tf") if MODULES.is_dir() else iter(())
    files = sorted(p for p in found if not any(part.startswith(".") for part in p.relative_to(REPO).parts))
    start = time.perf_counter()
    diagnostics = validate_files(files, schema=schema, relative_to=REPO)
    validate_s = time.perf_counter() - start
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in files)

    return {
        "schema size": f"{SCHEMA_FILE.stat().st_size / 1e6:.2f} MB (hashicorp/aws {schema.version})",
        "schema load (cold)": _ms(load_s),
        "modules/ files": f"{len(files)} files, {lines} lines",
        "validate modules/": _ms(validate_s),
        "per file": _ms(validate_s / len(files)) if files else "n/a",
        "diagnostics": str(len(diagnostics)),
    }


if __name__ == "__main__":
    for metric, value in run().items():
        print(f"{metric}: {value}")

"""Deterministic Lambda zips built from `provisioner/functions/` (referenced by the Terraform modules)."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

LAMBDA_FUNCTIONS: dict[str, str] = {
    "findings_importer": "provisioner.functions.findings.handler.lambda_handler",
    "cloudtrail_normalizer": "provisioner.functions.logs.handlers.cloudtrail_handler",
    "waf_normalizer": "provisioner.functions.logs.handlers.waf_firehose_handler",
    "guardduty_normalizer": "provisioner.functions.logs.handlers.guardduty_handler",
    "opensearch_configurator": "provisioner.functions.opensearch_config.handler.lambda_handler",
    "guardduty_response": "provisioner.functions.response.handler.lambda_handler",
    "fleet_aggregator": "provisioner.functions.fleet.handler.lambda_handler",
}

_PACKAGE_ROOT = Path(__file__).resolve().parent
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold: no build clock leaks in
_FILE_MODE = 0o644 << 16


@dataclass(frozen=True)
class LambdaPackage:
    name: str
    filename: Path
    source_code_hash: str  # base64(sha256(zip)), as Terraform's filebase64sha256()
    handler: str


def _sources() -> list[tuple[str, Path]]:
    files = [("provisioner/__init__.py", _PACKAGE_ROOT / "__init__.py")]
    for path in sorted((_PACKAGE_ROOT / "functions").rglob("*.py")):
        if "__pycache__" not in path.parts:
            files.append((path.relative_to(_PACKAGE_ROOT.parent).as_posix(), path))
    return sorted(files)


def build_zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for arcname, path in _sources():
            info = zipfile.ZipInfo(arcname, date_time=_FIXED_TIME)
            info.external_attr = _FILE_MODE
            info.create_system = 3  # unix, so the mode bits above are honoured
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def build_lambda_packages(dest_dir: Path) -> dict[str, LambdaPackage]:
    """Write `<dest_dir>/<name>.zip` for every function; identical zips are left untouched."""
    payload = build_zip_bytes()
    digest = base64.b64encode(hashlib.sha256(payload).digest()).decode()
    dest_dir.mkdir(parents=True, exist_ok=True)
    packages = {}
    for name, handler in LAMBDA_FUNCTIONS.items():
        target = dest_dir / f"{name}.zip"
        if not (target.is_file() and target.stat().st_size == len(payload) and target.read_bytes() == payload):
            tmp = target.with_suffix(".zip.tmp")
            tmp.write_bytes(payload)
            tmp.replace(target)
        packages[name] = LambdaPackage(name, target, digest, handler)
    return packages

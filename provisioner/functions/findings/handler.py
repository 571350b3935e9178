"""Lambda: a report lands in the report bucket (or is named in a direct invocation) -> Security Hub.

S3 keys are `<tool>/<repository>/<branch>/<build_id>/<file>.json` (repository may hold `/`, branch may not);
object metadata `commit` is optional. Direct payload: {"bucket","key","tool","repository","branch","commit",
"build_id"}. Account and region come from the invoked function's ARN.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote_plus

from provisioner.functions.common import log_level
from provisioner.functions.errors import FunctionInputError
from provisioner.functions.findings import TOOLS, FindingContext, convert_report, import_findings

log = logging.getLogger()
log.setLevel(log_level())

MAX_REPORT_BYTES = 200 * 1024 * 1024


def parse_key(key: str) -> dict[str, str]:
    parts = [unquote_plus(p) for p in key.split("/")]
    if len(parts) < 5 or not all(parts):
        raise FunctionInputError(key, "expected <tool>/<repository>/<branch>/<build_id>/<file>.json")
    return {
        "tool": parts[0],
        "repository": "/".join(parts[1:-3]),
        "branch": parts[-3],
        "build_id": parts[-2],
    }


def _jobs(event: dict[str, Any]) -> list[dict[str, str]]:
    if isinstance(event.get("Records"), list):
        jobs = []
        for record in event["Records"]:
            s3 = record.get("s3") or {}
            key = s3.get("object", {}).get("key", "")
            jobs.append({"bucket": s3.get("bucket", {}).get("name", ""), "key": key, "raw_key": key})
        return jobs
    return [{k: str(v) for k, v in event.items() if v is not None}]


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    import boto3

    arn_parts = str(context.invoked_function_arn).split(":")
    region, account = arn_parts[3], arn_parts[4]
    s3 = boto3.client("s3", region_name=region)
    securityhub = boto3.client("securityhub", region_name=region)
    results = []
    for job in _jobs(event):
        results.append(_process(job, s3, securityhub, account, region))
    return {"results": results}


def _process(job: dict[str, str], s3: Any, securityhub: Any, account: str, region: str) -> dict[str, Any]:
    key = unquote_plus(job.get("raw_key", "")) if "raw_key" in job else job.get("key", "")
    try:
        fields = parse_key(job["raw_key"]) if "raw_key" in job else {}
        fields.update({k: job[k] for k in ("tool", "repository", "branch", "build_id", "commit") if job.get(k)})
        if fields.get("tool") not in TOOLS:
            raise FunctionInputError(key, f"unknown tool {fields.get('tool')!r} (expected one of: {', '.join(TOOLS)})")
        obj = s3.get_object(Bucket=job["bucket"], Key=key)
        if int(obj.get("ContentLength", 0)) > MAX_REPORT_BYTES:
            raise FunctionInputError(key, f"report larger than {MAX_REPORT_BYTES} bytes")
        data = obj["Body"].read()
        commit = fields.get("commit") or obj.get("Metadata", {}).get("commit", "")
        ctx = FindingContext(
            account,
            region,
            repository=fields.get("repository", ""),
            branch=fields.get("branch", ""),
            commit=commit,
            build_id=fields.get("build_id", ""),
        )
        conversion = convert_report(fields["tool"], data, ctx, source=f"s3://{job['bucket']}/{key}")
    except FunctionInputError as exc:
        # A bad report will not get better on retry: report it and let the other objects go on.
        log.error("rejected report: %s", exc)
        return {"key": key, "status": "rejected", "error": str(exc)}
    result = import_findings(securityhub, conversion.tool, conversion.findings, ctx)
    summary = {"key": key, "status": "imported", **conversion.summary(), **result.as_dict()}
    note = conversion.note()
    if note:
        log.info("%s: %s", key, note)
    log.info("imported %s", {k: v for k, v in summary.items() if k not in ("failed_ids", "merged")})
    return summary

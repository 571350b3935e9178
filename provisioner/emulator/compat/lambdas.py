"""Lambda functions run on the emulator without Docker: each invocation executes the function's own deployed
zip in a child process of the emulator's Python (`lambda_bootstrap.py`), with its environment, handler, timeout
and a Lambda-like context, its AWS calls pointed at the emulator.

What differs from AWS: the emulator's Python (not the function's declared runtime) and the packages installed
next to it (boto3 included); no memory limit (the REPORT line's Max Memory Used is the largest peak RSS of the
emulator's children); a cold start on every invocation (no container reuse); the emulator's test credentials
instead of the execution role's (moto does not enforce IAM); asynchronous deliveries (log subscriptions, S3
notifications, SNS, EventBridge targets, `InvocationType=Event`) run one at a time in arrival order, without
retries or destinations.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioner.emulator.compat.registry import fix

# Set by the emulator process (`server.py`): where a function's AWS calls go.
ENDPOINT_ENV = "PROVISION_EMULATOR_ENDPOINT"
LOG_TAIL_BYTES = 4096  # Invoke's LogResult carries the last 4 KB of the log
_BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
_CODE_ROOT = Path(tempfile.gettempdir()) / f"provision-lambda-{os.getuid()}"
_extract_lock = threading.Lock()
# Asynchronous invocations (subscriptions, EventBridge, InvocationType=Event): one queue, in arrival order.
_async_queue = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda-async")
_EVENT_KEYS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")
# Rewrite text a function receives (environment values, the event) on the emulator only, e.g. the https://
# address of a domain's data plane to the plain http it speaks (compat.opensearch_data).
REWRITERS: list[Callable[[str], str]] = []


def _rewrite(text: str) -> str:
    for rewrite in REWRITERS:
        text = rewrite(text)
    return text


@dataclass(frozen=True)
class Invocation:
    payload: bytes
    error: bool
    log: str


def _task_root(code: bytes) -> Path:
    """The function's zip extracted once per content (the runtime's /var/task)."""
    root = _CODE_ROOT / hashlib.sha256(code).hexdigest()
    with _extract_lock:
        if not root.is_dir():
            _CODE_ROOT.mkdir(mode=0o700, parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=_CODE_ROOT))
            with zipfile.ZipFile(io.BytesIO(code)) as archive:
                archive.extractall(staging)
            try:
                staging.rename(root)
            except OSError:  # another emulator process extracted the same code first
                shutil.rmtree(staging, ignore_errors=True)
    return root


def _environment(fn: Any, request_id: str, stream: str) -> dict[str, str]:
    endpoint = os.environ.get(ENDPOINT_ENV, "http://127.0.0.1:5000")
    env = {str(k): _rewrite(str(v)) for k, v in (fn.environment_vars or {}).items()}
    env.update(
        {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "_HANDLER": fn.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
            "AWS_REGION": fn.region,
            "AWS_DEFAULT_REGION": fn.region,
            "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(fn.timeout),
            "AWS_LAMBDA_LOG_GROUP_NAME": fn.logs_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "PROVISION_LAMBDA_FUNCTION_ARN": fn.function_arn,
            "PROVISION_LAMBDA_REQUEST_ID": request_id,
            # the emulator's test credentials stand in for the execution role's
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_ENDPOINT_URL": endpoint,
        }
    )
    return env


def _report(request_id: str, fn: Any, seconds: float) -> str:
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    millis = seconds * 1000
    return (
        f"END RequestId: {request_id}\nREPORT RequestId: {request_id}\tDuration: {millis:.2f} ms\t"
        f"Billed Duration: {int(millis) + 1} ms\tMemory Size: {fn.memory_size} MB\tMax Memory Used: {peak_mb} MB"
    )


def run_function(fn: Any, event: str) -> Invocation:
    """One invocation of a moto `LambdaFunction` from its own zip; never raises for the function's faults."""
    request_id = str(uuid.uuid4())
    stream = time.strftime("%Y/%m/%d/") + f"[{fn.version}]{uuid.uuid4().hex}"
    root = _task_root(fn.code_bytes)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        result_file = Path(handle.name)
    started = time.monotonic()
    command = [sys.executable, "-s", str(_BOOTSTRAP), str(root), fn.handler, str(result_file)]
    env = _environment(fn, request_id, stream)
    try:
        proc = subprocess.run(
            command,
            input=_rewrite(event),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # one log, in the order the function wrote it
            text=True,
            env=env,
            timeout=float(fn.timeout),
            check=False,
        )
        output, failed = proc.stdout, proc.returncode != 0
        payload = result_file.read_bytes() if result_file.stat().st_size else b""
        if not payload:  # the child died before writing a result (e.g. killed, interpreter error)
            message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {proc.returncode}"
            payload, failed = json.dumps({"errorType": "Runtime.ExitError", "errorMessage": message}).encode(), True
    except subprocess.TimeoutExpired as exc:
        captured = exc.stdout or ""
        output = captured.decode(errors="replace") if isinstance(captured, bytes) else captured
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        message = f"{stamp} {request_id} Task timed out after {float(fn.timeout):.2f} seconds"
        output += message + "\n"
        payload, failed = json.dumps({"errorMessage": message}).encode(), True
    finally:
        result_file.unlink(missing_ok=True)
    head = f"START RequestId: {request_id} Version: {fn.version}\n"
    log = head + output + _report(request_id, fn, time.monotonic() - started) + "\n"
    _write_log(fn, stream, log)
    return Invocation(payload, failed, log)


def _write_log(fn: Any, stream: str, log: str) -> None:
    """Into the function's log group, one event per line, as the runtime delivers them."""
    logs = fn.logs_backend
    logs.ensure_log_group(fn.logs_group_name)
    logs.create_log_stream(fn.logs_group_name, stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now, "message": line} for line in log.splitlines() if line]
    logs.put_log_events(fn.logs_group_name, stream, events)


def _in_background(fn: Any, event: str) -> None:
    """An asynchronous invocation: nobody waits for it, so a fault of the runtime itself goes to the emulator log."""
    try:
        run_function(fn, event)
    except Exception:
        logging.getLogger(__name__).exception("asynchronous invocation of %s failed", fn.function_name)


def _invoke(self: Any, body: str, request_headers: Any, response_headers: Any) -> bytes:
    event = body if body else "{}"
    # moto's services (log subscriptions, S3 notifications, SNS) call with an empty header dict: on AWS those
    # deliveries are asynchronous, so the service's caller (PutLogEvents, PutObject, ...) is answered at once.
    by_service = isinstance(request_headers, dict) and not request_headers
    if by_service or request_headers.get("x-amz-invocation-type", "RequestResponse") == "Event":
        _async_queue.submit(_in_background, self, event)
        return b""
    outcome = run_function(self, event)
    if outcome.error:
        response_headers["x-amz-function-error"] = "Unhandled"
    tail = outcome.log.encode()[-LOG_TAIL_BYTES:]
    response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()  # dropped unless LogType=Tail
    return outcome.payload


@fix
def lambda_invoke_needs_docker() -> None:
    """moto runs a function in a Docker container (`LambdaFunction._invoke_lambda`), which cannot start here.
    Run it from its own zip in a child process of the emulator's Python instead; the Invoke API answers with
    the function's result, `FunctionError: Unhandled` on an uncaught error or timeout, and the log's last 4 KB
    as `LogResult`, and the log is written to `/aws/lambda/<name>`. Deliveries by other services (log
    subscriptions, S3 notifications, SNS) and `InvocationType=Event` run asynchronously, as on AWS."""
    from moto.awslambda.models import LambdaFunction

    LambdaFunction.invoke = _invoke  # type: ignore[method-assign]


def _target_input(target: dict[str, Any], original_event: Any, transform_input: bool) -> str:
    """What EventBridge delivers to a target: its input transformation, else the event itself."""
    from moto.events.utils import EventTemplateParser

    transformer = target.get("InputTransformer", {}) if transform_input else {}
    if transformer.get("InputTemplate"):
        event: Any = EventTemplateParser.parse(
            input_template=transformer["InputTemplate"],
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=original_event,
        )
    else:  # the event as EventBridge delivers it, without moto's bookkeeping keys
        event = {k: v for k, v in original_event.items() if k in _EVENT_KEYS}
    return event if isinstance(event, str) else json.dumps(event)


def _deliver(target_arn: str, text: str) -> None:
    from moto.awslambda.utils import get_backend
    from moto.sns.models import sns_backends
    from moto.utilities.arns import parse_arn

    arn = parse_arn(target_arn)
    if arn.service == "lambda":
        _in_background(get_backend(arn.account, arn.region).get_function(target_arn), text)
    else:
        sns_backends[arn.account][arn.region].publish(message=text, arn=target_arn)


@fix
def events_lambda_and_sns_targets_unsupported() -> None:
    """EventBridge rule targets in moto cover log groups, archives, SQS, buses and API destinations; a Lambda or
    SNS target raises NotImplementedError inside `PutEvents`. Deliver the (input-transformed) event to the
    function or topic asynchronously, as EventBridge does."""
    from moto.events.models import Rule
    from moto.utilities.arns import parse_arn

    original = Rule.send_to_targets
    lock = threading.Lock()

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        ours = [t for t in self.targets if parse_arn(t["Arn"]).service in ("lambda", "sns")]
        if ours and self.event_pattern.matches_event(original_event):
            for target in ours:
                _async_queue.submit(_deliver, target["Arn"], _target_input(target, original_event, transform_input))
        with lock:
            kept, self.targets = self.targets, [t for t in self.targets if t not in ours]
            try:
                original(self, original_event, transform_input)
            finally:
                self.targets = kept

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]


@fix
def s3_notification_key_encodes_slashes() -> None:
    """moto's S3 event notifications carry the object key through `quote_plus`, which turns `/` into `%2F`; S3
    URL-encodes keys form-style but leaves `/` as it is (`reports/a b.json` -> `reports/a+b.json`), and the
    findings importer reads the report's tool, repository, branch and build from those path segments."""
    from urllib.parse import quote_plus

    from moto.s3 import notifications

    original = notifications._get_s3_event

    def event(event_name: str, bucket: Any, key: Any, notification_id: str) -> Any:
        body = original(event_name, bucket, key, notification_id)
        for record in body.get("Records", []):
            record["s3"]["object"]["key"] = quote_plus(key.name, safe="/")
        return body

    notifications._get_s3_event = event

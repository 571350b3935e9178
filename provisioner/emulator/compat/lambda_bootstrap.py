"""One Lambda invocation in a child process of the emulator: `python -s lambda_bootstrap.py TASK_ROOT HANDLER
RESULT_FILE`, the event on stdin.

Run by path (never imported by the function), so the function's code comes from its own deployed zip in
TASK_ROOT, first on sys.path. Standard library only. Like the Python runtime: the handler gets the event and a
context object, the root logger writes `[LEVEL]\\t<time>\\t<request id>\\t<message>` lines, an uncaught exception
becomes `{"errorMessage", "errorType", "requestId", "stackTrace"}`; the result goes to RESULT_FILE so that what
the function prints stays log output.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import traceback
from typing import Any


class LambdaContext:
    """The attributes and method of the Python runtime's context object."""

    def __init__(self, deadline: float) -> None:
        env = os.environ
        self.function_name = env["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = env["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = env["PROVISION_LAMBDA_FUNCTION_ARN"]
        self.memory_limit_in_mb = int(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = env["PROVISION_LAMBDA_REQUEST_ID"]
        self.log_group_name = env["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _LambdaFormatter(logging.Formatter):
    def __init__(self, request_id: str) -> None:
        super().__init__()
        self.request_id = request_id

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        millis = int(record.msecs)
        text = f"[{record.levelname}]\t{stamp}.{millis:03d}Z\t{self.request_id}\t{record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def _error(exc: BaseException, request_id: str) -> dict[str, Any]:
    frames = traceback.format_tb(exc.__traceback__)
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": [line.rstrip("\n") for line in frames],
    }


def main(argv: list[str]) -> int:
    task_root, handler, result_file = argv
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    started = time.monotonic()
    context = LambdaContext(started + float(os.environ["AWS_LAMBDA_FUNCTION_TIMEOUT"]))
    stream = logging.StreamHandler(sys.stdout)
    stream.setFormatter(_LambdaFormatter(context.aws_request_id))
    logging.getLogger().addHandler(stream)
    logging.getLogger().setLevel(logging.WARNING)
    code = 0
    try:
        event = json.loads(sys.stdin.read() or "{}")
        module_name, _, function_name = handler.rpartition(".")
        result = getattr(importlib.import_module(module_name), function_name)(event, context)
        payload = json.dumps(result)
    except Exception as exc:  # every failure is the invocation's error, as in the runtime
        error = _error(exc, context.aws_request_id)
        print(f"[ERROR] {error['errorType']}: {error['errorMessage']}", flush=True)
        print("Traceback (most recent call last):\n" + "".join(traceback.format_tb(exc.__traceback__)), flush=True)
        payload, code = json.dumps(error), 1
    sys.stdout.flush()
    with open(result_file, "w", encoding="utf-8") as out:
        out.write(payload)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

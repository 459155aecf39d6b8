"""Runs one Lambda invocation in this process, as the Python runtime would: the local cloud's stand-in for Lambda.

Started by the moto adapter (``moto_adapter``) as ``python -I lambda_runner.py <code dir> <handler>``
with the function's environment. Reads the event (JSON) on standard input, imports the handler
module from the code directory, calls ``handler(event, context)`` and writes the result, as JSON,
to the file descriptor named by ``LOCAL_LAMBDA_RESULT_FD`` (standard output when unset).
Everything the function prints or logs goes to standard error, which the adapter keeps as the
invocation's log. A raised exception gives Lambda's error payload (``errorMessage``,
``errorType``, ``stackTrace``) and exit status 1. Standard library only: it runs before the
function's own imports.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import traceback
import uuid
from typing import Any, Dict


class LambdaContext:
    """The attributes and method of the runtime's context object that handlers use."""

    def __init__(self, function_name: str, timeout_seconds: float, request_id: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = os.environ.get("LOCAL_LAMBDA_FUNCTION_ARN", "")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", f"/aws/lambda/{function_name}")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", request_id)
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _LambdaFormatter(logging.Formatter):
    """The Python runtime's log line: ``[LEVEL]\\t<time>\\t<request id>\\t<message>``."""

    def __init__(self, request_id: str) -> None:
        super().__init__()
        self.request_id = request_id

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line = f"[{record.levelname}]\t{stamp}.{int(record.msecs):03d}Z\t{self.request_id}\t{record.getMessage()}"
        if record.exc_info:
            line += "\n" + "".join(traceback.format_exception(*record.exc_info))
        return line


def main(argv: list[str]) -> int:
    code_dir, handler_spec = argv[1], argv[2]
    result_fd = int(os.environ.get("LOCAL_LAMBDA_RESULT_FD", "1"))
    result = os.fdopen(os.dup(result_fd), "w", encoding="utf-8")
    # The function's own output (print, logging) goes to standard error: the invocation's log.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    request_id = os.environ.get("LOCAL_LAMBDA_REQUEST_ID") or str(uuid.uuid4())
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LambdaFormatter(request_id))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)  # the runtime's default; functions raise it themselves
    sys.path.insert(0, code_dir)
    os.chdir(code_dir)
    context = LambdaContext(
        os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function"),
        float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3")),
        request_id,
    )
    print(f"START RequestId: {request_id} Version: $LATEST", file=sys.stderr)
    status = 0
    try:
        event: Any = json.loads(sys.stdin.read() or "{}")
        module_name, _, function_name = handler_spec.rpartition(".")
        module = importlib.import_module(module_name.replace("/", "."))
        answer: Any = getattr(module, function_name)(event, context)
        payload = json.dumps(answer)
    except Exception as error:  # noqa: BLE001 - the runtime reports any exception as the function's error
        status = 1
        frames = traceback.format_tb(error.__traceback__)
        document: Dict[str, Any] = {
            "errorMessage": str(error),
            "errorType": type(error).__name__,
            "requestId": request_id,
            "stackTrace": frames,
        }
        print(f"[ERROR] {type(error).__name__}: {error}\n{''.join(frames)}", file=sys.stderr)
        payload = json.dumps(document)
    print(f"END RequestId: {request_id}", file=sys.stderr)
    sys.stderr.flush()
    result.write(payload)
    result.close()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Every adapter to moto in one place, for moto >=5.2.5,<5.3: what a CDK stack needs to deploy into a moto server.

moto's CloudFormation creates resources from a template, but as of 5.2.x it assumes a Docker engine
for Lambda and sends custom resources only a Create. Each hook below fixes one gap; ``install()``
checks the moto version (``MOTO_RANGE``; tested with 5.2.5 and 5.2.6) and that every patched function
still has the signature the hook was written against (where moto moved an internal between releases,
the hook finds it by what is there, not by the version), and ``tests/test_moto_adapter.py`` has one
test per hook that fails when moto's
internals change or when moto gains the behaviour itself. The hooks act only while a
``LocalCloud`` is active (``activate``); otherwise moto behaves as shipped.

Hooks (the moto function each replaces or wraps):

1. Lambda runs locally (``awslambda.models.LambdaFunction.invoke``): Python functions run as a
   subprocess (``lambda_runner.py``) from their deployed code (the zip moto keeps, from S3 or
   ``ZipFile``), with the function's environment plus the local cloud's endpoints and dummy
   credentials, and the function's timeout; the log goes to the function's moto log group
   ``/aws/lambda/<name>`` and to ``invocations``. Other runtimes are not run: the invocation fails
   with "not emulated: Node.js Lambda ...", never a silent success.
2. CloudFormation custom resources (``cloudformation.custom_model.CustomModel
   .create_from_cloudformation_json``, ``responses.CloudFormationResponse.process_cfn_response`` up to
   moto 5.2.5, ``CloudFormationResponse.cfnresponse`` from 5.2.6, which handles the answer itself,
   ``parsing.parse_and_create_resource``, ``parsing.ResourceMap.delete``, ``models.Stack
   .create_resources``, ``models.Stack.update``, ``models.CloudFormationBackend.delete_stack``):
   stack operations run in the background as CloudFormation's do (CreateStack answers at once,
   the stack is ``CREATE_IN_PROGRESS``); each custom resource gets its request with a ResponseURL
   of this moto server and the stack waits for the answer; SUCCESS sets the resource's physical id
   (``Ref``, DescribeStackResource, later requests) and its Data (``Fn::GetAtt``); FAILED fails the
   resource and the stack, which rolls back (Delete for what was created, the failed custom
   resource included, as CloudFormation does) to ``ROLLBACK_COMPLETE``. Update (with
   ``OldResourceProperties``) goes to a custom resource whose resolved properties changed, a new
   physical id is a replacement whose old id gets Delete in the cleanup phase; removed resources
   are deleted in cleanup; DeleteStack deletes in reverse dependency order (``Ref``, ``Fn::GetAtt``,
   ``Fn::Sub``, ``DependsOn``), so a custom resource's Delete runs while its function, role and
   policies still exist. Resource statuses (``CREATE_IN_PROGRESS`` ...) and reasons are kept per
   resource and reported by DescribeStackResource(s) (``responses.StackResourceDTO``) and as stack
   events; reading a stack never creates resources (``models.Stack.stack_resources``,
   ``models.CloudFormationBackend.describe_stack_resource``) and outputs show once the stack is
   complete (``models.Stack.outputs``).
3. EventBridge to Lambda and SNS (``events.models.Rule.send_to_targets``): a rule's Lambda targets get
   the matched event (after ``Input``/``InputPath``/``InputTransformer``), invoked asynchronously through
   hook 1; an SNS target (``targets.SnsTopic``) gets it published to its topic, ``time`` as EventBridge
   writes it. moto raises NotImplementedError for both, and so answered PutEvents with a 500 that lost
   the event for every rule (the renewal rule's Lambda too); a target type moto lacks is now logged as
   not emulated and the other targets still get the event.
4. What the example app needs beyond that: CloudFormation models for ``AWS::SNS::TopicPolicy`` and
   ``AWS::S3::BucketPolicy`` (moto 5.2.5 has none, so nothing was created; registered with moto's
   parser), ``AWS::IAM::ManagedPolicy`` deletion (moto leaves it attached, so its role cannot be
   deleted), and bucket-policy conditions (``s3.models.FakeBucket.get_permission``: moto ignores
   conditions, so an enforce-SSL Deny denied every request; ``aws:SecureTransport`` is true here,
   a statement conditioned on anything else is left out).
5. Templates from S3 (``cloudformation.utils.get_stack_from_s3_url`` as the responses module uses
   it): TemplateURLs of the path-style loopback form the CDK CLI sends to a custom endpoint
   (``http://127.0.0.1:<port>/<bucket>/<key>``) are read from moto's S3.
6. SQS retention on the emulated clock (``sqs.models.SQSBackend
   .is_message_valid_based_on_retention_period``): a message outlives its queue's retention by the
   local cloud's clock (``LocalCloud.clock``), not by real time, so ``advance(days=10)`` expires what
   a 4-day queue held. Also the models of ``AWS::SNS::Subscription`` and ``AWS::SQS::QueuePolicy``
   (hook 4), which the holding queue of renewal needs.

One ``LocalCloud`` is active per process (moto's state is per process).
"""

from __future__ import annotations

import base64
import copy
import datetime
import hashlib
import inspect
import io
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Deque, Dict, Iterable, List, Optional, Protocol, Set, Tuple
from urllib.parse import quote, urlsplit

LOG = logging.getLogger(__name__)

#: The moto releases every hook is written against: at least ``MOTO_MINIMUM``, below ``MOTO_BELOW`` (tested
#: with 5.2.5, the pin of requirements-dev.txt, and 5.2.6; ``make test-newest-moto`` runs the newest).
MOTO_MINIMUM = (5, 2, 5)
MOTO_BELOW = (5, 3)
#: The supported range as pip writes it (the ``testing`` extra of pyproject.toml says the same).
MOTO_RANGE = ">=5.2.5,<5.3"
#: The lowest supported release (what requirements-dev.txt pins and the suite is run against).
MOTO_VERSION = "5.2.5"
#: How long a stack waits for a custom resource's answer after its function returned.
ANSWER_GRACE_SECONDS = 2.0
#: CloudFormation rejects custom-resource answers longer than this (bytes).
MAX_ANSWER_BYTES = 4096
RUNNER = Path(__file__).with_name("lambda_runner.py")
#: Statuses in which CloudFormation shows no outputs.
NO_OUTPUT_STATUSES = frozenset(
    {"CREATE_PENDING", "CREATE_IN_PROGRESS", "CREATE_FAILED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE",
     "ROLLBACK_FAILED", "DELETE_IN_PROGRESS", "DELETE_COMPLETE"}
)


class MotoAdapterError(RuntimeError):
    """moto is not the version, or no longer has the internals, the adapter was written against."""


class CloudConfig(Protocol):
    """What the adapter needs of the active local cloud (``LocalCloud``)."""

    endpoint_url: str
    region: str
    account: str

    @property
    def port(self) -> int: ...

    @property
    def env(self) -> Dict[str, str]: ...


_active: Optional[CloudConfig] = None
_installed = False
_install_lock = threading.Lock()
_originals: Dict[str, Any] = {}
_code_root: Optional[str] = None


# --- install, version and signature checks ----------------------------------------------------


def _release(version: str) -> Optional[Tuple[int, ...]]:
    """``5.2.6`` -> (5, 2, 6); None for a pre-release, a dev build or anything else that is not a plain release."""
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        return None
    return tuple(int(part) for part in version.split("."))


def moto_version_supported(version: str) -> bool:
    release = _release(version)
    return release is not None and MOTO_MINIMUM <= release and release[: len(MOTO_BELOW)] < MOTO_BELOW


def installed_moto() -> str:
    import moto

    return str(getattr(moto, "__version__", "unknown"))


def check_moto_version() -> None:
    version = installed_moto()
    if not moto_version_supported(version):
        raise MotoAdapterError(
            f"streaming_labeling.testing supports moto{MOTO_RANGE} (its adapters patch moto's internals); moto "
            f"{version} is installed: pip install 'moto[cloudformation,events,awslambda,logs,s3,sns,sqs,iam,kms,"
            f"ssm,server]{MOTO_RANGE}'"
        )


def _targets() -> Dict[str, Tuple[Any, str, List[str]]]:
    """Each patched attribute: (owner, attribute name, the parameter names the hook expects)."""
    from moto.awslambda.models import LambdaFunction
    from moto.cloudformation import models as cfn_models
    from moto.cloudformation import parsing, responses
    from moto.cloudformation.custom_model import CustomModel
    from moto.events.models import Rule
    from moto.s3.models import FakeBucket
    from moto.sqs.models import Message as SqsMessage
    from moto.sqs.models import SQSBackend

    return {
        "lambda.invoke": (LambdaFunction, "invoke", ["self", "body", "request_headers", "response_headers"]),
        "custom.create": (
            CustomModel, "create_from_cloudformation_json",
            ["resource_name", "cloudformation_json", "account_id", "region_name", "kwargs"],
        ),
        "cfn.process_cfn_response": _cfn_response_target(responses.CloudFormationResponse),
        "cfn.parse_and_create_resource": (
            parsing, "parse_and_create_resource",
            ["logical_id", "resource_json", "resources_map", "account_id", "region_name"],
        ),
        "cfn.resource_class_from_type": (parsing, "resource_class_from_type", ["resource_type"]),
        "cfn.resource_map.delete": (parsing.ResourceMap, "delete", ["self"]),
        "cfn.stack.create_resources": (cfn_models.Stack, "create_resources", ["self"]),
        "cfn.stack.update": (cfn_models.Stack, "update", ["self", "template", "role_arn", "parameters", "tags"]),
        "cfn.stack.outputs": (cfn_models.Stack, "outputs", []),
        "cfn.stack.stack_resources": (cfn_models.Stack, "stack_resources", []),
        "cfn.backend.delete_stack": (cfn_models.CloudFormationBackend, "delete_stack", ["self", "name_or_stack_id"]),
        "cfn.backend.describe_stack_resource": (
            cfn_models.CloudFormationBackend, "describe_stack_resource", ["self", "stack_name", "logical_resource_id"],
        ),
        "cfn.dto.init": (responses.StackResourceDTO, "__init__", ["self", "stack", "resource"]),
        "cfn.get_stack_from_s3_url": (responses, "get_stack_from_s3_url", ["template_url", "account_id", "partition"]),
        "events.rule.send_to_targets": (Rule, "send_to_targets", ["self", "original_event", "transform_input"]),
        "s3.bucket.get_permission": (FakeBucket, "get_permission", ["self", "action", "resource"]),
        "sqs.retention": (SQSBackend, "is_message_valid_based_on_retention_period", ["self", "queue_name", "message"]),
        "sqs.message.mark_sent": (SqsMessage, "mark_sent", ["self", "delay_seconds"]),
    }


def _cfn_response_target(response_class: Any) -> Tuple[Any, str, List[str]]:
    """Where moto handles the POST to a custom resource's ResponseURL: up to 5.2.5 ``cfnresponse`` dispatches it to
    ``CloudFormationResponse.process_cfn_response``; from 5.2.6 the static ``cfnresponse`` handles it itself."""
    if "process_cfn_response" in dir(response_class):
        return response_class, "process_cfn_response", ["self"]
    return response_class, "cfnresponse", ["request", "full_url", "headers"]


def _raw(owner: Any, name: str) -> Any:
    """The attribute as stored (a classmethod or property object, not its bound form)."""
    if isinstance(owner, type):
        for klass in owner.__mro__:
            if name in vars(klass):
                return vars(klass)[name]
        raise AttributeError(name)
    return getattr(owner, name)


def check_signatures() -> None:
    """Every attribute a hook patches exists with the parameters the hook was written for."""
    problems = []
    for key, (owner, name, expected) in _targets().items():
        try:
            raw = _originals[key] if key in _originals else _raw(owner, name)
        except AttributeError:
            problems.append(f"{key}: {getattr(owner, '__name__', owner)}.{name} no longer exists")
            continue
        if isinstance(raw, property):
            if expected:
                problems.append(f"{key}: {name} is a property now")
            continue
        if not expected:
            problems.append(f"{key}: {name} is no longer a property")
            continue
        function = raw.__func__ if isinstance(raw, (classmethod, staticmethod)) else raw
        parameters = list(inspect.signature(function).parameters)
        if isinstance(raw, classmethod):
            parameters = parameters[1:]
        if parameters != expected:
            problems.append(f"{key}: {name}{tuple(parameters)} != expected {tuple(expected)}")
    if problems:
        raise MotoAdapterError("moto's internals changed; the adapter needs updating: " + "; ".join(problems))


def install() -> None:
    """Check the version and the patched internals, then patch (idempotent; inert until ``activate``)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        check_moto_version()
        check_signatures()
        replacements = _replacements()
        _define_models()
        for key, (owner, name, _) in _targets().items():
            _originals[key] = _raw(owner, name)
            setattr(owner, name, replacements[key])
        _reroute(_originals["cfn.process_cfn_response"], replacements["cfn.process_cfn_response"])
        _installed = True


def uninstall() -> None:
    """Put moto back as shipped (the tests use it to look at moto's own behaviour)."""
    global _installed
    with _install_lock:
        if not _installed:
            return
        _reroute(_raw(*_targets()["cfn.process_cfn_response"][:2]), _originals["cfn.process_cfn_response"])
        for key, (owner, name, _) in _targets().items():
            setattr(owner, name, _originals.pop(key))
        _installed = False


def _reroute(before: Any, after: Any) -> None:
    """moto from 5.2.6 routes the ResponseURL to ``cfnresponse`` itself, taken when ``moto.cloudformation.urls`` is
    imported: a route taken before the patch is pointed at the patched function too (moto's server reads the
    routes when it first serves CloudFormation)."""
    urls = sys.modules.get("moto.cloudformation.urls")
    if urls is None or not isinstance(before, staticmethod) or not isinstance(after, staticmethod):
        return
    for pattern, view in list(urls.url_paths.items()):
        if view is before.__func__:
            urls.url_paths[pattern] = after.__func__


def installed() -> bool:
    return _installed


def activate(cloud: CloudConfig) -> None:
    global _active, _code_root
    if _active is not None and _active is not cloud:
        raise MotoAdapterError("another LocalCloud is active in this process; stop it first (moto's state is shared)")
    _active = cloud
    if _code_root is None:
        _code_root = tempfile.mkdtemp(prefix="local-lambda-")


def deactivate(cloud: CloudConfig) -> None:
    global _active
    if _active is cloud:
        _active = None


def active() -> Optional[CloudConfig]:
    return _active


def _original(key: str) -> Any:
    return _originals[key]


# --- hook 1: Lambda functions run locally ------------------------------------------------------


@dataclass
class Invocation:
    """One run of a function: what it got, what it returned, what it logged."""

    function_name: str
    request_id: str
    event: Any
    payload: str
    error: Optional[str]  # the function error ("Unhandled"), None when it returned
    log: str
    seconds: float


#: The most recent invocations, oldest first (for tests and for error messages).
invocations: Deque[Invocation] = deque(maxlen=1000)


def _runtime_family(runtime: str) -> str:
    if runtime.startswith("nodejs"):
        return "Node.js"
    if runtime.startswith("java"):
        return "Java"
    if runtime.startswith("dotnet"):
        return ".NET"
    if runtime.startswith("provided"):
        return "custom-runtime"
    if runtime.startswith("ruby"):
        return "Ruby"
    return runtime or "container-image"


def _code_dir(fn: Any) -> str:
    """The function's deployed zip, extracted once per content."""
    code: bytes = fn.code_bytes or b""
    digest = hashlib.sha256(code).hexdigest()[:16]
    root = _code_root or tempfile.gettempdir()
    target = os.path.join(root, f"{fn.function_name}-{digest}")
    if not os.path.isdir(target):
        staging = tempfile.mkdtemp(dir=root)
        with zipfile.ZipFile(io.BytesIO(code)) as archive:
            archive.extractall(staging)
        try:
            os.rename(staging, target)
        except OSError:  # another invocation extracted it meanwhile
            pass
    return target


def _save_log(fn: Any, stream: str, text: str) -> None:
    try:
        backend = fn.logs_backend
        backend.ensure_log_group(fn.logs_group_name)
        backend.create_log_stream(fn.logs_group_name, stream)
        now = int(time.time() * 1000)
        events = [{"timestamp": now, "message": line} for line in text.splitlines() if line] or [
            {"timestamp": now, "message": "(no output)"}
        ]
        backend.put_log_events(fn.logs_group_name, stream, events)
    except Exception as error:  # noqa: BLE001 - a log that cannot be kept must not fail the invocation
        LOG.warning("could not write the log of %s to moto's CloudWatch Logs: %s", fn.function_name, error)


def function_env(fn: Any, request_id: str, stream: str, code_dir: str) -> Dict[str, str]:
    """The environment of a run: the function's variables, then the runtime's and the local cloud's."""
    cloud = _active
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "TZ": "UTC"}
    env.update({str(key): str(value) for key, value in (fn.environment_vars or {}).items()})
    if cloud is not None:
        env.update(cloud.env)
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": str(fn.function_name),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(fn.timeout),
            "AWS_LAMBDA_LOG_GROUP_NAME": str(fn.logs_group_name),
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
            "LAMBDA_TASK_ROOT": code_dir,
            "_HANDLER": str(fn.handler),
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "PYTHONDONTWRITEBYTECODE": "1",
            "LOCAL_LAMBDA_REQUEST_ID": request_id,
            "LOCAL_LAMBDA_FUNCTION_ARN": str(fn.function_arn),
        }
    )
    return env


def run_function(fn: Any, event: Any, request_id: Optional[str] = None) -> Invocation:
    """Run one invocation of a moto Lambda function as a local process (Python runtimes only)."""
    request_id = request_id or str(uuid.uuid4())
    now = time.gmtime()
    stream = f"{now.tm_year}/{now.tm_mon:02d}/{now.tm_mday:02d}/[$LATEST]{request_id.replace('-', '')}"
    runtime = str(fn.run_time or "")
    started = time.monotonic()
    if not runtime.startswith("python"):
        message = (
            f"not emulated: {_runtime_family(runtime)} Lambda {fn.function_name} (runtime {runtime or 'none'}); "
            "the local cloud runs Python functions only"
        )
        LOG.error("%s", message)
        _save_log(fn, stream, message)
        payload = json.dumps({"errorMessage": message, "errorType": "Runtime.NotEmulated"})
        invocation = Invocation(fn.function_name, request_id, event, payload, "Unhandled", message, 0.0)
        invocations.append(invocation)
        return invocation
    code_dir = _code_dir(fn)
    timeout = float(fn.timeout or 3)
    command = [sys.executable, "-I", str(RUNNER), code_dir, str(fn.handler)]
    try:
        done = subprocess.run(
            command, input=json.dumps(event), capture_output=True, text=True,
            env=function_env(fn, request_id, stream, code_dir), timeout=timeout, cwd=code_dir,
        )
        log = done.stderr
        payload = done.stdout
        error = "Unhandled" if done.returncode != 0 else None
        if error and not payload:
            payload = json.dumps({"errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
                                                  f"exit status {done.returncode}", "errorType": "Runtime.ExitError"})
    except subprocess.TimeoutExpired as expired:
        raw = expired.stderr or b""
        log = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        message = f"{request_id} Task timed out after {timeout:.2f} seconds"
        log += f"\n{message}"
        payload = json.dumps({"errorMessage": message, "errorType": "Sandbox.Timedout"})
        error = "Unhandled"
    seconds = time.monotonic() - started
    _save_log(fn, stream, log)
    invocation = Invocation(fn.function_name, request_id, event, payload, error, log, seconds)
    invocations.append(invocation)
    if error:
        LOG.warning("Lambda %s failed: %s\n%s", fn.function_name, payload[:500], log[-2000:])
    return invocation


def _header(headers: Any, name: str) -> Optional[str]:
    if not headers:
        return None
    for key in (name, name.lower()):
        value = headers.get(key)
        if value:
            return str(value)
    return None


def _invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
    if _active is None:
        return _original("lambda.invoke")(self, body, request_headers, response_headers)
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    event = json.loads(body) if body else {}
    invocation_type = _header(request_headers, "X-Amz-Invocation-Type") or "RequestResponse"
    if invocation_type == "DryRun":
        return b""
    if invocation_type == "Event":
        threading.Thread(target=run_function, args=(self, event), daemon=True, name="lambda-event").start()
        return b""
    invocation = run_function(self, event)
    if invocation.error:
        response_headers["x-amz-function-error"] = invocation.error
    tail = invocation.log.encode("utf-8")[-4096:]
    response_headers["x-amz-log-result"] = base64.b64encode(tail).decode("ascii")
    return invocation.payload.encode("utf-8")


# --- hook 2: CloudFormation ----------------------------------------------------------------------


@dataclass
class ResourceState:
    logical_id: str
    resource_type: str
    status: str
    reason: Optional[str] = None
    physical_id: Optional[str] = None
    timestamp: float = field(default_factory=time.time)


@dataclass
class StackRecord:
    """What the adapter knows of a stack beyond moto: resource statuses, the failed custom resources."""

    stack_id: str
    resources: Dict[str, ResourceState] = field(default_factory=dict)
    failed_custom: Dict[str, Any] = field(default_factory=dict)
    skipped: Dict[str, str] = field(default_factory=dict)  # logical id -> why moto created nothing
    operation: threading.Lock = field(default_factory=threading.Lock)


#: Attribute of moto's CloudFormation backend (one per account and region): the adapter's records of
#: that backend's stacks, by stack id. Kept there, as moto keeps the stacks, so that they go with a reset.
_RECORDS_ATTR = "_streaming_labeling_records"
_records_lock = threading.Lock()


def record_of(stack_id: str) -> StackRecord:
    """The adapter's record of a stack (``arn:<partition>:cloudformation:<region>:<account>:stack/...``)."""
    region, account = stack_id.split(":")[3:5]
    backend = _cfn_backend(account, region)
    with _records_lock:
        records: Dict[str, StackRecord] = backend.__dict__.setdefault(_RECORDS_ATTR, {})
        if stack_id not in records:
            records[stack_id] = StackRecord(stack_id)
        return records[stack_id]


def _cfn_backend(account_id: str, region_name: str) -> Any:
    from moto.cloudformation.models import cloudformation_backends

    return cloudformation_backends[account_id][region_name]


def _set_status(stack: Any, logical_id: str, resource_type: str, status: str, reason: Optional[str] = None,
                physical_id: Optional[str] = None) -> None:
    from moto.cloudformation.models import Event

    record = record_of(stack.stack_id)
    state = record.resources.get(logical_id)
    if state is None:
        state = record.resources[logical_id] = ResourceState(logical_id, resource_type, status)
    state.status, state.reason, state.timestamp = status, reason, time.time()
    state.resource_type = resource_type
    if physical_id is not None:
        state.physical_id = physical_id
    stack.events.append(
        Event(
            stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical_id,
            physical_resource_id=state.physical_id or "", resource_type=resource_type, resource_status=status,
            resource_status_reason=reason, resource_properties=None,
        )
    )


def _stack_event(stack: Any, status: str, reason: Optional[str] = None) -> None:
    stack.status = status
    stack._add_stack_event(status, resource_status_reason=reason)


def describe_error(error: BaseException) -> str:
    """One line for a moto or adapter exception, as a ResourceStatusReason."""
    message = getattr(error, "message", None) or getattr(error, "description", None)
    if isinstance(error, ValueError) and len(error.args) == 2:
        message = f"{error.args[0]}: {error.args[1]}"
    text = str(message or error) or type(error).__name__
    return text if isinstance(error, (CustomResourceFailed, ResourceFailed)) else f"{type(error).__name__}: {text}"


class CustomResourceFailed(Exception):
    """A custom resource answered FAILED (or never answered)."""

    def __init__(self, reason: str, resource: Any) -> None:
        super().__init__(reason)
        self.resource = resource


class ResourceFailed(Exception):
    """A resource of the stack failed; its status and reason are recorded already."""

    def __init__(self, logical_id: str, reason: str) -> None:
        super().__init__(reason)
        self.logical_id = logical_id


def _stringify(value: Any) -> Any:
    """CloudFormation hands custom resources every scalar as a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return {key: _stringify(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_stringify(item) for item in value]
    return value


@dataclass
class Answer:
    status: str
    reason: str
    physical_id: Optional[str]
    data: Dict[str, Any]


class _Pending:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.answer: Optional[Answer] = None


_pending: Dict[str, _Pending] = {}


def _response_url(region: str, stack_id: str, request_id: str) -> str:
    cloud = _active
    base = cloud.endpoint_url if cloud is not None else "http://127.0.0.1:5000"
    return f"{base}/cloudformation_{region}/cfnresponse?stack={quote(stack_id, safe='')}&request={request_id}"


def send_request(account_id: str, region: str, request: Dict[str, Any]) -> Answer:
    """Invoke the custom resource's function with ``request`` and wait for its answer on the ResponseURL."""
    from moto.awslambda.utils import get_backend

    request_id = str(request["RequestId"])
    token = str(request.get("ServiceToken", ""))
    fallback = request.get("PhysicalResourceId")
    if ":sns:" in token:
        return Answer("FAILED", f"not emulated: SNS-backed custom resource (ServiceToken {token})", fallback, {})
    try:
        fn = get_backend(account_id, region).get_function(token)
    except Exception as error:  # noqa: BLE001 - moto raises several kinds for an unknown function
        return Answer("FAILED", f"ServiceToken {token} is no Lambda function of this stack's account and region: "
                                f"{describe_error(error)}", fallback, {})
    pending = _pending[request_id] = _Pending()
    try:
        invocation = run_function(fn, request, request_id=request_id)
        if pending.done.wait(ANSWER_GRACE_SECONDS) and pending.answer is not None:
            return pending.answer
        if invocation.error:
            try:
                detail = str(json.loads(invocation.payload).get("errorMessage"))
            except (ValueError, AttributeError):
                detail = invocation.payload[:300]
            why = f"the function failed without answering: {detail}"
        else:
            why = "the function returned without answering"
        return Answer(
            "FAILED",
            f"{detail if invocation.error and detail.startswith('not emulated') else why} "
            f"(log: {fn.logs_group_name}; CloudFormation would wait for the resource's timeout, the local cloud "
            "fails at once)",
            fallback,
            {},
        )
    finally:
        _pending.pop(request_id, None)


def _process_cfn_response(self: Any) -> Any:
    """moto up to 5.2.5: the answer as ``CloudFormationResponse`` dispatched it."""
    if _active is None:
        return _original("cfn.process_cfn_response")(self)
    return _take_answer(self.body)


def _cfnresponse(request: Any, full_url: str, headers: Any) -> Any:
    """moto from 5.2.6: the answer as the ResponseURL's route hands it over."""
    if _active is None:
        return _original("cfn.process_cfn_response").__func__(request, full_url, headers)
    return _take_answer(request.get_data())


def _take_answer(body: Any) -> Tuple[int, Dict[str, Any], str]:
    """A custom resource's answer on its ResponseURL: wake the stack operation waiting for it."""
    raw = body if isinstance(body, bytes) else str(body or "").encode("utf-8")
    try:
        document = json.loads(raw or b"{}")
    except ValueError:
        return 400, {"status": 400}, "not JSON"
    pending = _pending.get(str(document.get("RequestId")))
    if pending is None:  # a late or duplicate answer: CloudFormation ignores it
        return 200, {"status": 200}, ""
    status = document.get("Status")
    physical = document.get("PhysicalResourceId")
    data = document.get("Data") or {}
    if len(raw) > MAX_ANSWER_BYTES:
        answer = Answer("FAILED", "Response object is too long.", physical, {})
    elif status not in ("SUCCESS", "FAILED"):
        answer = Answer("FAILED", f"Invalid response status {status!r}", physical, {})
    elif not isinstance(physical, str) or not physical:
        answer = Answer("FAILED", "Invalid PhysicalResourceId", None, {})
    elif not isinstance(data, dict):
        answer = Answer("FAILED", "Invalid Data: not an object", physical, {})
    else:
        reason = str(document.get("Reason") or "")
        answer = Answer(str(status), reason, physical, {str(k): v for k, v in data.items()})
    pending.answer = answer
    pending.done.set()
    return 200, {"status": 200}, ""


def _custom_model_class() -> Any:
    from moto.cloudformation.custom_model import CustomModel

    class LocalCustomResource(CustomModel):
        """A custom resource whose physical id, properties and data come from its function's answers."""

        def __init__(self, region_name: str, request_id: str, logical_id: str, resource_name: str,
                     stack_id: str, resource_type: str, properties: Dict[str, Any]) -> None:
            super().__init__(region_name, request_id, logical_id, resource_name)
            self.stack_id = stack_id
            self.resource_type = resource_type
            self.properties = properties
            self.physical_id: Optional[str] = None

        @property
        def physical_resource_id(self) -> str:
            return self.physical_id or str(self.resource_name)

        def get_cfn_attribute(self, attribute_name: str) -> Any:
            if attribute_name in self.data:
                return self.data[attribute_name]
            raise CustomResourceFailed(
                f"CustomResource attribute error: Vendor response doesn't contain {attribute_name} attribute in "
                f"object {self.stack_id}|{self.logical_id}|{self.request_id}", self,
            )

    return LocalCustomResource


_local_custom: Any = None


def local_custom_class() -> Any:
    global _local_custom
    if _local_custom is None:
        _local_custom = _custom_model_class()
    return _local_custom


def _request(kind: str, resource: Any, properties: Dict[str, Any], region: str, **extra: Any) -> Dict[str, Any]:
    request_id = str(uuid.uuid4())
    request: Dict[str, Any] = {
        "RequestType": kind,
        "ServiceToken": properties.get("ServiceToken", ""),
        "ResponseURL": _response_url(region, resource.stack_id, request_id),
        "StackId": resource.stack_id,
        "RequestId": request_id,
        "LogicalResourceId": resource.logical_id,
        "ResourceType": resource.resource_type,
        "ResourceProperties": properties,
    }
    request.update(extra)
    return request


def _custom_create(cls: Any, /, resource_name: str, cloudformation_json: Dict[str, Any], account_id: str,
                   region_name: str, **kwargs: Any) -> Any:
    if _active is None:
        return _original("custom.create").__get__(None, cls)(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
    properties = _stringify(copy.deepcopy(cloudformation_json.get("Properties") or {}))
    stack = _cfn_backend(account_id, region_name).get_stack(kwargs["StackId"])
    resource = local_custom_class()(
        region_name, str(uuid.uuid4()), kwargs["LogicalId"], resource_name, stack.stack_id, kwargs["ResourceType"],
        properties,
    )
    stack.add_custom_resource(resource)
    request = _request("Create", resource, properties, region_name)
    resource.request_id = request["RequestId"]
    answer = send_request(account_id, region_name, request)
    resource.physical_id = answer.physical_id
    if answer.status != "SUCCESS":
        raise CustomResourceFailed(answer.reason or "the custom resource answered FAILED without a reason", resource)
    resource.set_data(answer.data)
    return resource


def _custom_delete(resource: Any, account_id: str, region: str) -> None:
    request = _request("Delete", resource, resource.properties, region,
                       PhysicalResourceId=resource.physical_resource_id)
    answer = send_request(account_id, region, request)
    if answer.status != "SUCCESS":
        raise CustomResourceFailed(answer.reason or "the custom resource answered FAILED without a reason", resource)


def _custom_update(resource: Any, new_properties: Dict[str, Any], account_id: str, region: str) -> Any:
    """Update; returns the resource as it is now (a new object when the physical id changed: a replacement)."""
    request = _request(
        "Update", resource, new_properties, region,
        PhysicalResourceId=resource.physical_resource_id, OldResourceProperties=resource.properties,
    )
    answer = send_request(account_id, region, request)
    if answer.status != "SUCCESS":
        raise CustomResourceFailed(answer.reason or "the custom resource answered FAILED without a reason", resource)
    if answer.physical_id != resource.physical_resource_id:
        replacement = local_custom_class()(
            resource.region_name, request["RequestId"], resource.logical_id, resource.resource_name, resource.stack_id,
            resource.resource_type, new_properties,
        )
        replacement.physical_id = answer.physical_id
        replacement.cf_resource_type = resource.cf_resource_type
        replacement.logical_resource_id = resource.logical_resource_id
        replacement.set_data(answer.data)
        return replacement
    resource.properties = new_properties
    resource.set_data(answer.data)
    return resource


def _is_custom(resource: Any) -> bool:
    return _local_custom is not None and isinstance(resource, _local_custom)


def _parse_and_create_resource(logical_id: str, resource_json: Dict[str, Any], resources_map: Any, account_id: str,
                               region_name: str) -> Any:
    """moto's ``parse_and_create_resource`` with each resource's status and failure recorded."""
    if _active is None:
        return _original("cfn.parse_and_create_resource")(
            logical_id, resource_json, resources_map, account_id, region_name
        )
    from moto.cloudformation import parsing

    condition = resource_json.get("Condition")
    if condition and not resources_map.lazy_condition_map[condition]:
        return None
    stack = _cfn_backend(account_id, region_name).get_stack(resources_map.stack_id)
    record = record_of(stack.stack_id)
    resource_type = str(resource_json["Type"])
    try:
        parsed = parsing.parse_resource_and_generate_name(logical_id, resource_json, resources_map)
    except ResourceFailed:
        raise  # a resource this one refers to failed: this one never started
    except Exception as error:  # noqa: BLE001 - any error resolving the properties fails this resource
        reason = describe_error(error)
        _set_status(stack, logical_id, resource_type, "CREATE_FAILED", reason)
        raise ResourceFailed(logical_id, reason) from error
    if not parsed:
        if logical_id not in record.skipped:
            why = (f"not emulated: moto {installed_moto()} has no CloudFormation model for {resource_type}; "
                   "nothing created")
            record.skipped[logical_id] = why
            LOG.warning("%s: %s", logical_id, why)
            _set_status(stack, logical_id, resource_type, "CREATE_COMPLETE", why)
        return None
    resource_class, cleaned, physical_name = parsed
    _set_status(stack, logical_id, resource_type, "CREATE_IN_PROGRESS")
    try:
        resource = resource_class.create_from_cloudformation_json(
            physical_name, cleaned, account_id, region_name,
            LogicalId=logical_id, StackId=resources_map.stack_id, ResourceType=resource_type,
        )
    except ResourceFailed:
        raise
    except CustomResourceFailed as error:
        failed = error.resource
        failed.cf_resource_type = resource_type
        failed.logical_resource_id = logical_id
        record.failed_custom[logical_id] = failed
        _set_status(stack, logical_id, resource_type, "CREATE_FAILED", str(error), failed.physical_id)
        raise ResourceFailed(logical_id, str(error)) from error
    except Exception as error:  # noqa: BLE001 - moto's models raise anything; the resource fails with it
        reason = describe_error(error)
        _set_status(stack, logical_id, resource_type, "CREATE_FAILED", reason)
        raise ResourceFailed(logical_id, reason) from error
    resource.cf_resource_type = resource_type
    resource.logical_resource_id = logical_id
    _set_status(stack, logical_id, resource_type, "CREATE_COMPLETE", None,
                str(getattr(resource, "physical_resource_id", "") or ""))
    return resource


def _resource_class_from_type(resource_type: str) -> Any:
    """``AWS::CloudFormation::CustomResource`` is a custom resource too (moto 5.2.5 knows only ``Custom::*``)."""
    if _active is not None and resource_type == "AWS::CloudFormation::CustomResource":
        from moto.cloudformation.custom_model import CustomModel

        return CustomModel
    return _original("cfn.resource_class_from_type")(resource_type)


# - dependency order -


_SUB_NAME = re.compile(r"\$\{([^!}][^}]*)\}")


def _references(node: Any, names: Set[str]) -> Set[str]:
    found: Set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str) and value in names:
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) and value else str(value).split(".")[0]
                if target in names:
                    found.add(str(target))
                found |= _references(value, names)
            elif key == "Fn::Sub":
                text, variables = (value[0], value[1]) if isinstance(value, list) else (value, {})
                for name in _SUB_NAME.findall(str(text)):
                    base = name.split(".")[0]
                    if base in names and base not in (variables or {}):
                        found.add(base)
                found |= _references(variables, names)
            else:
                found |= _references(value, names)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item, names)
    return found


def dependencies(resources: Dict[str, Any]) -> Dict[str, Set[str]]:
    """Each resource's direct dependencies: DependsOn, Ref, Fn::GetAtt, Fn::Sub (as CloudFormation orders them)."""
    names = set(resources)
    graph: Dict[str, Set[str]] = {}
    for logical_id, body in resources.items():
        depends = body.get("DependsOn", []) if isinstance(body, dict) else []
        depends = [depends] if isinstance(depends, str) else list(depends)
        graph[logical_id] = ({str(d) for d in depends if d in names} | _references(body, names)) - {logical_id}
    return graph


def creation_order(resources: Dict[str, Any]) -> List[str]:
    """Dependencies first; template order among independent resources."""
    graph = dependencies(resources)
    order: List[str] = []
    state: Dict[str, int] = {}

    def visit(node: str) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            return  # a cycle: CloudFormation rejects the template; keep going
        state[node] = 1
        for dependency in sorted(graph.get(node, ()), key=list(resources).index):
            visit(dependency)
        state[node] = 2
        order.append(node)

    for name in resources:
        visit(name)
    return order


def _delete_resources(stack: Any, template_resources: Dict[str, Any], targets: Dict[str, Any], account_id: str,
                      region: str) -> List[str]:
    """Delete ``targets`` (logical id -> moto object) in reverse dependency order; the logical ids that failed."""
    resource_map = stack.resource_map
    order = [name for name in reversed(creation_order(template_resources)) if name in targets]
    order += [name for name in targets if name not in order]
    graph = dependencies(template_resources)
    failed: List[str] = []
    for logical_id in order:
        resource = targets[logical_id]
        body = template_resources.get(logical_id, {})
        resource_type = str(getattr(resource, "cf_resource_type", None) or body.get("Type", ""))
        physical = str(getattr(resource, "physical_resource_id", "") or "")
        if body.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate"):
            resource_map._parsed_resources.pop(logical_id, None)
            _set_status(stack, logical_id, resource_type, "DELETE_SKIPPED", None, physical)
            continue
        blockers = [name for name in failed if logical_id in graph.get(name, set())]
        if blockers:
            failed.append(logical_id)
            _set_status(stack, logical_id, resource_type, "DELETE_FAILED",
                        f"Not deleted: {', '.join(blockers)} that depend(s) on it could not be deleted", physical)
            continue
        _set_status(stack, logical_id, resource_type, "DELETE_IN_PROGRESS", None, physical)
        try:
            if _is_custom(resource):
                _custom_delete(resource, account_id, region)
            elif resource_type in EXTRA_DELETERS:
                EXTRA_DELETERS[resource_type](resource)
            else:
                resource_map._delete_resource(resource, body)
        except Exception as error:  # noqa: BLE001 - recorded as the resource's DELETE_FAILED reason
            failed.append(logical_id)
            _set_status(stack, logical_id, resource_type, "DELETE_FAILED", describe_error(error), physical)
            continue
        resource_map._parsed_resources.pop(logical_id, None)
        stack.custom_resources.pop(logical_id, None)
        _set_status(stack, logical_id, resource_type, "DELETE_COMPLETE", None, physical)
    return failed


def _created_resources(stack: Any) -> Dict[str, Any]:
    parsed = dict(stack.resource_map._parsed_resources)
    names = stack.resource_map._resource_json_map
    return {name: value for name, value in parsed.items() if name in names and hasattr(value, "logical_resource_id")}


def _resource_map_delete(self: Any) -> None:
    """moto's ``ResourceMap.delete`` in reverse dependency order, custom resources included (not moto's set order)."""
    if _active is None:
        _original("cfn.resource_map.delete")(self)
        return None
    stack = _cfn_backend(self._account_id, self._region_name).get_stack(self.stack_id)
    failed = _delete_resources(stack, self._resource_json_map, _created_resources(stack), self._account_id,
                               self._region_name)
    if failed:
        raise ResourceFailed(failed[0], f"The following resource(s) failed to delete: [{', '.join(failed)}].")
    return None


# - stack operations in the background -


def _resolve_outputs(stack: Any) -> None:
    """Evaluate every output now, so a bad reference fails the operation as CloudFormation's does."""
    for key in list(stack.output_map.outputs):
        stack.output_map[key]


def _create_resources(self: Any) -> None:
    if _active is None:
        _original("cfn.stack.create_resources")(self)
        return None
    self.status = "CREATE_IN_PROGRESS"
    record = record_of(self.stack_id)
    record.operation.acquire()
    threading.Thread(target=_run_create, args=(self, record), daemon=True, name=f"create-{self.name}").start()
    return None


def _run_create(stack: Any, record: StackRecord) -> None:
    try:
        try:
            stack.resource_map.create(stack.template_dict)
            _resolve_outputs(stack)
            stack.description = stack.template_dict.get("Description")
        except Exception as error:  # noqa: BLE001 - any failure fails the stack and rolls it back
            failed = [s.logical_id for s in record.resources.values() if s.status == "CREATE_FAILED"]
            if not failed:
                LOG.exception("stack %s failed outside any resource", stack.name)
            _rollback_create(stack, record, failed, describe_error(error))
            return
        stack.mark_creation_complete()
    finally:
        record.operation.release()


def _template_resources(stack: Any) -> Dict[str, Any]:
    """The resources of the stack's current template (a change set's stack has them only in its resource map)."""
    resources = stack.resource_map._resource_json_map or stack.template_dict.get("Resources", {})
    return dict(resources)


def _rollback_create(stack: Any, record: StackRecord, failed: List[str], reason: str) -> None:
    why = f"The following resource(s) failed to create: [{', '.join(failed)}]. " if failed else f"{reason}. "
    if stack.disable_rollback:
        _stack_event(stack, "CREATE_FAILED", why.strip())
        return
    _stack_event(stack, "ROLLBACK_IN_PROGRESS", why + "Rollback requested by user.")
    targets = _created_resources(stack)
    targets.update(record.failed_custom)  # CloudFormation sends Delete to a custom resource whose Create failed
    record.failed_custom.clear()
    left = _delete_resources(stack, _template_resources(stack), targets, stack.account_id,
                             stack.region_name)
    if left:
        _stack_event(stack, "ROLLBACK_FAILED", f"The following resource(s) failed to delete: [{', '.join(left)}].")
    else:
        _stack_event(stack, "ROLLBACK_COMPLETE")


def _delete_stack(self: Any, name_or_stack_id: str) -> None:
    if _active is None:
        _original("cfn.backend.delete_stack")(self, name_or_stack_id)
        return None
    stack = self.stacks.get(name_or_stack_id)
    if stack is None:
        stack = next((s for s in self.stacks.values() if s.name == name_or_stack_id), None)
    if stack is None or stack.status == "DELETE_IN_PROGRESS":
        return None
    _stack_event(stack, "DELETE_IN_PROGRESS", "User Initiated")
    threading.Thread(target=_run_delete, args=(self, stack), daemon=True, name=f"delete-{stack.name}").start()
    return None


def _run_delete(backend: Any, stack: Any) -> None:
    try:
        _delete_now(backend, stack)
    except Exception as error:  # noqa: BLE001 - the stack must not stay DELETE_IN_PROGRESS
        LOG.exception("deleting stack %s", stack.name)
        _stack_event(stack, "DELETE_FAILED", describe_error(error))


def _delete_now(backend: Any, stack: Any) -> None:
    record = record_of(stack.stack_id)
    with record.operation:  # a running create or update finishes first
        stack.status = "DELETE_IN_PROGRESS"
        targets = _created_resources(stack)
        targets.update(record.failed_custom)
        record.failed_custom.clear()
        failed = _delete_resources(stack, _template_resources(stack), targets, stack.account_id,
                                   stack.region_name)
        if failed:
            _stack_event(stack, "DELETE_FAILED", f"The following resource(s) failed to delete: [{', '.join(failed)}].")
            return
        for export in stack.exports:
            backend.exports.pop(export.name, None)
        backend.stacks.pop(stack.stack_id, None)
        backend.deleted_stacks[stack.stack_id] = stack
        _stack_event(stack, "DELETE_COMPLETE")


def _stack_update(self: Any, template: str, role_arn: Optional[str] = None,
                  parameters: Optional[Dict[str, Any]] = None, tags: Optional[Dict[str, str]] = None) -> None:
    if _active is None:
        _original("cfn.stack.update")(self, template, role_arn, parameters, tags)
        return None
    record = record_of(self.stack_id)
    if not record.operation.acquire(timeout=600):
        raise MotoAdapterError(f"stack {self.name} is busy")
    _stack_event(self, "UPDATE_IN_PROGRESS", "User Initiated")
    threading.Thread(target=_run_update, args=(self, record, template, role_arn, parameters, tags), daemon=True,
                     name=f"update-{self.name}").start()
    return None


def _run_update(stack: Any, record: StackRecord, template: str, role_arn: Optional[str],
                parameters: Optional[Dict[str, Any]], tags: Optional[Dict[str, str]]) -> None:
    try:
        new_template = stack.parse_template(template)
        old_template, old_dict = stack.template, stack.template_dict
        journal = _UpdateJournal()
        try:
            _update_resources(stack, new_template, parameters, journal)
            stack.template, stack.template_dict = template, new_template
            stack.output_map = stack._create_output_map()
            _resolve_outputs(stack)
        except Exception as error:  # noqa: BLE001 - any failure rolls the update back
            stack.template, stack.template_dict = old_template, old_dict
            _rollback_update(stack, record, old_dict, journal, describe_error(error))
            return
        _stack_event(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        _delete_resources(stack, journal.old_resources, journal.cleanup, stack.account_id, stack.region_name)
        stack.role_arn = role_arn
        if parameters:
            stack.parameters = parameters
        if tags is not None:
            stack.tags = tags
        _stack_event(stack, "UPDATE_COMPLETE")
    finally:
        record.operation.release()


@dataclass
class _UpdateJournal:
    old_resources: Dict[str, Any] = field(default_factory=dict)
    added: List[str] = field(default_factory=list)
    updated_custom: List[Tuple[str, Any, Any]] = field(default_factory=list)  # (logical id, before, after)
    removed: Dict[str, Any] = field(default_factory=dict)
    cleanup: Dict[str, Any] = field(default_factory=dict)
    failed: List[str] = field(default_factory=list)


def _update_resources(stack: Any, template: Dict[str, Any], parameters: Optional[Dict[str, Any]],
                      journal: _UpdateJournal) -> None:
    """CloudFormation's update: add and update in dependency order; removals and replaced ids wait for cleanup."""
    from moto.cloudformation import parsing

    resource_map = stack.resource_map
    journal.old_resources = dict(resource_map._resource_json_map)
    diff = resource_map.build_resource_diff(template, parameters)
    parsed = resource_map._parsed_resources
    for logical_id in diff["Remove"]:
        if logical_id in parsed and hasattr(parsed[logical_id], "logical_resource_id"):
            journal.removed[logical_id] = parsed.pop(logical_id)
    journal.cleanup.update(journal.removed)
    resource_map._template = template
    if parameters:
        resource_map.input_parameters = parameters
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    resource_map._resource_json_map = template["Resources"]
    modified = set(diff["Modify"])
    for logical_id in creation_order(template["Resources"]):
        body = template["Resources"][logical_id]
        resource_type = str(body.get("Type", ""))
        if logical_id in diff["Add"]:
            journal.added.append(logical_id)
            resource_map[logical_id]  # created lazily, statuses recorded by the hook
            continue
        current = parsed.get(logical_id)
        if _is_custom(current):
            new_properties = _stringify(parsing.clean_json(copy.deepcopy(body.get("Properties") or {}), resource_map))
            if new_properties == current.properties:
                continue
            _set_status(stack, logical_id, resource_type, "UPDATE_IN_PROGRESS", None, current.physical_resource_id)
            try:
                after = _custom_update(current, new_properties, stack.account_id, stack.region_name)
            except CustomResourceFailed as error:
                journal.failed.append(logical_id)
                _set_status(stack, logical_id, resource_type, "UPDATE_FAILED", str(error))
                raise ResourceFailed(logical_id, str(error)) from error
            journal.updated_custom.append((logical_id, current, after))
            if after is not current:
                parsed[logical_id] = after
                stack.custom_resources[logical_id] = after
                journal.cleanup[f"{logical_id} (replaced {current.physical_resource_id})"] = current
            _set_status(stack, logical_id, resource_type, "UPDATE_COMPLETE", None, after.physical_resource_id)
        elif logical_id in modified and current is not None:
            _set_status(stack, logical_id, resource_type, "UPDATE_IN_PROGRESS")
            try:
                changed = parsing.parse_and_update_resource(
                    logical_id, body, resource_map, stack.account_id, stack.region_name
                )
            except Exception as error:  # noqa: BLE001 - moto's models raise anything
                journal.failed.append(logical_id)
                _set_status(stack, logical_id, resource_type, "UPDATE_FAILED", describe_error(error))
                raise ResourceFailed(logical_id, describe_error(error)) from error
            reason = None
            if changed is None:
                reason = f"not emulated: moto {installed_moto()} cannot update {resource_type}; left as it was"
                LOG.warning("%s: %s", logical_id, reason)
            else:
                parsed[logical_id] = changed
            _set_status(stack, logical_id, resource_type, "UPDATE_COMPLETE", reason,
                        str(getattr(parsed[logical_id], "physical_resource_id", "") or ""))


def _rollback_update(stack: Any, record: StackRecord, old_dict: Dict[str, Any], journal: _UpdateJournal,
                     reason: str) -> None:
    """Back to the old template: rollback Updates to changed custom resources, added resources deleted."""
    failed = journal.failed or [s.logical_id for s in record.resources.values() if s.status == "CREATE_FAILED"]
    _stack_event(stack, "UPDATE_ROLLBACK_IN_PROGRESS",
                 f"The following resource(s) failed to update: [{', '.join(failed)}]." if failed else reason)
    resource_map = stack.resource_map
    parsed = resource_map._parsed_resources
    added = {name: parsed.pop(name) for name in journal.added if name in parsed}
    added.update({name: record.failed_custom.pop(name) for name in list(record.failed_custom) if name in journal.added})
    resource_map._template = old_dict
    resource_map._resource_json_map = old_dict["Resources"]
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    parsed.update(journal.removed)
    problems = []
    for logical_id, before, after in reversed(journal.updated_custom):
        resource_type = str(before.resource_type)
        _set_status(stack, logical_id, resource_type, "UPDATE_IN_PROGRESS", None, after.physical_resource_id)
        try:
            restored = _custom_update(after, before.properties, stack.account_id, stack.region_name)
        except CustomResourceFailed as error:
            problems.append(logical_id)
            _set_status(stack, logical_id, resource_type, "UPDATE_FAILED", str(error))
            continue
        parsed[logical_id] = restored
        stack.custom_resources[logical_id] = restored
        _set_status(stack, logical_id, resource_type, "UPDATE_COMPLETE", None, restored.physical_resource_id)
    for logical_id in journal.failed:
        current = parsed.get(logical_id)
        if _is_custom(current):  # the failed resource gets a rollback Update with its old properties too
            _set_status(stack, logical_id, str(current.resource_type), "UPDATE_IN_PROGRESS")
            try:
                _custom_update(current, current.properties, stack.account_id, stack.region_name)
                _set_status(stack, logical_id, str(current.resource_type), "UPDATE_COMPLETE")
            except CustomResourceFailed as error:
                problems.append(logical_id)
                _set_status(stack, logical_id, str(current.resource_type), "UPDATE_FAILED", str(error))
    stack.status = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
    _stack_event(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    replaced = {f"{name} (replacement {after.physical_resource_id})": after
                for name, before, after in journal.updated_custom if after is not before}
    left = _delete_resources(stack, journal_template(journal, added), {**added, **replaced}, stack.account_id,
                             stack.region_name)
    stack.output_map = stack._create_output_map()
    _stack_event(stack, "UPDATE_ROLLBACK_FAILED" if problems or left else "UPDATE_ROLLBACK_COMPLETE")


def journal_template(journal: _UpdateJournal, added: Dict[str, Any]) -> Dict[str, Any]:
    return dict(journal.old_resources)


# - reading a stack never creates resources; statuses as recorded -


class _Placeholder:
    """A resource that has a status but no moto object (being created, or deleted)."""

    def __init__(self, state: ResourceState) -> None:
        self.logical_resource_id = state.logical_id
        self.physical_resource_id = state.physical_id
        self.cf_resource_type = state.resource_type


def _stack_resources(self: Any) -> Iterable[Any]:
    if _active is None:
        return _original("cfn.stack.stack_resources").fget(self)  # type: ignore[no-any-return]
    return list(_created_resources(self).values())


def _outputs(self: Any) -> Any:
    if _active is not None and self.status in NO_OUTPUT_STATUSES:
        return None
    return _original("cfn.stack.outputs").fget(self)


def _describe_stack_resource(self: Any, stack_name: str, logical_resource_id: str) -> Tuple[Any, Any]:
    if _active is None:
        return _original("cfn.backend.describe_stack_resource")(self, stack_name, logical_resource_id)  # type: ignore[no-any-return]
    from moto.cloudformation.exceptions import ValidationError

    stack = self.get_stack(stack_name)
    resource = _created_resources(stack).get(logical_resource_id)
    if resource is not None:
        return stack, resource
    state = record_of(stack.stack_id).resources.get(logical_resource_id)
    if state is not None:
        return stack, _Placeholder(state)
    raise ValidationError(stack_name, f"Resource {logical_resource_id} does not exist for stack {stack_name}")


def _dto_init(self: Any, stack: Any, resource: Any) -> None:
    _original("cfn.dto.init")(self, stack, resource)
    if _active is None:
        return
    state = record_of(stack.stack_id).resources.get(str(getattr(resource, "logical_resource_id", "")))
    if state is not None:
        self.resource_status = state.status
        self.resource_status_reason = state.reason
        self.last_updated_timestamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(state.timestamp))
        if state.physical_id and not self.physical_resource_id:
            self.physical_resource_id = state.physical_id


# --- hook 5: templates by URL ----------------------------------------------------------------------


def _get_stack_from_s3_url(template_url: str, account_id: str, partition: str) -> str:
    """Also read ``http://<loopback>:<port>/<bucket>/<key>``, the path-style URL the CDK CLI sends locally."""
    parts = urlsplit(template_url)
    host = parts.hostname or ""
    if _active is not None and (host in ("127.0.0.1", "localhost") or host.startswith("s3.localhost")):
        from moto.s3.models import s3_backends

        bucket, _, key = parts.path.lstrip("/").partition("/")
        key_object = s3_backends[account_id][partition].get_object(bucket, key)
        if key_object is None:
            raise ValueError(f"no template at {template_url}")
        return str(key_object.value.decode("utf-8"))
    return _original("cfn.get_stack_from_s3_url")(template_url, account_id=account_id, partition=partition)  # type: ignore[no-any-return]


# --- hook 3: EventBridge rules reach Lambda and SNS targets --------------------------------------------

def _send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
    """Each target of a matching rule on its own, as EventBridge delivers: Lambda (hook 1) and SNS here, the rest
    (SQS, log groups, buses, archives) by moto; a target moto cannot deliver to is logged and left out instead of
    failing PutEvents for every rule (moto answers 500)."""
    if _active is None:
        return _original("events.rule.send_to_targets")(self, original_event, transform_input)  # type: ignore[no-any-return]
    from moto.utilities.arns import parse_arn

    if not self.event_pattern.matches_event(original_event):
        return None
    for target in list(self.targets):
        service = parse_arn(target["Arn"]).service
        if service == "lambda":
            _deliver_to_lambda(self, target, original_event, transform_input)
        elif service == "sns":
            _deliver_to_sns(self, target, original_event, transform_input)
        else:
            one = copy.copy(self)
            one.targets = [target]
            try:  # a copy each: moto rewrites the event's time in place for an SQS target
                _original("events.rule.send_to_targets")(one, copy.deepcopy(original_event), transform_input)
            except NotImplementedError:
                LOG.error("not emulated: rule %s: moto %s cannot deliver to the target %s; event left out", self.name,
                          installed_moto(), target["Arn"])
    return None


def delivered_event(original_event: Any) -> Any:
    """The event as EventBridge delivers it: ``time`` as ``2026-01-02T03:04:05Z`` (moto keeps PutEvents' number),
    without moto's own ``ingestion-time``."""
    event = copy.deepcopy(original_event)
    if not isinstance(event, dict):
        return event
    event.pop("ingestion-time", None)
    stamp = event.get("time")
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        event["time"] = datetime.datetime.fromtimestamp(float(stamp), datetime.UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
    return event


def sns_target_message(target: Dict[str, Any], original_event: Any, transform_input: bool = True) -> str:
    """What EventBridge publishes to an SNS target: the target's input as JSON, a string as it is."""
    payload = lambda_target_event(target, delivered_event(original_event), transform_input)
    return payload if isinstance(payload, str) else json.dumps(payload)


def _deliver_to_sns(rule: Any, target: Dict[str, Any], original_event: Any, transform_input: bool) -> None:
    """Publish the target's input to its topic (and so to the topic's subscriptions), as EventBridge does."""
    from moto.sns.models import sns_backends
    from moto.utilities.arns import parse_arn

    arn = parse_arn(target["Arn"])
    message = sns_target_message(target, original_event, transform_input)
    try:
        backend = sns_backends[arn.account or rule.account_id][arn.region or rule.region_name]
        backend.publish(message=message, arn=target["Arn"])
    except Exception as error:  # noqa: BLE001 - EventBridge drops an event whose target is gone or refuses it
        LOG.warning("rule %s: not delivered to the SNS target %s: %s", rule.name, target["Arn"], describe_error(error))


def lambda_target_event(target: Dict[str, Any], original_event: Any, transform_input: bool = True) -> Any:
    """What EventBridge gives a target: ``Input`` verbatim, ``InputPath``'s part, the transformer's, or the event."""
    from moto.events.utils import EventTemplateParser

    if not transform_input:
        return copy.deepcopy(original_event)
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        value: Any = original_event
        for part in str(target["InputPath"]).lstrip("$").strip(".").split("."):
            if part:
                value = value.get(part) if isinstance(value, dict) else None
        return value
    transformer = target.get("InputTransformer", {})
    if transformer:
        return _transform(transformer, original_event)
    del EventTemplateParser  # moto's parser json.loads the template first, so "<name>" placeholders break it
    return copy.deepcopy(original_event)


def _json_path(event: Any, path: str) -> Any:
    value: Any = event
    for part in str(path).lstrip("$").strip(".").split("."):
        if part:
            value = value.get(part) if isinstance(value, dict) else None
    return value


def _transform(transformer: Dict[str, Any], event: Any) -> Any:
    """EventBridge's input transformer: ``<name>`` in quotes is the value's text, outside quotes its JSON."""
    values = {name: _json_path(event, path) for name, path in (transformer.get("InputPathsMap") or {}).items()}
    values.setdefault("aws.events.event.json", event)
    template = str(transformer.get("InputTemplate", ""))

    out: List[str] = []
    inside, i = False, 0
    while i < len(template):
        char = template[i]
        match = re.match(r"<([A-Za-z0-9_.\-]+)>", template[i:]) if char == "<" else None
        if match and match.group(1) in values:
            value = values[match.group(1)]
            if inside:  # within a string: the value's text
                text = value if isinstance(value, str) else json.dumps(value)
                out.append(json.dumps(text)[1:-1])
            else:
                out.append(json.dumps(value))
            i += len(match.group(0))
            continue
        if char == '"' and (i == 0 or template[i - 1] != "\\"):
            inside = not inside
        out.append(char)
        i += 1
    filled = "".join(out)
    try:
        return json.loads(filled)
    except ValueError:
        return filled


def _deliver_to_lambda(rule: Any, target: Dict[str, Any], original_event: Any, transform_input: bool) -> None:
    from moto.awslambda.utils import get_backend
    from moto.utilities.arns import parse_arn

    arn = parse_arn(target["Arn"])
    event = lambda_target_event(target, original_event, transform_input)
    try:
        fn = get_backend(arn.account or rule.account_id, arn.region or rule.region_name).get_function(target["Arn"])
    except Exception as error:  # noqa: BLE001 - EventBridge drops an event whose target is gone
        LOG.warning("rule %s: target %s not found: %s", rule.name, target["Arn"], error)
        return
    threading.Thread(target=run_function, args=(fn, event), daemon=True, name="events-lambda").start()


# --- hook 4: resource types the example app needs and moto 5.2.5 lacks -------------------------------

#: Resource types the adapter adds models for (moto 5.2.5 creates nothing for them).
ADDED_RESOURCE_TYPES = ("AWS::SNS::TopicPolicy", "AWS::S3::BucketPolicy", "AWS::SNS::Subscription",
                        "AWS::SQS::QueuePolicy")
_added_models: Dict[str, Any] = {}


def _define_models() -> None:
    """CloudFormation models for SNS topic policies and S3 bucket policies (registered with moto's parser)."""
    if _added_models:
        return
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.s3.models import s3_backends
    from moto.sns.models import sns_backends
    from moto.sqs.models import sqs_backends

    class TopicPolicy(CloudFormationModel):
        """``AWS::SNS::TopicPolicy``: the document becomes each topic's ``Policy`` attribute."""

        def __init__(self, name: str, topics: List[str], document: Any, account_id: str, region: str) -> None:
            self.name, self.topics, self.document = name, topics, document
            self.account_id, self.region = account_id, region
            self.apply()

        def apply(self) -> None:
            backend = sns_backends[self.account_id][self.region]
            for topic in self.topics:
                backend.get_topic(topic).policy = json.dumps(self.document)

        @property
        def physical_resource_id(self) -> str:
            return self.name

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SNS::TopicPolicy"

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Dict[str, Any], account_id: str, region_name: str,
            **kwargs: Any,
        ) -> TopicPolicy:
            properties = cloudformation_json["Properties"]
            return cls(resource_name, list(properties["Topics"]), properties["PolicyDocument"], account_id, region_name)

        @classmethod
        def update_from_cloudformation_json(
            cls, original_resource: Any, new_resource_name: str, cloudformation_json: Dict[str, Any],
            account_id: str, region_name: str,
        ) -> TopicPolicy:
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(original_resource.name, cloudformation_json, account_id,
                                                       region_name)

        def delete(self, account_id: str, region_name: str) -> None:
            backend = sns_backends[self.account_id][self.region]
            for arn in self.topics:
                topic = backend.topics.get(arn)
                if topic is not None:  # back to the topic's default policy
                    topic._policy_json = topic._create_default_topic_policy(self.region, self.account_id, topic.name)

    class BucketPolicy(CloudFormationModel):
        """``AWS::S3::BucketPolicy``: PutBucketPolicy on create and update, DeleteBucketPolicy on delete."""

        def __init__(self, bucket: str, document: Any, account_id: str, region: str) -> None:
            self.bucket, self.document, self.account_id, self.region = bucket, document, account_id, region
            backend = s3_backends[account_id][get_partition_of(region)]
            backend.put_bucket_policy(bucket, json.dumps(document).encode("utf-8"))

        @property
        def physical_resource_id(self) -> str:
            return self.bucket

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::S3::BucketPolicy"

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Dict[str, Any], account_id: str, region_name: str,
            **kwargs: Any,
        ) -> BucketPolicy:
            properties = cloudformation_json["Properties"]
            return cls(str(properties["Bucket"]), properties["PolicyDocument"], account_id, region_name)

        @classmethod
        def update_from_cloudformation_json(
            cls, original_resource: Any, new_resource_name: str, cloudformation_json: Dict[str, Any],
            account_id: str, region_name: str,
        ) -> BucketPolicy:
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

        def delete(self, account_id: str, region_name: str) -> None:
            backend = s3_backends[self.account_id][get_partition_of(self.region)]
            try:
                backend.delete_bucket_policy(self.bucket)
            except Exception as error:  # noqa: BLE001 - a bucket deleted already has no policy
                LOG.info("bucket policy of %s: %s", self.bucket, error)

    class Subscription(CloudFormationModel):
        """``AWS::SNS::Subscription``: Subscribe (with its attributes) on create, Unsubscribe on delete."""

        ATTRIBUTES = ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy", "DeliveryPolicy")

        def __init__(self, properties: Dict[str, Any], account_id: str, region: str) -> None:
            self.account_id, self.region = account_id, region
            backend = sns_backends[account_id][region]
            subscription = backend.subscribe(str(properties["TopicArn"]), str(properties["Endpoint"]),
                                             str(properties["Protocol"]))
            for name in self.ATTRIBUTES:
                if name in properties:
                    value = properties[name]
                    text = json.dumps(value) if isinstance(value, (dict, list)) else str(value).lower() \
                        if isinstance(value, bool) else str(value)
                    backend.set_subscription_attributes(subscription.arn, name, text)
            self.arn = str(subscription.arn)

        @property
        def physical_resource_id(self) -> str:
            return self.arn

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SNS::Subscription"

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Dict[str, Any], account_id: str, region_name: str,
            **kwargs: Any,
        ) -> Subscription:
            return cls(cloudformation_json["Properties"], account_id, region_name)

        @classmethod
        def update_from_cloudformation_json(
            cls, original_resource: Any, new_resource_name: str, cloudformation_json: Dict[str, Any],
            account_id: str, region_name: str,
        ) -> Subscription:
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id,
                                                       region_name)

        def delete(self, account_id: str, region_name: str) -> None:
            try:
                sns_backends[self.account_id][self.region].unsubscribe(self.arn)
            except Exception as error:  # noqa: BLE001 - a topic deleted first took its subscriptions
                LOG.info("subscription %s: %s", self.arn, error)

    class QueuePolicy(CloudFormationModel):
        """``AWS::SQS::QueuePolicy``: the document becomes each queue's ``Policy`` attribute."""

        def __init__(self, name: str, queues: List[str], document: Any, account_id: str, region: str) -> None:
            self.name, self.queues, self.account_id, self.region = name, queues, account_id, region
            for url in queues:
                sqs_backends[account_id][region].set_queue_attributes(
                    url.rstrip("/").rsplit("/", 1)[-1], {"Policy": json.dumps(document)})

        @property
        def physical_resource_id(self) -> str:
            return self.name

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SQS::QueuePolicy"

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Dict[str, Any], account_id: str, region_name: str,
            **kwargs: Any,
        ) -> QueuePolicy:
            properties = cloudformation_json["Properties"]
            return cls(resource_name, [str(q) for q in properties["Queues"]], properties["PolicyDocument"],
                       account_id, region_name)

        @classmethod
        def update_from_cloudformation_json(
            cls, original_resource: Any, new_resource_name: str, cloudformation_json: Dict[str, Any],
            account_id: str, region_name: str,
        ) -> QueuePolicy:
            return cls.create_from_cloudformation_json(original_resource.name, cloudformation_json, account_id,
                                                       region_name)

        def delete(self, account_id: str, region_name: str) -> None:
            for url in self.queues:
                try:
                    sqs_backends[self.account_id][self.region].set_queue_attributes(
                        url.rstrip("/").rsplit("/", 1)[-1], {"Policy": ""})
                except Exception as error:  # noqa: BLE001 - a queue deleted first has no policy
                    LOG.info("queue policy of %s: %s", url, error)

    _added_models["AWS::SNS::TopicPolicy"] = TopicPolicy
    _added_models["AWS::S3::BucketPolicy"] = BucketPolicy
    _added_models["AWS::SNS::Subscription"] = Subscription
    _added_models["AWS::SQS::QueuePolicy"] = QueuePolicy
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()


# --- hook 6: SQS retention on the emulated clock -------------------------------------------------------


def emulated_offset() -> float:
    """Seconds the active cloud's clock runs ahead of real time (``LocalCloud.clock``); 0 without one."""
    clock = getattr(_active, "clock", None)
    return float(getattr(clock, "offset", 0.0)) if clock is not None else 0.0


def _mark_sent(self: Any, delay_seconds: Optional[int] = None) -> None:
    """As moto's, and remember how far the emulated clock was ahead when the message was sent.

    ``SentTimestamp`` stays real time (what a Lambda's wall clock compares it with); the message's
    age on the emulated clock is its real age plus how far the clock moved since it was sent."""
    _original("sqs.message.mark_sent")(self, delay_seconds)
    self.emulated_offset_at_send = emulated_offset()


def emulated_age(message: Any) -> float:
    """A message's age on the emulated clock: its real age plus how far the clock moved since it was sent."""
    moved = emulated_offset() - float(getattr(message, "emulated_offset_at_send", 0.0))
    return float(time.time() - message.sent_timestamp / 1000.0 + moved)


def _message_within_retention(self: Any, queue_name: str, message: Any) -> bool:
    """moto drops a message past its queue's MessageRetentionPeriod by real time; here by the emulated clock."""
    if _active is None:
        return bool(_original("sqs.retention")(self, queue_name, message))
    retention = float(self.get_queue_attributes(queue_name, ["MessageRetentionPeriod"])["MessageRetentionPeriod"])
    return bool(emulated_age(message) < retention)


def expire_messages() -> int:
    """Delete every message past its queue's retention on the emulated clock, as SQS does; how many.

    Run when the clock moves (``LocalGroundTruth.advance``): moto itself only notices an expired message
    when a receive reaches it, and then returns nothing more in that call, unlike SQS.
    """
    from moto.sqs.models import sqs_backends

    removed = 0
    for regions in sqs_backends.values():
        for backend in regions.values():
            for queue in list(backend.queues.values()):
                attributes = queue.attributes  # moto sets one field per attribute, MessageRetentionPeriod included
                retention = float(attributes.get("MessageRetentionPeriod", 4 * 86400))
                kept = [message for message in queue._messages if emulated_age(message) < retention]
                removed += len(queue._messages) - len(kept)
                queue._messages = kept
    return removed


def get_partition_of(region: str) -> str:
    from moto.utilities.utils import get_partition

    return str(get_partition(region))


def _delete_managed_policy(resource: Any) -> None:
    """``AWS::IAM::ManagedPolicy``: detach it from its roles, users and groups, then delete it (moto does neither)."""
    backend = resource.backend
    for holders in (backend.roles.values(), backend.users.values(), backend.groups.values()):
        for holder in list(holders):
            if resource.arn in getattr(holder, "managed_policies", {}):
                resource.detach_from(holder)
    backend.managed_policies.pop(resource.arn, None)


#: What the local endpoint's requests are, for bucket-policy conditions: plain HTTP standing in for TLS.
LOCAL_REQUEST_CONTEXT = {"aws:securetransport": "true"}


def _condition_holds(condition: Dict[str, Any]) -> Optional[bool]:
    """A statement's Condition for a local request: True/False, or None when it names anything else."""
    for operator, tests in condition.items():
        if operator not in ("Bool", "BoolIfExists") or not isinstance(tests, dict):
            return None
        for key, expected in tests.items():
            actual = LOCAL_REQUEST_CONTEXT.get(str(key).lower())
            if actual is None:
                return None
            values = expected if isinstance(expected, list) else [expected]
            if actual not in [str(value).lower() for value in values]:
                return False
    return True


def _bucket_permission(self: Any, action: str, resource: str) -> Any:
    """moto's bucket-policy check, with conditions: ``aws:SecureTransport`` is true (the local endpoint stands in
    for HTTPS); a statement with a condition on anything else is left out (moto 5.2.5 ignores conditions, so an
    enforce-SSL Deny would deny every request)."""
    if _active is None or self.policy is None:
        return _original("s3.bucket.get_permission")(self, action, resource)
    from moto.iam.access_control import IAMPolicy

    document = json.loads(self.policy.decode("utf-8"))
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    kept = [s for s in statements if "Condition" not in s or _condition_holds(s["Condition"]) is True]
    kept = [{k: v for k, v in s.items() if k != "Condition"} for s in kept]
    return IAMPolicy(json.dumps(dict(document, Statement=kept))).is_action_permitted(action, resource)


#: Deletions moto's models leave undone, by resource type.
EXTRA_DELETERS: Dict[str, Callable[[Any], None]] = {"AWS::IAM::ManagedPolicy": _delete_managed_policy}


# --- wiring ------------------------------------------------------------------------------------------


def _replacements() -> Dict[str, Any]:
    from moto.cloudformation.responses import CloudFormationResponse

    return {
        "lambda.invoke": _invoke,
        "custom.create": classmethod(_custom_create),
        "cfn.process_cfn_response": (_process_cfn_response if _cfn_response_target(CloudFormationResponse)[1]
                                     == "process_cfn_response" else staticmethod(_cfnresponse)),
        "cfn.parse_and_create_resource": _parse_and_create_resource,
        "cfn.resource_class_from_type": _resource_class_from_type,
        "cfn.resource_map.delete": _resource_map_delete,
        "cfn.stack.create_resources": _create_resources,
        "cfn.stack.update": _stack_update,
        "cfn.stack.outputs": property(_outputs),
        "cfn.stack.stack_resources": property(_stack_resources),
        "cfn.backend.delete_stack": _delete_stack,
        "cfn.backend.describe_stack_resource": _describe_stack_resource,
        "cfn.dto.init": _dto_init,
        "cfn.get_stack_from_s3_url": _get_stack_from_s3_url,
        "events.rule.send_to_targets": _send_to_targets,
        "s3.bucket.get_permission": _bucket_permission,
        "sqs.retention": _message_within_retention,
        "sqs.message.mark_sent": _mark_sent,
    }


def wait_for_invocations(predicate: Callable[[Invocation], bool], timeout: float = 30.0) -> List[Invocation]:
    """The invocations ``predicate`` accepts, waiting up to ``timeout`` for at least one (for tests)."""
    end = time.monotonic() + timeout
    while True:
        found = [inv for inv in list(invocations) if predicate(inv)]
        if found or time.monotonic() > end:
            return found
        time.sleep(0.05)

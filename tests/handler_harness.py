"""Drive the Lambda handler as Lambda and CloudFormation would, against a scripted AWS.

The handler is loaded from its asset folder, as Lambda loads it. Its clients
are real botocore clients made through the handler's own ``make_client``
seam: requests are serialized, signed and checked against the service model
by botocore, and only the HTTP exchange is replaced (``before-send``) by
``World``, a small stateful SageMaker and S3: jobs with statuses that move
as the service's do, plus scripted faults (error answers, hangs that end in
botocore's read timeout, unreachable endpoints). Responses are parsed by
botocore's own protocol parsers. The CloudFormation response goes over real
HTTP to a local server that can be told to fail. Time is a fake clock that
sleeps and hangs advance, so waits of minutes take no time.
"""

from __future__ import annotations

import datetime
import importlib
import json
import sys
import threading
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

from .cfn import STACK_ID
from .conftest import ROOT

HANDLER_DIR = ROOT / "constructs" / "streaming_labeling" / "handler"
HANDLER_FILE = HANDLER_DIR / "index.py"
ROLE_ARN = "arn:aws:iam::111122223333:role/gt-role"
TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:input"
ACCOUNT_ARN = "arn:aws:sagemaker:us-east-1:111122223333"


#: The asset's modules, in the order ``LoadedHandler`` looks a name up in.
HANDLER_MODULES = ("index", "protocol", "lifecycle", "renewal", "jobs", "queues", "names", "retry", "shared")


class LoadedHandler:
    """The asset's modules as Lambda loads them, as one namespace for tests.

    ``h.module.job_name`` is found in the module that defines it, and setting an attribute sets it
    there (``monkeypatch.setattr(h.module, "put_config_object", ...)`` reaches its callers). The
    seams (``clock``, ``sleep``, ``jitter``, ``wall``, ``make_client``) are the ``retry`` module's.
    """

    def __init__(self, modules: Dict[str, ModuleType]) -> None:
        object.__setattr__(self, "modules", modules)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._owner(name), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._owner(name), name, value)

    def _owner(self, name: str) -> ModuleType:
        modules: Dict[str, ModuleType] = object.__getattribute__(self, "modules")
        for module in modules.values():
            value = vars(module).get(name, _MISSING)
            if value is not _MISSING and not isinstance(value, ModuleType):
                return module
        raise AttributeError(f"no module of the handler defines {name!r}")


_MISSING = object()


def load_handler() -> LoadedHandler:
    """A fresh copy of the asset's modules, imported as Lambda imports them (the folder on ``sys.path``).

    Modules of those names imported before are set aside and put back, so every load has its own
    module state (seams, client caches) and nothing of it stays in ``sys.modules``.
    """
    names = sorted(path.stem for path in HANDLER_DIR.glob("*.py"))
    assert set(HANDLER_MODULES) == set(names), names
    saved = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    sys.path.insert(0, str(HANDLER_DIR))
    try:
        importlib.import_module("index")
        modules = {name: sys.modules[name] for name in HANDLER_MODULES}
    finally:
        sys.path.remove(str(HANDLER_DIR))
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(saved)
    for module in modules.values():
        assert Path(str(module.__file__)).parent == HANDLER_DIR, module
    return LoadedHandler(modules)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: List[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.sleeps.append(seconds)
        self.now += seconds


class FakeContext:
    """A Lambda context whose remaining time follows the fake clock."""

    log_stream_name = "2026/11/23/[$LATEST]0123456789abcdef"

    def __init__(self, clock: FakeClock, timeout_seconds: float = 900.0) -> None:
        self._clock = clock
        self.end = clock.now + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.end - self._clock.now) * 1000)


# --- scripted faults -----------------------------------------------------------------------


@dataclass(frozen=True)
class Error:
    """The service answers with this error."""

    code: str
    message: str = "scripted error"
    status: int = 400


@dataclass(frozen=True)
class Hang:
    """No answer until the client's read timeout; ``effect``: the service acted on it anyway."""

    effect: bool = False


@dataclass(frozen=True)
class Unreachable:
    """The endpoint cannot be reached (DNS, connect timeout)."""


@dataclass(frozen=True)
class Garbage:
    """The endpoint answers a body botocore cannot parse (a proxy's HTML page), with this HTTP status."""

    status: int = 200
    body: str = "<html><body><h1>Bad Gateway</h1><p>the proxy <b>timed out</body>"


@dataclass(frozen=True)
class Answer:
    """The service answers this call normally (a placeholder in a script)."""


@dataclass(frozen=True)
class Forever:
    """The fault, on every call from now on."""

    fault: Union[Error, Hang, Unreachable, Garbage]


Fault = Union[Error, Hang, Unreachable, Garbage, Answer, Forever]
ANSWER = Answer()
THROTTLED = Error("ThrottlingException", "Rate exceeded")
ACCESS_DENIED = Error("AccessDeniedException", "User is not authorized to perform: sagemaker:DescribeLabelingJob")
ROLE_NOT_YET_ASSUMABLE = Error(
    "ValidationException",
    f"Could not assume role {ROLE_ARN}. Please ensure that the role exists and allows principal "
    "'sagemaker.amazonaws.com' to assume the role.",
)
INTERNAL = Error("InternalFailure", "We encountered an internal error. Please try again.", 500)


#: Services the handler reaches that the World does not model: they go to a moto server (real SNS, SQS
#: and CloudWatch), unless the row scripts a fault for the operation.
MOTO_SERVICES = ("sqs", "sns", "cloudwatch")


@cache
def moto_endpoint() -> str:
    """One in-process moto server for the harness, started on first use."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


def moto_client(service: str) -> Any:
    """A client of the harness's moto server, for tests to arrange and inspect SNS, SQS and CloudWatch."""
    return _session().client(service, endpoint_url=moto_endpoint())


@cache
def _session() -> boto3.session.Session:
    """One session for every client: making a session costs ~100 ms."""
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")


class RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body
        self._read = False

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, amt: Optional[int] = None) -> bytes:
        """As a streaming body (S3 GetObject) reads it: everything once."""
        if self._read:
            return b""
        self._read = True
        return self._body


class World:
    """SageMaker's labeling jobs and S3's objects as the handler sees them, plus scripted faults.

    A created job is Initializing for ``initializing_looks`` DescribeLabelingJob
    calls, then InProgress (or ``ends_as``); StopLabelingJob moves InProgress to
    Stopping, and the next look finds it Stopped. CloudFormation's
    DescribeStackResource answers ``resource_statuses`` in turn, then the status of
    the event in flight (CREATE_IN_PROGRESS for a Create). With ``policy`` set (see
    ``handler_policy``), every SageMaker and CloudFormation call is authorized
    against it, with the job's tags, as IAM would; otherwise everything is allowed.
    """

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.jobs: Dict[str, Dict[str, Any]] = {}
        self.objects: Dict[str, bytes] = {}
        self.faults: Dict[str, List[Fault]] = defaultdict(list)
        self.calls: List[tuple[str, float, Dict[str, Any]]] = []
        self.initializing_looks = 1
        self.ends_as = "InProgress"
        self.failure_reason = "Workteam not found in this region"
        self.stop_stays_stopping = False
        self.timeouts_seen: List[tuple[float, float]] = []
        #: Every call's start on the clock, with its client's connect and read timeouts.
        self.attempts: List[tuple[float, float, float]] = []
        #: Jobs get a GroundTruth- queue in moto, subscribed to their input topic, as the service does.
        self.subscribe_queues = False
        #: Called with a job's name when it turns InProgress.
        self.on_in_progress: Optional[Callable[[str], None]] = None
        self.resource_statuses: List[str] = []
        self.in_flight = ""
        self.policy: Optional[Tuple[Dict[str, Any], ...]] = None

    # --- scripting -----------------------------------------------------------------------

    def script(self, operation: str, *faults: Fault) -> None:
        self.faults[operation].extend(faults)

    def add_job(self, name: str, status: str, request: Optional[Dict[str, Any]] = None) -> None:
        request = request or {}
        tags = {tag["Key"]: tag["Value"] for tag in request.get("Tags", [])}
        self.jobs[name.lower()] = {"request": request, "status": status, "looks": 0, "name": name, "tags": tags}

    def status(self, name: str) -> Optional[str]:
        job = self.jobs.get(name.lower())
        return None if job is None else str(job["status"])

    def active_jobs(self) -> List[str]:
        return sorted(job["name"] for job in self.jobs.values() if job["status"] in ("Initializing", "InProgress"))

    def requests(self, operation: str) -> List[Dict[str, Any]]:
        return [params for name, _, params in self.calls if name == operation]

    def times(self, operation: str) -> List[float]:
        return [when for name, when, _ in self.calls if name == operation]

    # --- botocore seam -------------------------------------------------------------------

    def make_client(self, service: str, config: Config) -> Any:
        passthrough = service in MOTO_SERVICES
        endpoint = moto_endpoint() if passthrough else None
        made = _session().client(service, config=config, endpoint_url=endpoint)
        timeouts = (float(config.connect_timeout), float(config.read_timeout))
        self.timeouts_seen.append(timeouts)

        def record(params: Dict[str, Any], model: Any, **_: Any) -> None:
            self.calls.append((model.name, self.clock.now, dict(params)))
            self.attempts.append((self.clock.now, *timeouts))

        def answer(request: Any, event_name: str, **_: Any) -> Optional[AWSResponse]:
            operation = event_name.rsplit(".", 1)[-1]
            if passthrough and not self.faults.get(operation):
                return None  # botocore sends it to moto
            return self._answer(service, operation, request, timeouts)

        made.meta.events.register(f"provide-client-params.{service}.*", record)
        made.meta.events.register(f"before-send.{made.meta.service_model.service_id.hyphenize()}.*", answer)
        return made

    def _fault(self, operation: str) -> Optional[Fault]:
        queue = self.faults.get(operation)
        if not queue:
            return None
        head = queue[0]
        if isinstance(head, Forever):
            return head.fault
        return queue.pop(0)

    def _answer(self, service: str, operation: str, request: Any, timeouts: tuple[float, float]) -> AWSResponse:
        fault = self._fault(operation)
        if isinstance(fault, Unreachable):
            self.clock.now += timeouts[0]
            raise EndpointConnectionError(endpoint_url=request.url)
        if isinstance(fault, Hang):
            if fault.effect:
                self._act(service, operation, request)
            self.clock.now += timeouts[0] + timeouts[1]
            raise ReadTimeoutError(endpoint_url=request.url)
        if isinstance(fault, Error):
            return self._error(service, fault)
        if isinstance(fault, Garbage):
            return AWSResponse(request.url, fault.status, {"x-amzn-RequestId": "req"}, RawBody(fault.body.encode()))
        denied = self._authorize(service, operation, request)
        if denied is not None:
            return self._error(service, denied)
        status, body = self._act(service, operation, request)
        if status >= 300 and service == "s3":
            return AWSResponse(request.url, status, {"x-amzn-RequestId": "req"}, RawBody(body["xml"].encode()))
        if status >= 300:
            return self._error(service, Error(body["__type"], body["message"], status))
        if service == "sagemaker":
            raw = json.dumps(body, default=lambda d: d.timestamp()).encode()
        elif "raw" in body:
            raw = body["raw"]
        else:
            raw = body.get("xml", "").encode()
        return AWSResponse(request.url, status, {"x-amzn-RequestId": "req", "ETag": '"e"'}, RawBody(raw))

    def _error(self, service: str, error: Error) -> AWSResponse:
        if service == "sagemaker":
            raw = json.dumps({"__type": error.code, "message": error.message}).encode()
        elif service == "cloudformation":
            raw = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{error.code}</Code>"
                   f"<Message>{error.message}</Message></Error></ErrorResponse>").encode()
        else:
            raw = f"<Error><Code>{error.code}</Code><Message>{error.message}</Message></Error>".encode()
        return AWSResponse("https://aws", error.status, {"x-amzn-RequestId": "req"}, RawBody(raw))

    def _subscribe(self, job: Dict[str, Any]) -> None:
        """What the service does while a job initializes: its queue, subscribed to the input topic (moto)."""
        topic = job["request"]["InputConfig"]["DataSource"]["SnsDataSource"]["SnsTopicArn"]
        sqs = moto_client("sqs")
        url = sqs.create_queue(QueueName=f"GroundTruth-{job['name'].lower()}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        job["subscription"] = moto_client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)[
            "SubscriptionArn"]

    def stop_by_service(self, name: str) -> None:
        """The service stops a job on its own (idle for 10 days): unsubscribed, queue left, Stopped."""
        job = self.jobs[name.lower()]
        if job.get("subscription"):
            moto_client("sns").unsubscribe(SubscriptionArn=job.pop("subscription"))
        job["status"] = "Stopped"

    def _authorize(self, service: str, operation: str, request: Any) -> Optional[Error]:
        """IAM's answer to a SageMaker or CloudFormation call, under ``policy``."""
        if self.policy is None or service not in ("sagemaker", "cloudformation"):
            return None
        from .handler_policy import allows, denial

        checks: List[Tuple[str, str, Dict[str, str]]] = []
        if service == "cloudformation":
            stack = parse_qs(request.body.decode() if isinstance(request.body, bytes) else str(request.body))
            checks.append((f"cloudformation:{operation}", stack.get("StackName", [""])[0], {}))
        else:
            params = json.loads(request.body or b"{}")
            name = str(params.get("LabelingJobName", ""))
            arn = str(params.get("ResourceArn") or f"{ACCOUNT_ARN}:labeling-job/{name.lower()}")
            job = self.jobs.get(arn.rsplit("/", 1)[-1])
            tags: Dict[str, str] = dict(job["tags"]) if job is not None else {}
            checks.append((f"sagemaker:{operation}", arn, tags))
            if operation == "CreateLabelingJob" and params.get("Tags"):
                checks.append(("sagemaker:AddTags", arn, tags))  # the dependent action of a tagged create
        for action, resource, tags in checks:
            if not allows(self.policy, action, resource, tags):
                code = "AccessDenied" if service == "cloudformation" else "AccessDeniedException"
                return Error(code, denial(action, resource), 403 if service == "cloudformation" else 400)
        return None

    def _act(self, service: str, operation: str, request: Any) -> tuple[int, Dict[str, Any]]:
        if service == "cloudformation":
            assert operation == "DescribeStackResource", operation
            default = {"Create": "CREATE_IN_PROGRESS", "Update": "UPDATE_IN_PROGRESS"}.get(self.in_flight, "")
            status = self.resource_statuses.pop(0) if self.resource_statuses else default or "DELETE_IN_PROGRESS"
            xml = ("<DescribeStackResourceResponse><DescribeStackResourceResult><StackResourceDetail>"
                   "<LogicalResourceId>Animals6F4865E6</LogicalResourceId>"
                   "<ResourceType>Custom::SageMakerStreamingLabelingJob</ResourceType>"
                   "<LastUpdatedTimestamp>2026-11-23T00:00:00Z</LastUpdatedTimestamp>"
                   f"<ResourceStatus>{status}</ResourceStatus>"
                   "</StackResourceDetail></DescribeStackResourceResult></DescribeStackResourceResponse>")
            return 200, {"xml": xml}
        if service == "s3" and operation == "GetObject":
            url = urlsplit(request.url)
            bucket = url.hostname.split(".s3", 1)[0] if url.hostname else ""
            stored = self.objects.get(f"{bucket}{unquote(url.path)}")
            if stored is None:
                return 404, {"xml": "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"}
            return 200, {"raw": stored}
        if service == "s3":
            url = urlsplit(request.url)
            bucket = url.hostname.split(".s3", 1)[0] if url.hostname else ""
            # The wire body is aws-chunked with a checksum; the parameters recorded for it hold the bytes.
            self.objects[f"{bucket}{unquote(url.path)}"] = bytes(self.requests("PutObject")[-1]["Body"])
            return 200, {}
        params = json.loads(request.body or b"{}")
        name = params.get("LabelingJobName", "") or str(params.get("ResourceArn", "")).rsplit("/", 1)[-1]
        job = self.jobs.get(name.lower())
        if operation == "CreateLabelingJob":
            if job is not None:
                return 400, {"__type": "ResourceInUse", "message": f"Labeling job {name} already exists"}
            self.add_job(name, "Initializing", params)
            if self.subscribe_queues:  # the service subscribes the job's queue while it initializes
                self._subscribe(self.jobs[name.lower()])
            return 200, {"LabelingJobArn": f"{ACCOUNT_ARN}:labeling-job/{name.lower()}"}
        if job is None:
            return 400, {"__type": "ResourceNotFound", "message": f"Could not find labeling job {name}"}
        if operation == "DescribeLabelingJob":
            job["looks"] += 1
            if job["status"] == "Initializing" and job["looks"] > self.initializing_looks:
                job["status"] = self.ends_as
                if job["status"] == "InProgress" and self.on_in_progress is not None:
                    self.on_in_progress(job["name"])
            elif job["status"] == "Stopping" and not self.stop_stays_stopping:
                job["status"] = "Stopped"
            return 200, describe_response(job["name"], job["status"], request=job["request"],
                                          failure=self.failure_reason if job["status"] == "Failed" else None)
        if operation == "ListTags":
            return 200, {"Tags": [{"Key": key, "Value": value} for key, value in sorted(job["tags"].items())]}
        if operation == "AddTags":
            job["tags"].update({tag["Key"]: tag["Value"] for tag in params["Tags"]})
            return 200, {"Tags": params["Tags"]}
        if operation == "StopLabelingJob":
            if job["status"] != "InProgress":
                return 400, {"__type": "ValidationException", "message": f"Job is {job['status']}, not InProgress"}
            job["status"] = "Stopping"
            if job.get("subscription"):  # while stopping, the service unsubscribes its queue, and leaves it
                moto_client("sns").unsubscribe(SubscriptionArn=job.pop("subscription"))
            return 200, {}
        raise AssertionError(f"unscripted operation {operation}")


class ResponseServer:
    """A local stand-in for CloudFormation's pre-signed response URL; ``answers`` scripts its statuses."""

    def __init__(self) -> None:
        self.bodies: List[bytes] = []
        self.attempts = 0
        self.answers: List[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers["Content-Length"])
                body = self.rfile.read(length)
                outer.attempts += 1
                status = outer.answers.pop(0) if outer.answers else 200
                if status == 200:
                    outer.bodies.append(body)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def reset(self) -> None:
        self.bodies.clear()
        self.answers.clear()
        self.attempts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/response"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def base_properties(**overrides: Any) -> Dict[str, Any]:
    """ResourceProperties as CloudFormation delivers them: every scalar a string."""
    properties: Dict[str, Any] = {
        "ServiceToken": "arn:aws:lambda:us-east-1:111122223333:function:handler",
        "ServiceTimeout": "1200",
        "JobNamePrefix": "animals",
        "ConfigS3Prefix": "s3://output-bucket/labeling-job-config/",
        "ConfigKmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "WaitForStoppedOnDelete": "false",
        "LabelCategoryConfig": json.dumps({"document-version": "2018-11-28", "labels": [{"label": "cat"}]}),
        "UiTemplate": "<crowd-form></crowd-form>",
        "Request": {
            "LabelAttributeName": "animals",
            "InputConfig": {"DataSource": {"SnsDataSource": {"SnsTopicArn": TOPIC_ARN}}},
            "OutputConfig": {
                "S3OutputPath": "s3://output-bucket/labels/",
                "SnsTopicArn": "arn:aws:sns:us-east-1:111122223333:output",
                "KmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            },
            "RoleArn": ROLE_ARN,
            "HumanTaskConfig": {
                "WorkteamArn": "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/team",
                "PreHumanTaskLambdaArn": "arn:aws:lambda:us-east-1:432418664414:function:PRE-ImageMultiClass",
                "TaskTitle": "Which animal?",
                "TaskDescription": "Pick one",
                "NumberOfHumanWorkersPerDataObject": "1",
                "TaskTimeLimitInSeconds": "300",
                "AnnotationConsolidationConfig": {
                    "AnnotationConsolidationLambdaArn": "arn:aws:lambda:us-east-1:432418664414:function:ACS-ImageMultiClass"
                },
            },
        },
    }
    properties.update(overrides)
    return properties


def changed_properties(description: str = "Pick exactly one", **overrides: Any) -> Dict[str, Any]:
    """Properties of another job (the task description differs)."""
    properties = base_properties(**overrides)
    properties["Request"]["HumanTaskConfig"]["TaskDescription"] = description
    return properties


def event(
    request_type: str,
    response_url: str,
    properties: Optional[Dict[str, Any]] = None,
    physical_id: Optional[str] = None,
    old_properties: Optional[Dict[str, Any]] = None,
    stack_id: str = STACK_ID,
    request_id: str = "req-0001",
    logical_id: str = "Animals6F4865E6",
) -> Dict[str, Any]:
    body: Dict[str, Any] = {
        "RequestType": request_type,
        "ResponseURL": response_url,
        "StackId": stack_id,
        "RequestId": request_id,
        "ResourceType": "Custom::SageMakerStreamingLabelingJob",
        "LogicalResourceId": logical_id,
        "ResourceProperties": properties if properties is not None else base_properties(),
    }
    if physical_id is not None:
        body["PhysicalResourceId"] = physical_id
    if old_properties is not None:
        body["OldResourceProperties"] = old_properties
    return body


def describe_response(name: str, status: str, *, request: Optional[Dict[str, Any]] = None,
                      failure: Optional[str] = None) -> Dict[str, Any]:
    """DescribeLabelingJob's answer for a job created with ``request``."""
    request = request or {}
    when = datetime.datetime(2026, 11, 23, tzinfo=datetime.UTC)
    response: Dict[str, Any] = {
        "LabelingJobStatus": status,
        "LabelCounters": {"TotalLabeled": 0, "HumanLabeled": 0, "MachineLabeled": 0,
                          "FailedNonRetryableError": 0, "Unlabeled": 0},
        "CreationTime": when,
        "LastModifiedTime": when,
        "JobReferenceCode": "abc123",
        "LabelingJobName": name,
        "LabelingJobArn": f"{ACCOUNT_ARN}:labeling-job/{name.lower()}",
        "LabelAttributeName": request.get("LabelAttributeName", "animals"),
        "InputConfig": request.get("InputConfig", {"DataSource": {"SnsDataSource": {"SnsTopicArn": TOPIC_ARN}}}),
        "OutputConfig": request.get("OutputConfig", {"S3OutputPath": "s3://output-bucket/labels/"}),
        "RoleArn": request.get("RoleArn", ROLE_ARN),
        **({"LabelCategoryConfigS3Uri": request["LabelCategoryConfigS3Uri"]}
           if "LabelCategoryConfigS3Uri" in request else {}),
        "HumanTaskConfig": request.get("HumanTaskConfig", {
            "WorkteamArn": "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/team",
            "UiConfig": {"UiTemplateS3Uri": "s3://output-bucket/t.html"},
            "TaskTitle": "t",
            "TaskDescription": "d",
            "NumberOfHumanWorkersPerDataObject": 1,
            "TaskTimeLimitInSeconds": 300,
        }),
    }
    if failure:
        response["FailureReason"] = failure
    return response


class Harness:
    """A loaded handler wired to a World, a fake clock and a response server."""

    def __init__(self, server: ResponseServer) -> None:
        self.module = load_handler()
        self.clock = FakeClock()
        self.world = World(self.clock)
        seams = self.module.modules["retry"]  # the one module that holds them
        seams.clock = self.clock
        seams.sleep = self.clock.sleep
        seams.jitter = lambda: 1.0
        seams.make_client = self.world.make_client
        self.server = server
        self.server.reset()
        self.context: Optional[FakeContext] = None

    def context_for(self, timeout_seconds: float) -> FakeContext:
        """A Lambda context with ``timeout_seconds`` left, for events that get no CloudFormation answer."""
        self.context = FakeContext(self.clock, timeout_seconds)
        return self.context

    def run(self, evt: Dict[str, Any], timeout_seconds: float = 900.0, answered: bool = True) -> Dict[str, Any]:
        """Invoke the handler; the one body CloudFormation received, parsed (``raw`` keeps its bytes).

        ``answered=False``: the handler must send nothing; ``{}`` is returned.
        """
        self.server.bodies.clear()
        self.context = FakeContext(self.clock, timeout_seconds)
        self.world.in_flight = str(evt.get("RequestType", ""))
        self.module.handler(evt, self.context)
        if not answered:
            assert self.server.bodies == [], self.server.bodies
            return {}
        assert len(self.server.bodies) == 1, self.server.bodies
        raw = self.server.bodies[0]
        response: Dict[str, Any] = json.loads(raw)
        response["raw"] = raw
        return response


@pytest.fixture(scope="module")
def server() -> Iterator[ResponseServer]:
    """The stand-in for CloudFormation's response URL, one per test module."""
    srv = ResponseServer()
    yield srv
    srv.close()

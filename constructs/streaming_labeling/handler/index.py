"""CloudFormation custom resource for a SageMaker Ground Truth streaming labeling job.

One Lambda serves every job in a stack and answers CloudFormation itself (no
provider framework), so that an error reaches the stack within seconds.
Standard library and boto3 only.

Lifecycle (after the aws-cdk custom-resources checklist):

* Create: find this resource's name (below), write the label-category file and
  worker template to S3, call CreateLabelingJob, poll DescribeLabelingJob until
  the job is InProgress. Failed is reported with the job's FailureReason.
* Names: a job name can never be reused, so each resource has a deterministic
  sequence of names, generation 0, 1, 2, ...: ``<prefix>-<12 hex>``, the hex a
  hash of the stack id, the logical id, the job's properties and (from 1 on)
  the generation. Create and Update walk the sequence: a free name is created,
  an active job of ours (Initializing, InProgress) is adopted, and a finished
  one of ours (Stopping, Stopped, Completed, Failed) moves on to the next name.
  So a retried Create adopts its own job, a rolled-back update adopts the
  still-running old job, and a reverted update, a re-added resource or a
  redeploy after a failed update gets a fresh job instead of a dead name.
* Update: jobs are immutable, so a changed job is a new job under a new
  physical id; CloudFormation then sends Delete for the old one. An update
  that leaves the job's properties alone keeps the job only while it is
  Initializing or InProgress; a finished one moves on to the next name, so a
  deploy never completes on a dead job.
* Delete: stop the resource's jobs (waiting out Initializing, as
  StopLabelingJob must not be called then). A physical id of the resource's
  sequence stops that generation and any earlier one still running, never a
  later one (the job an update moved on to). Any other id (made up by
  CloudFormation for a cancelled create, or a failed create's fallback) stops
  every running job of the sequence. Not-found, Stopping, Stopped, Completed
  and Failed succeed. The service-owned ``GroundTruth-*`` queue is never touched.
* Every job made or kept is tagged ``streaming-labeling:stack`` with the stack
  id; the handler's stack-wide policy may describe and stop jobs with that tag,
  so a job whose per-job statement a rename, a removal or a rollback took away
  can still be stopped.
* Stale events: a Create or Update that arrives when CloudFormation shows the
  resource cancelled, completed or deleted (a duplicate delivery, a Lambda
  retry after CloudFormation moved on) does nothing and answers nothing. A job
  whose resource was cancelled while the Create made it is stopped.
* An event without a usable ResponseURL is logged and ignored: a job made then
  would be known to nobody.

Rules under faults:

* From the moment a job exists (created, adopted, or a create whose outcome is
  unknown), every response carries that job's name, so CloudFormation's
  rollback or cleanup Delete stops it. Nothing else ever names a job.
* The response is decided once; delivery retries that same body, and the body
  is at most 4,096 bytes, encoded.
* One retry policy (``with_retries``): throttling, 5xx and network errors are
  retried with capped exponential backoff until the deadline; the messages
  SageMaker gives while a new role propagates, for a bounded time; nothing
  else. botocore's own retries are off, and every attempt's connect and read
  timeouts fit in the time the Lambda has left before it must answer.
"""

from __future__ import annotations

import calendar
import copy
import datetime
import hashlib
import json
import logging
import random
import re
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, TypeVar
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

T = TypeVar("T")

# --- the retry policy: every number the handler waits by ----------------------------

#: Work stops this long before the Lambda's end, so the answer still goes out.
SAFETY_MARGIN_SECONDS = 20.0
#: Delivery of the answer stops this long before the Lambda's end.
RESPONSE_MARGIN_SECONDS = 1.0
#: Per-attempt timeouts of AWS calls (botocore's default read timeout is 60 s).
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30
#: Per-attempt timeout of the response PUT.
RESPONSE_PUT_TIMEOUT_SECONDS = 10
#: No attempt starts with less time than this left.
MIN_ATTEMPT_SECONDS = 2.0
#: Backoff between attempts: first, factor, cap. Each wait is jittered to 50-100 %.
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_FACTOR = 2.0
BACKOFF_MAX_SECONDS = 20.0
#: How long the messages of a role that is still propagating are retried.
IAM_PROPAGATION_RETRY_SECONDS = 120.0
#: Polling of a job's status: the first look comes at once, then these gaps.
POLL_DELAYS_SECONDS = (3.0, 5.0, 5.0, 10.0, 10.0, 15.0, 20.0, 30.0)
#: StopLabelingJob ValidationExceptions tolerated while the job still says InProgress.
STOP_REJECTIONS_TOLERATED = 3

#: Error codes that say "try again later": throttling and server-side faults.
TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerError",
        "InternalError",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
#: What SageMaker says while a role created moments ago is not yet assumable, as in
#: "Could not assume role arn:aws:iam::123456789012:role/x. Please ensure that the role
#: exists and allows principal 'sagemaker.amazonaws.com' to assume the role."
#: Anything else about a role (a malformed ARN, a constraint) is a plain bad request.
ROLE_PROPAGATION_MESSAGE = re.compile(r"^Could not assume role\b|allows principal 'sagemaker\.amazonaws\.com'")
#: The caller's own permissions, attached by the same deployment, can lag the same way.
CALLER_PROPAGATION_CODES = frozenset({"AccessDeniedException", "AccessDenied"})
NOT_FOUND_HINT = re.compile(r"not found|does not exist|could not find", re.IGNORECASE)

# --- names and the CloudFormation contract ---------------------------------------------

JOB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
HASH_LENGTH = 12
#: Generations tried before giving up on a resource's names.
MAX_GENERATIONS = 50
ACTIVE_STATUSES = ("Initializing", "InProgress")
FINISHED_STATUSES = ("Stopping", "Stopped", "Completed", "Failed")
#: CloudFormation rejects response bodies over 4,096 bytes.
MAX_RESPONSE_BYTES = 4096
#: Tag the handler puts on every job it creates or keeps, valued with the stack id. The handler's
#: stack-wide policy allows DescribeLabelingJob and StopLabelingJob on jobs with this tag, so a job
#: whose per-job statement is gone (a renamed prefix, a removed construct, a rollback) can still be
#: stopped. Not part of the request, so it does not change a job's identity.
STACK_TAG = "streaming-labeling:stack"
#: Tag naming the resource (its physical id) a job is a generation of; renewal finds the resource by it.
RESOURCE_TAG = "streaming-labeling:resource"
#: Tag set before a stop that must not be renewed: ``cloudformation`` (delete, replacement) or ``cli``.
STOPPED_BY_TAG = "streaming-labeling:stopped-by"
#: Tag on a renewed job: when its queue was seen subscribed (epoch seconds), the end of the replay window.
SUBSCRIBED_AT_TAG = "streaming-labeling:subscribed-at"
#: Where, next to its jobs' files, the handler keeps what it needs to renew a resource without a deploy.
RESOURCE_RECORD = "resource.json"
#: Ground Truth stops a streaming job idle this long (nothing published to its topic, nothing queued).
IDLE_STOP_SECONDS = 10 * 24 * 3600
#: Ground Truth's queue of a job: ``GroundTruth-<job name in lowercase>``.
QUEUE_PREFIX = "GroundTruth-"
#: Statuses of the resource in CloudFormation after which this event is stale: a duplicate
#: delivery, or a retry that arrived after CloudFormation cancelled, gave up on or deleted the
#: resource. An unknown status (no permission, a stack not found) is never taken as stale.
DELETED_STATUSES = frozenset({"DELETE_IN_PROGRESS", "DELETE_COMPLETE", "DELETE_FAILED", "DELETE_SKIPPED"})
STALE_STATUSES = {
    # A pending Create is CREATE_IN_PROGRESS; a cancelled one becomes CREATE_FAILED, then deleted.
    "Create": frozenset({"CREATE_COMPLETE", "CREATE_FAILED"}) | DELETED_STATUSES,
    # Updates run in several stack phases (update, rollback), so only a deleted resource is stale.
    "Update": DELETED_STATUSES,
}

# Seams for tests: the clock, sleeping, jitter and how clients are made.
clock: Callable[[], float] = time.monotonic
#: Wall-clock time (epoch seconds), to compare with SQS's SentTimestamp and event times.
wall: Callable[[], float] = time.time
sleep: Callable[[float], None] = time.sleep
jitter: Callable[[], float] = random.random


def make_client(service: str, config: Config) -> Any:
    factory: Any = boto3.client
    return factory(service, config=config)


_clients: Dict[Tuple[str, int, int], Any] = {}


def client(service: str, time_left: float) -> Any:
    """A client whose connect plus read timeout fits in ``time_left`` (whole seconds, cached)."""
    budget = max(2, int(time_left))
    connect = min(CONNECT_TIMEOUT_SECONDS, budget // 2)
    read = min(READ_TIMEOUT_SECONDS, budget - connect)
    key = (service, connect, read)
    if key not in _clients:
        config = Config(connect_timeout=connect, read_timeout=read, retries={"total_max_attempts": 1})
        _clients[key] = make_client(service, config)
    return _clients[key]


class JobError(Exception):
    """A failure to report to CloudFormation as it is: the text a person acts on."""


class Deadline:
    """Time left before the Lambda must stop: its remaining time less a margin."""

    def __init__(self, context: Any, margin: float) -> None:
        self._end = clock() + float(context.get_remaining_time_in_millis()) / 1000.0 - margin

    def remaining(self) -> float:
        return self._end - clock()

    def sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, keeping time for one more attempt; False when there is none to spare."""
        usable = self.remaining() - MIN_ATTEMPT_SECONDS
        if usable <= 0:
            return False
        sleep(min(seconds, usable))
        return True


def describe_error(error: ClientError) -> Tuple[str, str]:
    info = error.response.get("Error", {})
    return str(info.get("Code", "Unknown")), str(info.get("Message", error))


def http_status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def transient(error: Exception) -> bool:
    """Throttling, a server-side fault or the network: the same call may well succeed later."""
    if isinstance(error, ClientError):
        code, _ = describe_error(error)
        return code in TRANSIENT_CODES or http_status(error) >= 500
    if isinstance(error, (BotoConnectionError, HTTPClientError)):
        return True
    if isinstance(error, urllib.error.HTTPError):
        return error.code >= 500 or error.code == 429
    return isinstance(error, (urllib.error.URLError, OSError))


def role_propagation(error: Exception) -> bool:
    """What CreateLabelingJob says while the roles this deployment just made propagate."""
    if not isinstance(error, ClientError):
        return False
    code, message = describe_error(error)
    if code == "ValidationException":
        return ROLE_PROPAGATION_MESSAGE.search(message) is not None
    return code in CALLER_PROPAGATION_CODES


def with_retries(
    deadline: Deadline,
    what: str,
    attempt: Callable[[float], T],
    propagation: Optional[Callable[[Exception], bool]] = None,
) -> T:
    """Run ``attempt(time_left)`` under the one retry policy.

    Transient errors are retried until the deadline, errors ``propagation``
    accepts for ``IAM_PROPAGATION_RETRY_SECONDS``; anything else, and the last
    error when time is up, is raised to the caller.
    """
    delay = BACKOFF_FIRST_SECONDS
    propagating_since: Optional[float] = None
    while True:
        left = deadline.remaining()
        if left < MIN_ATTEMPT_SECONDS:
            raise JobError(f"{what}: no time left for another attempt before the Lambda times out")
        try:
            return attempt(left)
        except Exception as error:  # noqa: BLE001 - classified below, re-raised unless retryable
            wait = min(delay, BACKOFF_MAX_SECONDS) * (0.5 + 0.5 * jitter())
            if transient(error):
                kind = "transient"
            elif propagation is not None and propagation(error):
                kind = "IAM propagation"
                propagating_since = clock() if propagating_since is None else propagating_since
                if clock() + wait - propagating_since > IAM_PROPAGATION_RETRY_SECONDS:
                    raise
            else:
                raise
            if deadline.remaining() - wait < MIN_ATTEMPT_SECONDS:
                raise
            LOG.warning("%s: %s (%s); retrying in %.1fs", what, error, kind, wait)
            deadline.sleep(wait)
            delay *= BACKOFF_FACTOR


def aws(deadline: Deadline, service: str, operation: str, **kwargs: Any) -> Any:
    """One AWS API call under the retry policy, its timeouts fitted to the time left."""
    return with_retries(deadline, operation, lambda left: getattr(client(service, left), operation)(**kwargs))


# --- names -------------------------------------------------------------------------------


def job_identity(properties: Dict[str, Any]) -> Dict[str, Any]:
    """The properties that define the job; a change in any of them is a new job."""
    keys = ("JobNamePrefix", "Request", "LabelCategoryConfig", "UiTemplate", "ConfigS3Prefix")
    return {key: properties.get(key) for key in keys}


def job_name(event: Dict[str, Any], properties: Dict[str, Any], generation: int = 0) -> str:
    """Generation 0 is the name earlier versions gave; later ones hash the generation in too."""
    identity: Dict[str, Any] = {
        "stack": event["StackId"],
        "resource": event["LogicalResourceId"],
        "job": job_identity(properties),
    }
    if generation:
        identity["generation"] = generation
    fingerprint = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:HASH_LENGTH]
    prefix = str(properties["JobNamePrefix"]).lower()
    return f"{prefix}-{digest}"


def is_job_name(value: Optional[str]) -> bool:
    return bool(value) and JOB_NAME_PATTERN.match(str(value)) is not None


# --- request building -----------------------------------------------------------------------


def coerce(value: Any, shape: Any) -> Any:
    """CloudFormation turns every scalar into a string; give the API its types back."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {k: coerce(v, shape.members[k]) if k in shape.members else v for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [coerce(item, shape.member) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {k: coerce(v, shape.value) for k, v in value.items()}
    if kind in ("integer", "long") and isinstance(value, str):
        return int(value)
    if kind in ("float", "double") and isinstance(value, str):
        return float(value)
    if kind == "boolean" and isinstance(value, str):
        return value.lower() == "true"
    return value


def split_s3_uri(uri: str) -> Tuple[str, str]:
    without_scheme = uri[len("s3://") :]
    bucket, _, key = without_scheme.partition("/")
    return bucket, key


def put_config_object(deadline: Deadline, uri: str, body: str, kms_key_id: Optional[str], content_type: str) -> None:
    bucket, key = split_s3_uri(uri)
    args: Dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": body.encode("utf-8"), "ContentType": content_type}
    if kms_key_id:
        args.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=kms_key_id)
    aws(deadline, "s3", "put_object", **args)


def library_tags(event: Dict[str, Any], resource: str) -> Dict[str, str]:
    """The tags the handler sets on every job: its stack and its resource."""
    return {STACK_TAG: str(event["StackId"]), RESOURCE_TAG: resource}


def build_request(
    deadline: Deadline, name: str, properties: Dict[str, Any], tags: Optional[Dict[str, str]] = None
) -> Dict[str, Any]:
    """The CreateLabelingJob request, with the library's tags; writes the label and template files it points to."""
    request = copy.deepcopy(properties["Request"])
    request["LabelingJobName"] = name
    if tags:
        kept = [tag for tag in request.get("Tags", []) if tag.get("Key") not in tags]
        request["Tags"] = kept + [{"Key": key, "Value": value} for key, value in sorted(tags.items())]
    prefix = str(properties.get("ConfigS3Prefix", ""))
    kms_key_id = properties.get("ConfigKmsKeyId")
    if properties.get("LabelCategoryConfig"):
        uri = f"{prefix}{name}/label-categories.json"
        put_config_object(deadline, uri, properties["LabelCategoryConfig"], kms_key_id, "application/json")
        request["LabelCategoryConfigS3Uri"] = uri
    if properties.get("UiTemplate"):
        uri = f"{prefix}{name}/worker-template.liquid.html"
        put_config_object(deadline, uri, properties["UiTemplate"], kms_key_id, "text/html")
        request["HumanTaskConfig"].setdefault("UiConfig", {})["UiTemplateS3Uri"] = uri
    model = client("sagemaker", deadline.remaining()).meta.service_model
    coerced: Dict[str, Any] = coerce(request, model.operation_model("CreateLabelingJob").input_shape)
    return coerced


# --- lifecycle ---------------------------------------------------------------------------------


def resource_id(event: Dict[str, Any]) -> Optional[str]:
    """The physical id of a resource whose job exists: the same whichever generation runs.

    It is the resource's generation-0 name (the name earlier versions gave its first job), so
    deployed resources keep their id. An update that keeps the job's properties keeps the id
    CloudFormation holds, when it is a name of the sequence (a generation an earlier version
    moved on to). Renewals and a dead job's successor therefore never change it, and a Delete
    of it stops whichever generation runs.
    """
    properties = event.get("ResourceProperties") or {}
    try:
        first = job_name(event, properties, 0)
    except (KeyError, TypeError, AttributeError):
        return None
    current = event.get("PhysicalResourceId")
    old = event.get("OldResourceProperties")
    if event.get("RequestType") == "Update" and isinstance(old, dict) and job_identity(properties) == job_identity(old):
        if current in name_sequence(event, properties):
            return str(current)
    return first


class Outcome:
    """The physical id the answer will carry: a fallback until a job of ours exists."""

    def __init__(self, event: Dict[str, Any]) -> None:
        self._fallback = str(event.get("PhysicalResourceId") or f"CREATE_FAILED:{event.get('RequestId', 'unknown')}")
        self._resource_id = resource_id(event) or self._fallback
        self.physical_id = self._fallback

    @property
    def resource(self) -> str:
        return self._resource_id

    def job_exists(self, name: str) -> None:
        """A job of this resource exists (``name``): from now on the answer carries the resource's id."""
        LOG.info("labeling job %s belongs to resource %s", name, self._resource_id)
        self.physical_id = self._resource_id

    def forget_job(self) -> None:
        self.physical_id = self._fallback


def is_not_found(error: ClientError) -> bool:
    code, message = describe_error(error)
    return code == "ResourceNotFound" or (code == "ValidationException" and NOT_FOUND_HINT.search(message) is not None)


def describe(deadline: Deadline, name: str) -> Optional[Dict[str, Any]]:
    """DescribeLabelingJob, or None when there is no such job."""
    try:
        response: Dict[str, Any] = aws(deadline, "sagemaker", "describe_labeling_job", LabelingJobName=name)
        return response
    except ClientError as error:
        if is_not_found(error):
            return None
        raise


def belongs_to_request(job: Dict[str, Any], request: Dict[str, Any]) -> bool:
    """Whether an existing job with our name is the one this request describes."""

    def topic(doc: Dict[str, Any]) -> Any:
        return doc.get("InputConfig", {}).get("DataSource", {}).get("SnsDataSource", {}).get("SnsTopicArn")

    return (
        job.get("RoleArn") == request.get("RoleArn")
        and job.get("LabelAttributeName") == request.get("LabelAttributeName")
        and topic(job) == topic(request)
    )


def foreign_job(name: str, properties: Dict[str, Any]) -> JobError:
    return JobError(
        f"A labeling job named {name} already exists in this account and region and was not created by this "
        f"resource; job names can never be reused. Change job_name_prefix (now {properties['JobNamePrefix']!r}) "
        "to get a new name."
    )


def claim_name(
    deadline: Deadline, event: Dict[str, Any], properties: Dict[str, Any]
) -> Tuple[str, Optional[Dict[str, Any]]]:
    """The first name of this resource's sequence that is free or holds an active job of ours."""
    for generation in range(MAX_GENERATIONS):
        name = job_name(event, properties, generation)
        job = describe(deadline, name)
        if job is None:
            return name, None
        if not belongs_to_request(job, properties["Request"]):
            raise foreign_job(name, properties)
        status = job.get("LabelingJobStatus")
        if status in ACTIVE_STATUSES:
            return name, job
        LOG.info("labeling job %s is %s; trying the next name", name, status)
    raise JobError(
        f"The first {MAX_GENERATIONS} job names of this resource are all used by finished jobs. "
        "Change job_name_prefix to start a new sequence."
    )


def start_job(deadline: Deadline, request: Dict[str, Any], properties: Dict[str, Any], outcome: Outcome) -> None:
    """CreateLabelingJob; a job of ours found under the name (our own earlier attempt) is adopted."""
    name = request["LabelingJobName"]
    uncertain = []  # attempts that may have reached the service: a timeout, a 5xx, a dropped connection

    def create(left: float) -> Any:
        try:
            return client("sagemaker", left).create_labeling_job(**request)
        except Exception as error:
            if transient(error):
                uncertain.append(error)
            raise

    try:
        with_retries(deadline, "CreateLabelingJob", create, propagation=role_propagation)
    except ClientError as error:
        code, message = describe_error(error)
        if code == "ResourceInUse":
            if uncertain:  # most likely our own lost attempt: named even if the look below fails
                outcome.job_exists(name)
            existing = describe(deadline, name)
            if existing is not None and belongs_to_request(existing, request):
                outcome.job_exists(name)
                LOG.info("adopting labeling job %s (%s)", name, existing.get("LabelingJobStatus"))
                return
            outcome.forget_job()  # somebody else's: never name it
            raise foreign_job(name, properties) from error
        if uncertain:
            outcome.job_exists(name)
        raise JobError(f"CreateLabelingJob failed: {code}: {message}") from error
    except (BotoCoreError, JobError) as error:
        if uncertain:
            outcome.job_exists(name)
        raise JobError(f"CreateLabelingJob failed: {error}") from error
    outcome.job_exists(name)
    LOG.info("created labeling job %s", name)


def poll_delays() -> Iterator[float]:
    yield from POLL_DELAYS_SECONDS
    while True:
        yield POLL_DELAYS_SECONDS[-1]


def wait_until_running(
    deadline: Deadline, name: str, on_look: Optional[Callable[[Deadline], None]] = None
) -> Dict[str, Any]:
    """Poll until the job takes data; the first look comes at once. ``on_look`` runs before each look."""
    delays = poll_delays()
    while True:
        if on_look is not None:
            on_look(deadline)
        job = describe(deadline, name)
        status = job.get("LabelingJobStatus") if job else None
        if job is not None and status == "InProgress":
            return job
        if job is not None and status == "Failed":
            raise JobError(f"Labeling job {name} failed: {job.get('FailureReason', 'no reason given')}")
        if job is not None and status in ("Stopping", "Stopped", "Completed"):
            raise JobError(f"Labeling job {name} is {status}; deploy again to start a new job.")
        if not deadline.sleep(next(delays)):
            raise JobError(
                f"Labeling job {name} did not reach InProgress in time (last status: {status}). "
                "The stack will roll back and stop it; deploy again to retry."
            )


class StaleEvent(Exception):
    """An event CloudFormation no longer waits for: nothing is done and nothing is answered."""


def resource_status(deadline: Deadline, event: Dict[str, Any]) -> Optional[str]:
    """The resource's status in CloudFormation, or None when it cannot be read."""
    try:
        response = aws(
            deadline, "cloudformation", "describe_stack_resource",
            StackName=str(event["StackId"]), LogicalResourceId=str(event["LogicalResourceId"]),
        )
        return str(response["StackResourceDetail"]["ResourceStatus"])
    except (ClientError, BotoCoreError, JobError, KeyError) as error:
        LOG.warning("could not read the resource's status in CloudFormation: %s", error)
        return None


def refuse_if_stale(deadline: Deadline, event: Dict[str, Any]) -> None:
    """A Create or Update that arrives after its resource was cancelled, completed or deleted makes no job."""
    status = resource_status(deadline, event)
    if status in STALE_STATUSES.get(str(event.get("RequestType")), frozenset()):
        raise StaleEvent(f"{event.get('RequestType')} {event.get('RequestId')} arrived when the resource was "
                         f"{status}: a duplicate or late delivery; no job is created and nothing is answered")


def stop_if_cancelled(deadline: Deadline, event: Dict[str, Any], name: str) -> None:
    """A job made while CloudFormation cancelled or deleted its resource is stopped, not left behind."""
    status = resource_status(deadline, event)
    if status in STALE_STATUSES.get(str(event.get("RequestType")), frozenset()):
        LOG.warning("the resource became %s while labeling job %s was created: stopping it", status, name)
        stop_job(deadline, name, wait_for_stopped=False)
        raise JobError(f"The resource became {status} while labeling job {name} was being created; "
                       "the job was stopped.")


def tag_job(deadline: Deadline, job: Dict[str, Any], tags: Dict[str, str]) -> None:
    """Tag a job (best effort): a kept or adopted job, perhaps made by an earlier version, or one about to stop."""
    try:
        aws(deadline, "sagemaker", "add_tags", ResourceArn=str(job["LabelingJobArn"]),
            Tags=[{"Key": key, "Value": value} for key, value in sorted(tags.items())])
    except (ClientError, BotoCoreError, JobError, KeyError) as error:
        LOG.warning("could not tag labeling job %s: %s", job.get("LabelingJobName"), error)


def record_resource(deadline: Deadline, event: Dict[str, Any], resource: str) -> None:
    """Keep what a renewal needs (stack, logical id, properties) next to the resource's job files."""
    properties = event["ResourceProperties"]
    record = {"StackId": event["StackId"], "LogicalResourceId": event["LogicalResourceId"],
              "PhysicalResourceId": resource, "ResourceProperties": properties}
    uri = f"{properties.get('ConfigS3Prefix', '')}{resource}/{RESOURCE_RECORD}"
    put_config_object(deadline, uri, json.dumps(record, sort_keys=True), properties.get("ConfigKmsKeyId"),
                      "application/json")


def create(event: Dict[str, Any], deadline: Deadline, outcome: Outcome) -> Dict[str, str]:
    properties = event["ResourceProperties"]
    tags = library_tags(event, outcome.resource)
    name, job = claim_name(deadline, event, properties)
    if job is not None:
        outcome.job_exists(name)
        LOG.info("adopting labeling job %s (%s)", name, job.get("LabelingJobStatus"))
        tag_job(deadline, job, tags)
    else:
        start_job(deadline, build_request(deadline, name, properties, tags), properties, outcome)
    stop_if_cancelled(deadline, event, name)
    running = wait_until_running(deadline, name)
    stop_if_cancelled(deadline, event, name)
    record_resource(deadline, event, outcome.resource)
    return {"JobName": name, "JobArn": str(running["LabelingJobArn"])}


def update(event: Dict[str, Any], deadline: Deadline, outcome: Outcome) -> Dict[str, str]:
    """As a create: the walk keeps the running generation when the job's properties are unchanged
    (the physical id stays), moves on from a dead one, and starts a new sequence when they changed."""
    return create(event, deadline, outcome)


def stop(deadline: Deadline, name: str) -> Optional[ClientError]:
    """StopLabelingJob; the service's ValidationException is returned for the caller to judge."""
    try:
        aws(deadline, "sagemaker", "stop_labeling_job", LabelingJobName=name)
        LOG.info("stopping labeling job %s", name)
        return None
    except ClientError as error:
        code, message = describe_error(error)
        if code == "ValidationException" and not is_not_found(error):
            LOG.warning("StopLabelingJob %s: %s; looking again", name, message)
            return error
        raise


def stop_job(deadline: Deadline, name: str, wait_for_stopped: bool, stopped_by: str = "cloudformation") -> None:
    """Stop one job: Initializing is waited out; Stopping is enough unless ``wait_for_stopped``.

    The job is tagged with who stopped it first, so that the stop is never taken for an idle stop.
    """
    delays = poll_delays()
    rejections = 0
    while True:
        job = describe(deadline, name)
        status = job.get("LabelingJobStatus") if job else None
        if job is None or status in ("Stopped", "Completed", "Failed"):
            return
        if status == "Stopping" and not wait_for_stopped:
            return
        if status == "InProgress":
            if stopped_by and job is not None:
                tag_job(deadline, job, {STOPPED_BY_TAG: stopped_by})  # so that the stop is never renewed
            try:
                rejected = stop(deadline, name)
            except ClientError as error:
                if is_not_found(error):
                    return
                raise
            if rejected is None and not wait_for_stopped:
                return
            if rejected is not None:
                rejections += 1
                if rejections > STOP_REJECTIONS_TOLERATED:
                    code, message = describe_error(rejected)
                    raise JobError(f"StopLabelingJob failed for {name}: {code}: {message}")
        # Initializing (cannot be stopped yet), Stopping while we wait for Stopped, or a rejected stop.
        if not deadline.sleep(next(delays)):
            raise JobError(f"Labeling job {name} is still {status}; delete the stack again to finish stopping it.")


def name_sequence(event: Dict[str, Any], properties: Dict[str, Any]) -> List[str]:
    """Every name this resource's jobs can have, generation 0 first; empty when the event cannot tell."""
    try:
        return [job_name(event, properties, generation) for generation in range(MAX_GENERATIONS)]
    except (KeyError, TypeError):
        return []


def is_access_denied(error: ClientError) -> bool:
    return describe_error(error)[0] in CALLER_PROPAGATION_CODES


def jobs_of_resource(deadline: Deadline, names: Sequence[str], request: Any, known: str = "") -> List[str]:
    """The running jobs among ``names`` that this resource made, walking until a name is free.

    Generations are claimed in order, so the first free name ends the walk. A name the
    handler may not describe (a prefix no statement covers, no stack tag) ends it too, unless
    it is ``known`` to exist (the id CloudFormation holds) or comes before it: that is raised,
    never taken for "nothing to stop".
    """
    found = []
    must_exist = names.index(known) if known in names else -1
    for index, name in enumerate(names):
        try:
            job = describe(deadline, name)
        except ClientError as error:
            if not is_access_denied(error) or index <= must_exist:
                raise
            LOG.warning("may not describe %s (%s): ending the search there", name, describe_error(error)[0])
            break
        if job is None:
            break
        ended = job.get("LabelingJobStatus") in ("Stopped", "Completed", "Failed")
        if not ended and isinstance(request, dict) and belongs_to_request(job, request):
            found.append(name)
    return found


def delete(event: Dict[str, Any], deadline: Deadline, outcome: Outcome) -> Dict[str, str]:
    """Stop every running job of the resource, whatever physical id CloudFormation sends.

    The physical id names the resource, not one generation: renewals and an update that found its
    job dead start later generations under the same id. An id that is not of the sequence (made up
    by CloudFormation for a cancelled create, or a failed create's fallback) changes nothing: the
    Create may have made a job without being heard, and the sequence finds it. A job name given as
    the id that is not of the sequence is stopped too, so nothing CloudFormation names is left.
    """
    name = str(event.get("PhysicalResourceId") or "")
    properties = event.get("ResourceProperties") or {}
    wait_for_stopped = str(properties.get("WaitForStoppedOnDelete", "false")) == "true"
    sequence = name_sequence(event, properties)
    targets = jobs_of_resource(deadline, sequence, properties.get("Request"), known=name)
    if name not in sequence and is_job_name(name):
        targets.append(name)
    if not targets:
        LOG.info("physical id %r: the resource has no running job, nothing to stop", name)
    for target in targets:
        stop_job(deadline, target, wait_for_stopped)
    kept = remove_emptied_queues(deadline, existing_jobs(deadline, sequence))
    return {REASON_KEY: "; ".join(kept)} if kept else {}


# --- queues -------------------------------------------------------------------------------------

#: A lifecycle step may give the answer's reason under this key (it is not sent as Data).
REASON_KEY = "__reason__"
#: How long a Delete waits for a stopping job to reach Stopped before it may delete its queue.
QUEUE_CLEANUP_WAIT_SECONDS = 300.0


def existing_jobs(deadline: Deadline, names: Sequence[str]) -> List[str]:
    """The names of ``names`` that have a job, walking until the first free one (generations are in order)."""
    found = []
    for name in names:
        try:
            if describe(deadline, name) is None:
                break
        except ClientError as error:
            if not is_access_denied(error):
                raise
            break
        found.append(name)
    return found


def queue_name(job: str) -> str:
    return f"{QUEUE_PREFIX}{job.lower()}"


def remove_emptied_queues(deadline: Deadline, jobs: Sequence[str]) -> List[str]:
    """Delete the ``GroundTruth-<job>`` queues of finished jobs that hold nothing; what is kept, and why.

    AWS leaves a stopped job's queue (it may hold unlabeled objects) and asks users to delete it.
    A queue is touched only once its job is Stopped, Completed or Failed, and never purged.
    """
    kept: List[str] = []
    waited_until = clock() + min(QUEUE_CLEANUP_WAIT_SECONDS, max(deadline.remaining() - 30.0, 0.0))
    for job in jobs:
        delays = poll_delays()
        while True:
            described = describe(deadline, job)
            status = described.get("LabelingJobStatus") if described else None
            if status in (None, "Stopped", "Completed", "Failed") or clock() >= waited_until:
                break
            if not deadline.sleep(min(next(delays), max(waited_until - clock(), 0.0))):
                break
        if status not in (None, "Stopped", "Completed", "Failed"):
            kept.append(f"queue {queue_name(job)} kept: its job is still {status}")
            continue
        note = remove_queue_if_empty(deadline, queue_name(job))
        if note:
            kept.append(note)
    for note in kept:
        LOG.warning("%s", note)
    return kept


def remove_queue_if_empty(deadline: Deadline, name: str) -> Optional[str]:
    """Delete an SQS queue that holds no message; a note when it is kept."""
    try:
        url = aws(deadline, "sqs", "get_queue_url", QueueName=name)["QueueUrl"]
        attributes = aws(deadline, "sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed"])["Attributes"]
        held = sum(int(value) for value in attributes.values())
        if held:
            return f"queue {name} kept: it still holds {held} objects (delete it yourself when you no longer need them)"
        aws(deadline, "sqs", "delete_queue", QueueUrl=url)
        LOG.info("deleted the emptied queue %s", name)
        return None
    except ClientError as error:
        code, message = describe_error(error)
        if code in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            return None
        return f"queue {name} kept: {code}: {message}"
    except (BotoCoreError, JobError) as error:
        return f"queue {name} kept: {error}"


# --- renewal after an idle stop --------------------------------------------------------------------

STATE_CHANGE = "SageMaker Ground Truth Labeling Job State Change"
#: The key a republished object without a deduplication key of its own is given, valued with the SNS
#: message id Ground Truth deduplicated the original delivery by (Duplicate Message Handling).
REPLAY_ID_KEY = "streaming-labeling-sns-message-id"


class Subscriptions:
    """When Ground Truth subscribed a new job's queue to the input topic, as closely as polling tells."""

    def __init__(self, topic_arn: str, job: str) -> None:
        self.topic_arn, self.queue = topic_arn, queue_name(job)
        self.absent_at: Optional[float] = wall()  # started before the job existed: surely not yet subscribed
        self.present_at: Optional[float] = None

    def look(self, deadline: Deadline) -> None:
        if self.present_at is not None:
            return
        started = wall()
        try:
            pages = [aws(deadline, "sns", "list_subscriptions_by_topic", TopicArn=self.topic_arn)]
            while pages[-1].get("NextToken"):
                pages.append(aws(deadline, "sns", "list_subscriptions_by_topic", TopicArn=self.topic_arn,
                                 NextToken=pages[-1]["NextToken"]))
        except (ClientError, BotoCoreError, JobError) as error:
            LOG.warning("could not list the input topic's subscriptions: %s", error)
            return
        endpoints = [sub.get("Endpoint", "") for page in pages for sub in page.get("Subscriptions", [])]
        if any(endpoint.endswith(f":{self.queue}") for endpoint in endpoints):
            self.present_at = wall()
        else:
            self.absent_at = started


def list_tags(deadline: Deadline, arn: str) -> Dict[str, str]:
    response = aws(deadline, "sagemaker", "list_tags", ResourceArn=arn)
    return {tag["Key"]: tag["Value"] for tag in response.get("Tags", [])}


def config_prefix_of(job: Dict[str, Any]) -> Optional[str]:
    """The handler's config prefix, from the files it wrote next to the job (``<prefix><job>/...``)."""
    name = str(job.get("LabelingJobName", ""))
    for uri in (job.get("LabelCategoryConfigS3Uri"), job.get("HumanTaskConfig", {}).get("UiConfig", {}).get(
            "UiTemplateS3Uri")):
        if isinstance(uri, str) and f"/{name}/" in uri:
            return uri.rsplit(f"{name}/", 1)[0]
    return None


def read_record(deadline: Deadline, uri: str) -> Dict[str, Any]:
    bucket, key = split_s3_uri(uri)
    body = aws(deadline, "s3", "get_object", Bucket=bucket, Key=key)["Body"].read()
    record: Dict[str, Any] = json.loads(body)
    return record


def was_idle(deadline: Deadline, job: Dict[str, Any], stopped_at: float) -> bool:
    """AWS's idle: nothing published to the input topic in the 10 days before the stop, nothing in the queue."""
    topic = str(job.get("InputConfig", {}).get("DataSource", {}).get("SnsDataSource", {}).get("SnsTopicArn", ""))
    statistics = aws(
        deadline, "cloudwatch", "get_metric_statistics", Namespace="AWS/SNS", MetricName="NumberOfMessagesPublished",
        Dimensions=[{"Name": "TopicName", "Value": topic.rsplit(":", 1)[-1]}],
        StartTime=stopped_at - IDLE_STOP_SECONDS, EndTime=stopped_at, Period=86400, Statistics=["Sum"],
    )
    published = sum(float(point.get("Sum", 0)) for point in statistics.get("Datapoints", []))
    if published:
        LOG.info("%s: %d objects were published in the 10 days before the stop", job.get("LabelingJobName"), published)
        return False
    note = remove_queue_if_empty(deadline, queue_name(str(job.get("LabelingJobName", ""))))
    if note:  # a queue that still holds objects was not idle; it is kept, as AWS asks
        LOG.info("%s", note)
        return False
    return True


def renew(event: Dict[str, Any], context: Any) -> None:
    """A stopped job of this stack that stopped for idleness gets its next generation, without a deploy.

    Never renewed: a stop the handler made for CloudFormation or that ``streaming-labeling stop``
    made (both tag the job first), a Failed job, a resource with ``RenewAfterIdleStop`` off, and a
    stop while the job was not idle by AWS's definition. Errors are raised, so Lambda retries the
    event (and the alarm on the Stopped event stays the report); a duplicate event finds the
    successor running and does nothing.
    """
    deadline = Deadline(context, SAFETY_MARGIN_SECONDS)
    detail = event.get("detail") or {}
    arns = [str(arn) for arn in event.get("resources") or [] if ":labeling-job/" in str(arn)]
    if detail.get("LabelingJobStatus") != "Stopped" or not arns:
        return
    arn = arns[0]
    name = arn.rsplit("/", 1)[-1]
    try:
        tags = list_tags(deadline, arn)
        job = describe(deadline, name)
    except ClientError as error:
        if is_access_denied(error) or is_not_found(error):
            LOG.info("%s is not a job of this stack (%s): not renewed", name, describe_error(error)[0])
            return
        raise
    own_stack = event.get("stack")  # the stack's rule adds it to the event
    if job is None or (own_stack and tags.get(STACK_TAG) != own_stack):
        LOG.info("%s is not a job of this stack: not renewed", name)
        return
    if tags.get(STOPPED_BY_TAG):
        LOG.info("%s was stopped by %s: not renewed", name, tags[STOPPED_BY_TAG])
        return
    if job.get("LabelingJobStatus") != "Stopped":
        LOG.info("%s is %s: not renewed", name, job.get("LabelingJobStatus"))
        return
    resource, prefix = tags.get(RESOURCE_TAG), config_prefix_of(job)
    if not resource or not prefix:
        LOG.warning("%s carries no resource tag or config files (an earlier version made it): not renewed", name)
        return
    record = read_record(deadline, f"{prefix}{resource}/{RESOURCE_RECORD}")
    properties: Dict[str, Any] = record["ResourceProperties"]
    resource_event = {"RequestType": "Renew", "StackId": record["StackId"], "PhysicalResourceId": resource,
                      "LogicalResourceId": record["LogicalResourceId"], "ResourceProperties": properties}
    if str(properties.get("RenewAfterIdleStop", "false")) != "true":
        LOG.info("%s: renew_after_idle_stop is off for resource %s", name, resource)
        return
    if name not in name_sequence(resource_event, properties):
        LOG.info("%s is no longer a generation of resource %s (its properties changed): not renewed", name, resource)
        return
    stopped_at = event_time(event) or wall()
    if not was_idle(deadline, job, stopped_at):
        LOG.info("%s was stopped while not idle (someone stopped it): not renewed", name)
        return
    topic = str(properties["Request"]["InputConfig"]["DataSource"]["SnsDataSource"]["SnsTopicArn"])
    successor, running = claim_name(deadline, resource_event, properties)
    subscriptions = Subscriptions(topic, successor)
    if running is None:
        start_job(deadline, build_request(deadline, successor, properties, library_tags(resource_event, resource)),
                  properties, Outcome(resource_event))
        subscriptions.look(deadline)  # at once: the service subscribes while the job initializes
        running = wait_until_running(deadline, successor, on_look=subscriptions.look)
        subscriptions.look(deadline)
        LOG.info("renewed %s as %s (resource %s)", name, successor, resource)
    else:  # a duplicate event, or a deploy started the successor first
        successor_tags = list_tags(deadline, str(running["LabelingJobArn"]))
        if SUBSCRIBED_AT_TAG in successor_tags:
            subscriptions.absent_at = subscriptions.present_at = float(successor_tags[SUBSCRIBED_AT_TAG])
        else:  # subscribed some time between its creation and now
            created = running.get("CreationTime")
            subscriptions.absent_at = created.timestamp() if isinstance(created, datetime.datetime) else None
            subscriptions.look(deadline)
        LOG.info("%s already has a running successor, %s", name, successor)
    holding = properties.get("HoldingQueueUrl")
    if holding:
        replay(deadline, str(holding), topic, subscriptions)
    follow_alarms(deadline, name, successor)
    if subscriptions.present_at is not None:  # what a later delivery of this event must not replay again
        tag_job(deadline, running, {SUBSCRIBED_AT_TAG: f"{subscriptions.present_at:.3f}"})


#: What an alarm on a queue metric is made of, as PutMetricAlarm takes it (DescribeAlarms gives the same).
ALARM_FIELDS = ("AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
                "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Period",
                "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator",
                "TreatMissingData", "EvaluateLowSampleCountPercentile")
#: The backlog metrics of a job's queue that alarms watch (``add_alarms``, ``metric_backlog*``).
QUEUE_METRICS = ("ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesVisible")


def follow_alarms(deadline: Deadline, old: str, new: str) -> None:
    """Point the stack's alarms on the old generation's queue at the new one's (best effort).

    The queue is named after the job, and a renewal makes a new name. The next deploy writes the
    same dimension, since the resource's JobName is then the running generation.
    """
    for metric in QUEUE_METRICS:
        try:
            found = aws(deadline, "cloudwatch", "describe_alarms_for_metric", Namespace="AWS/SQS", MetricName=metric,
                        Dimensions=[{"Name": "QueueName", "Value": queue_name(old)}]).get("MetricAlarms", [])
            for alarm in found:
                fields = {key: alarm[key] for key in ALARM_FIELDS if key in alarm}
                fields["Dimensions"] = [{"Name": "QueueName", "Value": queue_name(new)}]
                aws(deadline, "cloudwatch", "put_metric_alarm", **fields)
                LOG.info("alarm %s now watches %s", alarm["AlarmName"], queue_name(new))
        except (ClientError, BotoCoreError, JobError) as error:
            LOG.warning("could not point the alarms on %s at %s: %s", queue_name(old), queue_name(new), error)


def event_time(event: Dict[str, Any]) -> Optional[float]:
    try:
        parsed = time.strptime(str(event.get("time", "")), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return float(calendar.timegm(parsed))


def replay(deadline: Deadline, queue_url: str, topic: str, subscriptions: Subscriptions) -> None:
    """Publish again what the holding queue took while no job listened; drop what the successor got itself.

    The holding queue keeps every message for 4 days, less than the 10 idle days before an idle stop,
    so all it holds arrived after the stop. A message sent before the successor's subscription was seen
    absent is republished; one sent after it was seen present reached the successor directly; one in
    between is republished with its original SNS message id as its deduplication id, which is the id
    Ground Truth gave the direct delivery.
    """
    counts = {"republished": 0, "already delivered": 0, "uncertain": 0}
    # The successor runs (and so is subscribed) from here on: whatever is sent later reached it
    # directly, the copies this replay publishes included, which therefore never come round again.
    started = wall()
    while deadline.remaining() > MIN_ATTEMPT_SECONDS * 2:
        received = aws(deadline, "sqs", "receive_message", QueueUrl=queue_url, MaxNumberOfMessages=10,
                       VisibilityTimeout=120, WaitTimeSeconds=0, AttributeNames=["SentTimestamp"])
        messages = received.get("Messages", [])
        if not messages:
            break
        for message in messages:
            sent = int(message.get("Attributes", {}).get("SentTimestamp", "0")) / 1000.0
            delivered = sent >= started or (subscriptions.present_at is not None and sent >= subscriptions.present_at)
            surely_not = subscriptions.absent_at is not None and sent < subscriptions.absent_at
            if delivered:
                counts["already delivered"] += 1
            else:
                republish(deadline, topic, message["Body"], with_replay_id=not surely_not)
                counts["republished" if surely_not else "uncertain"] += 1
            aws(deadline, "sqs", "delete_message", QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    LOG.info("holding queue replayed: %s", counts)


def republish(deadline: Deadline, topic: str, body: str, with_replay_id: bool) -> None:
    """Publish an SNS envelope's message again (a raw body as it is)."""
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = None
    if isinstance(envelope, dict) and envelope.get("Type") == "Notification" and "Message" in envelope:
        message, message_id = str(envelope["Message"]), str(envelope.get("MessageId", ""))
    else:
        message, message_id = body, ""
    if with_replay_id and message_id:
        try:
            data = json.loads(message)
        except ValueError:
            data = None
        if isinstance(data, dict) and "dataset-objectid-attribute-name" not in data and "Records" not in data:
            data.update({"dataset-objectid-attribute-name": REPLAY_ID_KEY, REPLAY_ID_KEY: message_id})
            message = json.dumps(data)
    aws(deadline, "sns", "publish", TopicArn=topic, Message=message)


HANDLERS: Dict[str, Callable[[Dict[str, Any], Deadline, Outcome], Dict[str, str]]] = {
    "Create": create,
    "Update": update,
    "Delete": delete,
}


# --- CloudFormation protocol --------------------------------------------------------------------


def response_body(event: Dict[str, Any], status: str, physical_id: str, data: Dict[str, str], reason: str) -> bytes:
    """The answer, UTF-8, at most MAX_RESPONSE_BYTES: the reason is shortened to fit."""
    reason = reason.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot be sent

    def encode(text: str) -> bytes:
        document = {
            "Status": status,
            "Reason": text,
            "PhysicalResourceId": physical_id,
            "StackId": event.get("StackId", ""),
            "RequestId": event.get("RequestId", ""),
            "LogicalResourceId": event.get("LogicalResourceId", ""),
            "NoEcho": False,
            "Data": data,
        }
        return json.dumps(document, ensure_ascii=False).encode("utf-8")

    body = encode(reason)
    if len(body) <= MAX_RESPONSE_BYTES:
        return body
    low, high = 0, len(reason)  # the longest prefix of the reason that fits
    while low < high:
        middle = (low + high + 1) // 2
        if len(encode(reason[:middle] + " [...]")) <= MAX_RESPONSE_BYTES:
            low = middle
        else:
            high = middle - 1
    return encode(reason[:low] + " [...]")


def deliver(url: str, body: bytes, deadline: Deadline) -> None:
    """PUT the answer to CloudFormation, retrying the same body until the Lambda's end."""

    def put(left: float) -> int:
        request = urllib.request.Request(
            url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
        )
        with urllib.request.urlopen(request, timeout=min(RESPONSE_PUT_TIMEOUT_SECONDS, left)) as response:
            status: int = response.status
            return status

    try:
        status = with_retries(deadline, "response PUT", put)
        LOG.info("CloudFormation response sent (HTTP %s)", status)
    except (JobError, urllib.error.URLError, OSError, ValueError) as error:
        LOG.error("CloudFormation response could not be delivered: %s", error)


def response_url(event: Dict[str, Any]) -> Optional[str]:
    """The event's pre-signed answer URL, or None when there is none that could be used."""
    url = event.get("ResponseURL")
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("https", "http") and parts.netloc else None


def handler(event: Dict[str, Any], context: Any) -> None:
    if event.get("detail-type") == STATE_CHANGE:  # the stack's EventBridge rule, not CloudFormation
        renew(event, context)
        return
    request_type = event.get("RequestType", "")
    LOG.info("%s %s (physical id %s)", request_type, event.get("LogicalResourceId"), event.get("PhysicalResourceId"))
    url = response_url(event)
    if url is None:
        # No answer could reach CloudFormation: a job made now would be known to nobody.
        LOG.error("the event has no usable ResponseURL (%r): nothing is done", event.get("ResponseURL"))
        return
    deadline = Deadline(context, SAFETY_MARGIN_SECONDS)
    outcome = Outcome(event)
    data: Dict[str, str] = {}
    try:
        if request_type in STALE_STATUSES:
            refuse_if_stale(deadline, event)
        data = HANDLERS[request_type](event, deadline, outcome)
        status, reason = "SUCCESS", data.pop(REASON_KEY, "OK")
    except StaleEvent as error:
        LOG.warning("%s", error)
        return
    except JobError as error:
        LOG.error("%s", error)
        status, reason = "FAILED", str(error)
    except ClientError as error:
        code, message = describe_error(error)
        LOG.error("%s: %s", code, message)
        status, reason = "FAILED", f"{error.operation_name}: {code}: {message}"
    except BotoCoreError as error:
        LOG.error("%s", error)
        status, reason = "FAILED", f"{type(error).__name__}: {error}"
    except Exception as error:  # noqa: BLE001 - anything else must still reach CloudFormation
        LOG.exception("unexpected error")
        status = "FAILED"
        reason = f"{type(error).__name__}: {error}. See log stream {getattr(context, 'log_stream_name', '?')}"
    body = response_body(event, status, outcome.physical_id, data if status == "SUCCESS" else {}, reason)
    deliver(url, body, Deadline(context, RESPONSE_MARGIN_SECONDS))

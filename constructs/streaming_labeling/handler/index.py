"""CloudFormation custom resource for a SageMaker Ground Truth streaming labeling job.

One Lambda serves every job in a stack and answers CloudFormation itself (no
provider framework), so that an error reaches the stack within seconds.
Standard library and boto3 only.

Lifecycle cases handled (after the aws-cdk custom-resources checklist):

* Create: write the label-category file and worker template to S3, call
  CreateLabelingJob, poll DescribeLabelingJob until the job is InProgress.
  Failed is reported with the job's FailureReason.
* Names: ``<prefix>-<12 hex>``, the hex a hash of the stack id, the logical id
  and the job's properties. A retried Create therefore adopts the job it
  already created; a property change gives a new name; a re-created stack
  gives a new name (new stack id); a rolled-back update computes the old
  name again and adopts the still-running old job.
* Update: jobs are immutable, so a changed job is a new job under a new
  physical id; CloudFormation then sends Delete for the old one. An update
  that leaves the job's properties alone keeps the job.
* Delete: stop the job when it is InProgress (waiting out Initializing, as
  StopLabelingJob must not be called then); not-found, Stopping, Stopped,
  Completed, Failed and a physical id that is not a job name all succeed.
  The service-owned ``GroundTruth-*`` queue is never touched.
* Never hang a stack: every error is caught and reported as FAILED with the
  service's message; waiting ends before the Lambda's own timeout; throttling
  is retried with backoff; IAM-propagation ValidationExceptions right after
  the role was created are retried for a bounded time; the response PUT is
  retried. Responses carry only the job name and ARN (4 KB limit).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import re
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, Optional, Tuple

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

JOB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
HASH_LENGTH = 12
SAFETY_MARGIN_SECONDS = 20.0
IAM_PROPAGATION_RETRY_SECONDS = 120.0
POLL_DELAYS_SECONDS = (3.0, 5.0, 5.0, 10.0, 10.0, 15.0, 20.0, 30.0)
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerError",
    }
)
IAM_PROPAGATION_HINT = re.compile(r"role|assume|permission|access|authoriz", re.IGNORECASE)
NOT_FOUND_HINT = re.compile(r"not found|does not exist|could not find", re.IGNORECASE)
RESPONSE_PUT_ATTEMPTS = 5
MAX_REASON_LENGTH = 1500

# Seams for tests: the clock and the sleep of the waiting loops.
clock: Callable[[], float] = time.monotonic
sleep: Callable[[float], None] = time.sleep

_clients: Dict[str, Any] = {}


def client(service: str) -> Any:
    """Clients are made on first use, so a cold start imports boto3 and nothing else."""
    if service not in _clients:
        make_client: Any = boto3.client
        _clients[service] = make_client(service, config=Config(retries={"mode": "standard", "max_attempts": 3}))
    return _clients[service]


class JobError(Exception):
    """A failure to report to CloudFormation as it is: the text a person acts on."""

    def __init__(self, message: str, physical_id: Optional[str] = None) -> None:
        super().__init__(message)
        self.physical_id = physical_id


class Deadline:
    """Time left for waiting: the Lambda's remaining time less a margin to respond."""

    def __init__(self, context: Any, margin: float = SAFETY_MARGIN_SECONDS) -> None:
        self._end = clock() + float(context.get_remaining_time_in_millis()) / 1000.0 - margin

    def remaining(self) -> float:
        return self._end - clock()

    def sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; False when no time is left to do so."""
        left = self.remaining()
        if left <= 0:
            return False
        sleep(min(seconds, left))
        return True


def _delays() -> Any:
    yield from POLL_DELAYS_SECONDS
    while True:
        yield POLL_DELAYS_SECONDS[-1]


def describe_error(error: ClientError) -> Tuple[str, str]:
    info = error.response.get("Error", {})
    return str(info.get("Code", "Unknown")), str(info.get("Message", error))


def call(deadline: Deadline, fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Call an API, retrying throttling with exponential backoff until the deadline."""
    delay = 1.0
    while True:
        try:
            return fn(**kwargs)
        except ClientError as error:
            code, _ = describe_error(error)
            if code not in THROTTLING_CODES or deadline.remaining() < delay:
                raise
            LOG.warning("throttled (%s), retrying in %.0fs", code, delay)
            deadline.sleep(delay)
            delay = min(delay * 2, 20.0)


# --- names -----------------------------------------------------------------


def job_identity(properties: Dict[str, Any]) -> Dict[str, Any]:
    """The properties that define the job; a change in any of them is a new job."""
    keys = ("JobNamePrefix", "Request", "LabelCategoryConfig", "UiTemplate", "ConfigS3Prefix")
    return {key: properties.get(key) for key in keys}


def job_name(event: Dict[str, Any], properties: Dict[str, Any]) -> str:
    fingerprint = json.dumps(
        {
            "stack": event["StackId"],
            "resource": event["LogicalResourceId"],
            "job": job_identity(properties),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    digest = hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:HASH_LENGTH]
    prefix = str(properties["JobNamePrefix"]).lower()
    return f"{prefix}-{digest}"


def is_job_name(value: Optional[str]) -> bool:
    return bool(value) and JOB_NAME_PATTERN.match(str(value)) is not None


# --- request building ----------------------------------------------------------


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


def put_config_object(uri: str, body: str, kms_key_id: Optional[str], content_type: str) -> None:
    bucket, key = split_s3_uri(uri)
    args: Dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": body.encode("utf-8"), "ContentType": content_type}
    if kms_key_id:
        args.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=kms_key_id)
    client("s3").put_object(**args)


def build_request(name: str, properties: Dict[str, Any]) -> Dict[str, Any]:
    """The CreateLabelingJob request; writes the label and template files it points to."""
    request = copy.deepcopy(properties["Request"])
    request["LabelingJobName"] = name
    prefix = str(properties.get("ConfigS3Prefix", ""))
    kms_key_id = properties.get("ConfigKmsKeyId")
    if properties.get("LabelCategoryConfig"):
        uri = f"{prefix}{name}/label-categories.json"
        put_config_object(uri, properties["LabelCategoryConfig"], kms_key_id, "application/json")
        request["LabelCategoryConfigS3Uri"] = uri
    if properties.get("UiTemplate"):
        uri = f"{prefix}{name}/worker-template.liquid.html"
        put_config_object(uri, properties["UiTemplate"], kms_key_id, "text/html")
        request["HumanTaskConfig"].setdefault("UiConfig", {})["UiTemplateS3Uri"] = uri
    shape = client("sagemaker").meta.service_model.operation_model("CreateLabelingJob").input_shape
    coerced: Dict[str, Any] = coerce(request, shape)
    return coerced


# --- lifecycle -------------------------------------------------------------------


def describe(deadline: Deadline, name: str) -> Optional[Dict[str, Any]]:
    """DescribeLabelingJob, or None when there is no such job."""
    try:
        response: Dict[str, Any] = call(deadline, client("sagemaker").describe_labeling_job, LabelingJobName=name)
        return response
    except ClientError as error:
        code, message = describe_error(error)
        if code == "ResourceNotFound" or (code == "ValidationException" and NOT_FOUND_HINT.search(message)):
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


def start_job(deadline: Deadline, request: Dict[str, Any], prefix: str) -> None:
    """CreateLabelingJob, adopting a job of ours that already carries the name."""
    name = request["LabelingJobName"]
    started = clock()
    while True:
        try:
            call(deadline, client("sagemaker").create_labeling_job, **request)
            LOG.info("created labeling job %s", name)
            return
        except ClientError as error:
            code, message = describe_error(error)
            if code == "ResourceInUse":
                existing = describe(deadline, name)
                if existing is not None and belongs_to_request(existing, request):
                    LOG.info("adopting labeling job %s (%s)", name, existing.get("LabelingJobStatus"))
                    return
                raise JobError(
                    f"A labeling job named {name} already exists in this account and region and was not "
                    f"created by this resource; job names can never be reused. Change job_name_prefix "
                    f"(now {prefix!r}) to get a new name."
                ) from error
            retryable = code == "ValidationException" and IAM_PROPAGATION_HINT.search(message)
            waited = clock() - started
            if retryable and waited < IAM_PROPAGATION_RETRY_SECONDS and deadline.remaining() > 10:
                LOG.warning("CreateLabelingJob: %s (IAM may still be propagating), retrying", message)
                deadline.sleep(5.0)
                continue
            raise JobError(f"CreateLabelingJob failed: {code}: {message}") from error


def wait_until_running(deadline: Deadline, name: str) -> Dict[str, Any]:
    """Poll until the job takes data; the first look comes within seconds."""
    delays = _delays()
    while True:
        job = describe(deadline, name)
        status = job.get("LabelingJobStatus") if job else None
        if job is not None and status == "InProgress":
            return job
        if job is not None and status == "Failed":
            reason = job.get("FailureReason", "no reason given")
            raise JobError(f"Labeling job {name} failed: {reason}", physical_id=name)
        if job is not None and status in ("Stopping", "Stopped", "Completed"):
            raise JobError(
                f"Labeling job {name} is {status} and cannot be restarted; change job_name_prefix or any job "
                "property to create a new job.",
                physical_id=name,
            )
        if not deadline.sleep(next(delays)):
            raise JobError(
                f"Labeling job {name} did not reach InProgress in time (last status: {status}). "
                "The stack will roll back and stop it; deploy again to retry.",
                physical_id=name,
            )


def create(event: Dict[str, Any], deadline: Deadline) -> Tuple[str, Dict[str, str]]:
    properties = event["ResourceProperties"]
    name = job_name(event, properties)
    request = build_request(name, properties)
    try:
        start_job(deadline, request, str(properties["JobNamePrefix"]))
    except JobError as error:
        raise JobError(str(error), physical_id=None) from error
    job = wait_until_running(deadline, name)
    return name, {"JobName": name, "JobArn": str(job["LabelingJobArn"])}


def update(event: Dict[str, Any], deadline: Deadline) -> Tuple[str, Dict[str, str]]:
    name = job_name(event, event["ResourceProperties"])
    if name == event.get("PhysicalResourceId"):
        job = describe(deadline, name)
        if job is not None:
            return name, {"JobName": name, "JobArn": str(job["LabelingJobArn"])}
    return create(event, deadline)


def delete(event: Dict[str, Any], deadline: Deadline) -> Tuple[str, Dict[str, str]]:
    name = event.get("PhysicalResourceId", "")
    properties = event.get("ResourceProperties") or {}
    wait_for_stopped = str(properties.get("WaitForStoppedOnDelete", "false")).lower() == "true"
    if not is_job_name(name):
        LOG.info("physical id %r is not a job name (left by a failed create): nothing to stop", name)
        return name, {}
    delays = _delays()
    while True:
        job = describe(deadline, name)
        status = job.get("LabelingJobStatus") if job else None
        if job is None:
            return name, {}
        if status == "InProgress":
            try:
                call(deadline, client("sagemaker").stop_labeling_job, LabelingJobName=name)
                LOG.info("stopping labeling job %s", name)
            except ClientError as error:
                code, message = describe_error(error)
                if code != "ValidationException":
                    raise JobError(f"StopLabelingJob failed: {code}: {message}", physical_id=name) from error
                LOG.info("StopLabelingJob: %s; looking again", message)
            if not wait_for_stopped:
                return name, {}
        elif status in ("Stopped", "Completed", "Failed"):
            return name, {}
        elif status == "Stopping" and not wait_for_stopped:
            return name, {}
        # Initializing (cannot be stopped yet) or Stopping while we must wait for Stopped.
        if not deadline.sleep(next(delays)):
            raise JobError(
                f"Labeling job {name} is still {status}; delete the stack again to finish stopping it.",
                physical_id=name,
            )


HANDLERS = {"Create": create, "Update": update, "Delete": delete}


# --- CloudFormation protocol ------------------------------------------------------


def send_response(
    event: Dict[str, Any], status: str, physical_id: str, data: Dict[str, str], reason: str
) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason[:MAX_REASON_LENGTH],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "NoEcho": False,
            "Data": data,
        }
    ).encode("utf-8")
    delay = 1.0
    for attempt in range(1, RESPONSE_PUT_ATTEMPTS + 1):
        request = urllib.request.Request(
            event["ResponseURL"],
            data=body,
            method="PUT",
            headers={"Content-Type": "", "Content-Length": str(len(body))},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                LOG.info("CloudFormation response sent: %s (HTTP %s)", status, response.status)
                return
        except (urllib.error.URLError, OSError) as error:
            LOG.warning("sending the response failed (attempt %d): %s", attempt, error)
            if attempt == RESPONSE_PUT_ATTEMPTS:
                raise
            sleep(delay)
            delay *= 2


def handler(event: Dict[str, Any], context: Any) -> None:
    request_type = event.get("RequestType", "")
    LOG.info("%s %s (physical id %s)", request_type, event.get("LogicalResourceId"), event.get("PhysicalResourceId"))
    deadline = Deadline(context)
    fallback_id = event.get("PhysicalResourceId") or f"CREATE_FAILED:{event.get('RequestId', 'unknown')}"
    try:
        physical_id, data = HANDLERS[request_type](event, deadline)
        send_response(event, "SUCCESS", physical_id, data, "OK")
    except JobError as error:
        LOG.error("%s", error)
        send_response(event, "FAILED", error.physical_id or fallback_id, {}, str(error))
    except ClientError as error:
        code, message = describe_error(error)
        LOG.error("%s: %s", code, message)
        send_response(event, "FAILED", fallback_id, {}, f"{code}: {message}")
    except Exception as error:  # noqa: BLE001 - anything else must still reach CloudFormation
        LOG.exception("unexpected error")
        reason = f"{type(error).__name__}: {error}. See log stream {getattr(context, 'log_stream_name', '?')}"
        send_response(event, "FAILED", fallback_id, {}, reason)

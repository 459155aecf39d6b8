"""SageMaker labeling jobs as the lifecycle uses them: build, claim, start, wait for, tag and stop.

* Claim (``claim_name``): walk the resource's name sequence (``names``): a free
  name is created, an active job of ours (Initializing, InProgress) is adopted,
  and a finished one of ours (Stopping, Stopped, Completed, Failed) moves on to
  the next name. A job under our name made by another request is never claimed.
* Start (``start_job``): CreateLabelingJob under the retry policy; a job of ours
  found under the name (our own earlier attempt, whose answer was lost) is
  adopted. Once an attempt may have reached the service, every error raised is
  a ``JobFailed`` naming the job.
* Stop (``stop_job``): Initializing is waited out, as StopLabelingJob must not be
  called then. The job is tagged with who stopped it first, so that the stop
  is never taken for an idle stop. Not-found, Stopping, Stopped, Completed and
  Failed succeed.
* Every job made or kept is tagged with its stack and its resource
  (``library_tags``); the handler's stack-wide policy may describe and stop
  jobs with the stack tag.
"""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Tuple

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:  # mypy reads the asset as the package streaming_labeling.handler
    from streaming_labeling.handler import names, protocol, retry, shared
else:  # Lambda puts the asset folder on sys.path: its modules are top-level
    import names
    import protocol
    import retry
    import shared

LOG = logging.getLogger()

#: StopLabelingJob ValidationExceptions tolerated while the job still says InProgress.
STOP_REJECTIONS_TOLERATED = 3

# --- the request ------------------------------------------------------------------------------------


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


def put_config_object(
    deadline: retry.Deadline, uri: str, body: str, kms_key_id: Optional[str], content_type: str
) -> None:
    bucket, key = shared.split_s3_uri(uri)
    args: Dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": body.encode("utf-8"), "ContentType": content_type}
    if kms_key_id:
        args.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=kms_key_id)
    retry.aws(deadline, "s3", "put_object", **args)


def library_tags(request: protocol.Request, resource: str) -> Dict[str, str]:
    """The tags the handler sets on every job: its stack and its resource."""
    return {shared.STACK_TAG: str(request.stack_id), shared.RESOURCE_TAG: resource}


def build_request(
    deadline: retry.Deadline, name: str, properties: Dict[str, Any], tags: Optional[Dict[str, str]] = None
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
    model = retry.client("sagemaker", deadline.remaining()).meta.service_model
    coerced: Dict[str, Any] = coerce(request, model.operation_model("CreateLabelingJob").input_shape)
    return coerced


# --- looking ---------------------------------------------------------------------------------------


def describe(deadline: retry.Deadline, name: str) -> Optional[Dict[str, Any]]:
    """DescribeLabelingJob, or None when there is no such job."""
    try:
        response: Dict[str, Any] = retry.aws(deadline, "sagemaker", "describe_labeling_job", LabelingJobName=name)
        return response
    except ClientError as error:
        if retry.is_not_found(error):
            return None
        raise


def status_of(job: Optional[Dict[str, Any]]) -> Optional[str]:
    return None if job is None else job.get("LabelingJobStatus")


def list_tags(deadline: retry.Deadline, arn: str) -> Dict[str, str]:
    response = retry.aws(deadline, "sagemaker", "list_tags", ResourceArn=arn)
    return {tag["Key"]: tag["Value"] for tag in response.get("Tags", [])}


def tag_job(deadline: retry.Deadline, job: Dict[str, Any], tags: Dict[str, str]) -> None:
    """Tag a job (best effort): a kept or adopted job, perhaps made by an earlier version, or one about to stop."""
    try:
        retry.aws(deadline, "sagemaker", "add_tags", ResourceArn=str(job["LabelingJobArn"]),
                  Tags=[{"Key": key, "Value": value} for key, value in sorted(tags.items())])
    except (ClientError, BotoCoreError, retry.JobError, KeyError) as error:
        LOG.warning("could not tag labeling job %s: %s", job.get("LabelingJobName"), error)


def belongs_to_request(job: Dict[str, Any], request: Dict[str, Any]) -> bool:
    """Whether an existing job with our name is the one this request describes."""

    def topic(doc: Dict[str, Any]) -> Any:
        return doc.get("InputConfig", {}).get("DataSource", {}).get("SnsDataSource", {}).get("SnsTopicArn")

    return (
        job.get("RoleArn") == request.get("RoleArn")
        and job.get("LabelAttributeName") == request.get("LabelAttributeName")
        and topic(job) == topic(request)
    )


def foreign_job(name: str, properties: Dict[str, Any]) -> retry.JobError:
    return retry.JobError(
        f"A labeling job named {name} already exists in this account and region and was not created by this "
        f"resource; job names can never be reused. Change job_name_prefix (now {properties['JobNamePrefix']!r}) "
        "to get a new name."
    )


# --- claiming and starting -------------------------------------------------------------------------


def claim_name(deadline: retry.Deadline, request: protocol.Request) -> Tuple[str, Optional[Dict[str, Any]]]:
    """The first name of this resource's walk that is free or holds an active job of ours.

    The legacy names (versions before protocol 3) come first and end at their first free one, so a
    resource deployed then keeps its running job and moves on to the scoped names after it. A Create
    skips them: a resource created now never had a job named so.
    """
    properties = request.properties
    legacy, scoped = request.claim_walk() or ([], [request.job_name(0)])
    if request.kind == "Create":  # a new resource: no version before protocol 3 named a job of it
        legacy = []
    for sequence in (legacy, scoped):
        for name in sequence:
            job = describe(deadline, name)
            if job is None:
                if sequence is legacy:
                    break
                return name, None
            if not belongs_to_request(job, properties["Request"]):
                raise foreign_job(name, properties)
            status = status_of(job)
            if status in shared.ACTIVE_STATUSES:
                return name, job
            LOG.info("labeling job %s is %s; trying the next name", name, status)
    raise retry.JobError(
        f"The first {names.MAX_GENERATIONS} job names of this resource are all used by finished jobs. "
        "Change job_name_prefix to start a new sequence."
    )


def owned(job: Optional[str], error: Exception) -> Exception:
    """``error``, naming ``job`` when one exists (or may)."""
    return retry.JobFailed(job, error) if job is not None else error


def start_job(deadline: retry.Deadline, request: Dict[str, Any], properties: Dict[str, Any]) -> None:
    """CreateLabelingJob; a job of ours found under the name (our own earlier attempt) is adopted.

    Errors name the job (``JobFailed``) once an attempt may have reached the service; a job found
    under the name that is somebody else's is never named.
    """
    name = str(request["LabelingJobName"])
    uncertain = []  # attempts that may have reached the service: a timeout, a 5xx, a dropped connection

    def create(left: float) -> Any:
        try:
            return retry.client("sagemaker", left).create_labeling_job(**request)
        except Exception as error:
            if retry.transient(error):
                uncertain.append(error)
            raise

    try:
        retry.with_retries(deadline, "CreateLabelingJob", create, propagation=retry.role_propagation)
    except ClientError as error:
        code, message = retry.describe_error(error)
        maybe = name if uncertain else None  # most likely our own lost attempt: named even if the look fails
        if code == "ResourceInUse":
            try:
                existing = describe(deadline, name)
            except Exception as looking:  # noqa: BLE001 - re-raised, naming the job when it may be ours
                if maybe is None:
                    raise
                raise retry.JobFailed(maybe, looking) from looking
            if existing is not None and belongs_to_request(existing, request):
                LOG.info("adopting labeling job %s (%s)", name, status_of(existing))
                return
            raise foreign_job(name, properties) from error  # somebody else's: never name it
        raise owned(maybe, retry.JobError(f"CreateLabelingJob failed: {code}: {message}")) from error
    except (BotoCoreError, retry.JobError) as error:
        raise owned(name if uncertain else None, retry.JobError(f"CreateLabelingJob failed: {error}")) from error
    LOG.info("created labeling job %s", name)


def wait_until_running(
    deadline: retry.Deadline, name: str, on_look: Optional[Callable[[retry.Deadline], None]] = None
) -> Dict[str, Any]:
    """Poll until the job takes data; the first look comes at once. ``on_look`` runs before each look."""
    last: Dict[str, Optional[str]] = {"status": None}

    def look() -> Optional[Dict[str, Any]]:
        if on_look is not None:
            on_look(deadline)
        job = describe(deadline, name)
        status = last["status"] = status_of(job)
        if job is not None and status == shared.IN_PROGRESS:
            return job
        if job is not None and status == shared.FAILED:
            raise retry.JobError(f"Labeling job {name} failed: {job.get('FailureReason', 'no reason given')}")
        if job is not None and status in (shared.STOPPING, shared.STOPPED, shared.COMPLETED):
            raise retry.JobError(f"Labeling job {name} is {status}; deploy again to start a new job.")
        return None

    running = retry.poll(deadline, look)
    if running is None:
        raise retry.JobError(
            f"Labeling job {name} did not reach InProgress in time (last status: {last['status']}). "
            "The stack will roll back and stop it; deploy again to retry."
        )
    return running


# --- stopping ----------------------------------------------------------------------------------------


def stop(deadline: retry.Deadline, name: str) -> Optional[ClientError]:
    """StopLabelingJob; the service's ValidationException is returned for the caller to judge."""
    try:
        retry.aws(deadline, "sagemaker", "stop_labeling_job", LabelingJobName=name)
        LOG.info("stopping labeling job %s", name)
        return None
    except ClientError as error:
        code, message = retry.describe_error(error)
        if code == "ValidationException" and not retry.is_not_found(error):
            LOG.warning("StopLabelingJob %s: %s; looking again", name, message)
            return error
        raise


def stop_job(deadline: retry.Deadline, name: str, wait_for_stopped: bool, stopped_by: str = "cloudformation") -> None:
    """Stop one job: Initializing is waited out; Stopping is enough unless ``wait_for_stopped``.

    The job is tagged with who stopped it first, so that the stop is never taken for an idle stop.
    """
    rejections = 0
    last: Dict[str, Optional[str]] = {"status": None}

    def look() -> Optional[bool]:
        nonlocal rejections
        job = describe(deadline, name)
        status = last["status"] = status_of(job)
        if job is None or status in shared.ENDED_STATUSES:
            return True
        if status == shared.STOPPING and not wait_for_stopped:
            return True
        if status == shared.IN_PROGRESS:
            if stopped_by:
                tag_job(deadline, job, {shared.STOPPED_BY_TAG: stopped_by})  # so that the stop is never renewed
            try:
                rejected = stop(deadline, name)
            except ClientError as error:
                if retry.is_not_found(error):
                    return True
                raise
            if rejected is None and not wait_for_stopped:
                return True
            if rejected is not None:
                rejections += 1
                if rejections > STOP_REJECTIONS_TOLERATED:
                    code, message = retry.describe_error(rejected)
                    raise retry.JobError(f"StopLabelingJob failed for {name}: {code}: {message}")
        # Initializing (cannot be stopped yet), Stopping while we wait for Stopped, or a rejected stop.
        return None

    if retry.poll(deadline, look) is None:
        raise retry.JobError(
            f"Labeling job {name} is still {last['status']}; delete the stack again to finish stopping it."
        )

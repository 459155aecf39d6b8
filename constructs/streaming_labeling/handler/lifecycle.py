"""Create, Update and Delete of a streaming labeling job resource (after the aws-cdk custom-resources checklist).

* Create: find this resource's name (``jobs.claim_name``), write the
  label-category file and worker template to S3, call CreateLabelingJob, poll
  DescribeLabelingJob until the job is InProgress. Failed is reported with the
  job's FailureReason. So a retried Create adopts its own job, a rolled-back
  update adopts the still-running old job, and a reverted update, a re-added
  resource or a redeploy after a failed update gets a fresh job instead of a
  dead name.
* Update: jobs are immutable, so a changed job is a new job under a new
  physical id; CloudFormation then sends Delete for the old one. An update
  that leaves the job's properties alone keeps the job only while it is
  Initializing or InProgress; a finished one moves on to the next name, so a
  deploy never completes on a dead job.
* Delete: stop the resource's jobs. A physical id of the resource's sequence
  stops that generation and any earlier one still running, never a later one
  (the job an update moved on to). Any other id (made up by CloudFormation for
  a cancelled create, or a failed create's fallback) stops every running job
  of the sequence. The service-owned ``GroundTruth-*`` queue is never touched
  while its job runs (``queues``).
* Stale events: a Create or Update that arrives when CloudFormation shows the
  resource cancelled, completed or deleted (a duplicate delivery, a Lambda
  retry after CloudFormation moved on) does nothing and answers nothing
  (``StaleEvent``). A job whose resource was cancelled while the Create made it
  is stopped.

Each step returns a ``Result`` or raises. From the moment a job exists, what it
raises is a ``retry.JobFailed`` naming the job, so the answer names the
resource (``protocol``); nothing else ever names a job.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Sequence

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

if TYPE_CHECKING:  # mypy reads the asset as the package streaming_labeling.handler
    from streaming_labeling.handler import jobs, names, protocol, queues, retry, shared
else:  # Lambda puts the asset folder on sys.path: its modules are top-level
    import jobs
    import names
    import protocol
    import queues
    import retry
    import shared

LOG = logging.getLogger()

#: Statuses of the resource in CloudFormation after which this event is stale: a duplicate
#: delivery, or a retry that arrived after CloudFormation cancelled, gave up on or deleted the
#: resource. An unknown status (no permission, a stack not found) is never taken as stale.
DELETED_STATUSES = frozenset({"DELETE_IN_PROGRESS", "DELETE_COMPLETE", "DELETE_FAILED", "DELETE_SKIPPED"})
STALE_STATUSES = {
    # A pending Create is CREATE_IN_PROGRESS; a cancelled one becomes CREATE_FAILED, then deleted.
    "Create": frozenset({"CREATE_COMPLETE", "CREATE_FAILED"}) | DELETED_STATUSES,
    # Updates run in several stack phases (update, rollback), so only a deleted resource is stale.
    "Update": DELETED_STATUSES,
    # A renewal (the stack's rule, not CloudFormation) of a resource that is being or has been deleted.
    "Renew": DELETED_STATUSES,
}


@dataclass(frozen=True)
class Result:
    """What a step achieved: the job the resource has (None: none was made or kept), Data, the reason."""

    job: Optional[str]
    data: Dict[str, str] = field(default_factory=dict)
    reason: str = "OK"


class StaleEvent(Exception):
    """An event CloudFormation no longer waits for: nothing is done and nothing is answered."""


@contextlib.contextmanager
def job_exists(name: str) -> Iterator[None]:
    """Within: job ``name`` exists, so whatever is raised names it (``JobFailed``)."""
    LOG.info("labeling job %s exists", name)
    try:
        yield
    except retry.JobFailed:
        raise
    except Exception as error:  # noqa: BLE001 - re-raised, naming the job
        raise retry.JobFailed(name, error) from error


def resource_status(deadline: retry.Deadline, request: protocol.Request) -> Optional[str]:
    """The resource's status in CloudFormation, or None when it cannot be read (refused, unreachable, or an
    answer botocore cannot parse: ``ResponseParserError`` is no ``BotoCoreError``)."""
    try:
        response = retry.aws(
            deadline, "cloudformation", "describe_stack_resource",
            StackName=str(request.stack_id), LogicalResourceId=str(request.logical_id),
        )
        return str(response["StackResourceDetail"]["ResourceStatus"])
    except (ClientError, BotoCoreError, ResponseParserError, retry.JobError, KeyError, TypeError) as error:
        LOG.warning("could not read the resource's status in CloudFormation: %s", error)
        return None


def refuse_if_stale(deadline: retry.Deadline, request: protocol.Request) -> None:
    """A Create or Update that arrives after its resource was cancelled, completed or deleted makes no job."""
    status = resource_status(deadline, request)
    if status in STALE_STATUSES.get(request.kind, frozenset()):
        raise StaleEvent(f"{request.kind} {request.request_id} arrived when the resource was "
                         f"{status}: a duplicate or late delivery; no job is created and nothing is answered")


def stop_if_cancelled(deadline: retry.Deadline, request: protocol.Request, name: str) -> None:
    """A job made while CloudFormation cancelled or deleted its resource is stopped, not left behind."""
    status = resource_status(deadline, request)
    if status in STALE_STATUSES.get(request.kind, frozenset()):
        LOG.warning("the resource became %s while labeling job %s was created: stopping it", status, name)
        jobs.stop_job(deadline, name, wait_for_stopped=False)
        raise retry.JobError(f"The resource became {status} while labeling job {name} was being created; "
                             "the job was stopped.")


def record_resource(deadline: retry.Deadline, request: protocol.Request) -> None:
    """Keep what a renewal needs (stack, logical id, properties) next to the resource's job files."""
    properties = request.properties
    record = {"StackId": request.stack_id, "LogicalResourceId": request.logical_id,
              "PhysicalResourceId": request.resource_id, "ResourceProperties": properties}
    uri = f"{properties.get('ConfigS3Prefix', '')}{request.resource_id}/{shared.RESOURCE_RECORD}"
    jobs.put_config_object(deadline, uri, json.dumps(record, sort_keys=True), properties.get("ConfigKmsKeyId"),
                           "application/json")


def create(request: protocol.Request, deadline: retry.Deadline) -> Result:
    properties = request.properties
    tags = jobs.library_tags(request, request.resource_id)
    name, job = jobs.claim_name(deadline, request)
    if job is not None:
        with job_exists(name):
            LOG.info("adopting labeling job %s (%s)", name, jobs.status_of(job))
            jobs.tag_job(deadline, job, tags)
    else:
        jobs.start_job(deadline, jobs.build_request(deadline, name, properties, tags), properties)
    with job_exists(name):
        stop_if_cancelled(deadline, request, name)
        running = jobs.wait_until_running(deadline, name)
        stop_if_cancelled(deadline, request, name)
        record_resource(deadline, request)
        arn = str(running["LabelingJobArn"])
        return Result(name, {"JobName": name, "JobArn": arn,
                             "GenerationArnPrefix": f"{arn.rsplit('/', 1)[0]}/{request.generation_prefix()}"})


def update(request: protocol.Request, deadline: retry.Deadline) -> Result:
    """As a create: the walk keeps the running generation when the job's properties are unchanged
    (the physical id stays), moves on from a dead one, and starts a new sequence when they changed."""
    return create(request, deadline)


def jobs_of_resource(deadline: retry.Deadline, sequence: Sequence[str], request: Any, known: str = "") -> List[str]:
    """The running jobs among ``sequence`` that this resource made, walking until a name is free.

    Generations are claimed in order, so the first free name ends the walk. A name the
    handler may not describe (a prefix no statement covers, no stack tag) ends it too, unless
    it is ``known`` to exist (the id CloudFormation holds) or comes before it: that is raised,
    never taken for "nothing to stop".
    """
    found = []
    must_exist = sequence.index(known) if known in sequence else -1
    for index, name in enumerate(sequence):
        try:
            job = jobs.describe(deadline, name)
        except ClientError as error:
            if not retry.is_access_denied(error) or index <= must_exist:
                raise
            LOG.warning("may not describe %s (%s): ending the search there", name, retry.describe_error(error)[0])
            break
        if job is None:
            break
        ended = jobs.status_of(job) in shared.ENDED_STATUSES
        if not ended and isinstance(request, dict) and jobs.belongs_to_request(job, request):
            found.append(name)
    return found


def delete(request: protocol.Request, deadline: retry.Deadline) -> Result:
    """Stop every running job of the resource, whatever physical id CloudFormation sends.

    The physical id names the resource, not one generation: renewals and an update that found its
    job dead start later generations under the same id. An id that is not of the sequence (made up
    by CloudFormation for a cancelled create, or a failed create's fallback) changes nothing: the
    Create may have made a job without being heard, and the sequence finds it. A job name given as
    the id that is not of the sequence is stopped too, so nothing CloudFormation names is left.
    The answer keeps the id CloudFormation holds.
    """
    name = request.physical_id or ""
    properties = request.properties
    wait_for_stopped = str(properties.get("WaitForStoppedOnDelete", "false")) == "true"
    walk = request.claim_walk()  # the legacy names, then the scoped ones: each ends at its first free name
    sequence = [candidate for part in walk for candidate in part]
    targets = [target for part in walk for target in jobs_of_resource(deadline, part, properties.get("Request"),
                                                                      known=name)]
    if name not in sequence and names.is_job_name(name):
        targets.append(name)
    if not targets:
        LOG.info("physical id %r: the resource has no running job, nothing to stop", name)
    for target in targets:
        jobs.stop_job(deadline, target, wait_for_stopped)
    existing = [job for part in walk for job in queues.existing_jobs(deadline, part)]
    kept = queues.remove_emptied_queues(deadline, existing)
    return Result(None, {}, "; ".join(kept)) if kept else Result(None)


STEPS: Dict[str, Callable[[protocol.Request, retry.Deadline], Result]] = {
    "Create": create,
    "Update": update,
    "Delete": delete,
}


def run(request: protocol.Request, deadline: retry.Deadline) -> Result:
    """The request's step; a stale Create or Update raises ``StaleEvent`` before anything is made."""
    step = STEPS[request.kind]
    if request.kind in STALE_STATUSES:
        refuse_if_stale(deadline, request)
    return step(request, deadline)

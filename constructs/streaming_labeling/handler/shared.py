"""What the handler and the command line agree on: tags, job statuses, error codes, S3 URIs.

Standard library only, and no import of the asset's other modules nor any relative import, so that
one file serves both: Lambda imports it as the top-level module ``shared`` (the asset folder is on
``sys.path``), the library and the CLI as ``streaming_labeling.handler.shared``.
"""

from __future__ import annotations

import re
from typing import Tuple

# --- tags the library sets on a job (``streaming_labeling.conventions`` takes them from here) -------

#: Tag keys the library sets itself; a user's tag may not start with this.
RESERVED_TAG_PREFIX = "streaming-labeling:"
#: Tag on each job naming its input bucket, where the command line finds it.
INPUT_BUCKET_TAG = "streaming-labeling:input-bucket"
#: Tag the handler puts on every job it creates or keeps, valued with the stack id. The handler's
#: stack-wide policy allows DescribeLabelingJob and StopLabelingJob on jobs with this tag, so a job
#: whose per-job statement is gone (a renamed prefix, a removed construct, a rollback) can still be
#: stopped. Not part of the request, so it does not change a job's identity.
STACK_TAG = "streaming-labeling:stack"
#: Tag naming the resource (its physical id, shared by its generations) a job is a generation of;
#: renewal and the command line find the resource by it.
RESOURCE_TAG = "streaming-labeling:resource"
#: Tag set before a stop that must not be renewed: ``cloudformation`` (delete, replacement) or ``cli``.
STOPPED_BY_TAG = "streaming-labeling:stopped-by"
#: Tag on a renewed job: when its queue was seen subscribed (epoch seconds), the end of the replay window.
SUBSCRIBED_AT_TAG = "streaming-labeling:subscribed-at"

#: Ground Truth's queue of a streaming job: ``GroundTruth-<job name in lowercase>``.
QUEUE_PREFIX = "GroundTruth-"
#: Where, next to its jobs' files, the handler keeps what it needs to renew a resource without a deploy.
RESOURCE_RECORD = "resource.json"

# --- a labeling job's statuses (DescribeLabelingJob's LabelingJobStatus) ------------------------------

INITIALIZING = "Initializing"
IN_PROGRESS = "InProgress"
STOPPING = "Stopping"
STOPPED = "Stopped"
COMPLETED = "Completed"
FAILED = "Failed"
#: A job that runs or will: it may be adopted, and must be stopped.
ACTIVE_STATUSES = (INITIALIZING, IN_PROGRESS)
#: A job that takes no more data objects, and never will again.
FINISHED_STATUSES = (STOPPING, STOPPED, COMPLETED, FAILED)
#: A job that has ended: nothing about it changes any more.
ENDED_STATUSES = (STOPPED, COMPLETED, FAILED)

# --- error codes ---------------------------------------------------------------------------------------

#: "Slow down": the same call may well succeed later.
THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded"}
)
#: A fault on the service's side: worth another try.
SERVER_FAULT_CODES = frozenset({"InternalError", "InternalFailure", "ServiceUnavailable"})
#: SageMaker's "no such labeling job": this code, or a ValidationException whose message says so.
JOB_NOT_FOUND_CODE = "ResourceNotFound"
NOT_FOUND_HINT = re.compile(r"not found|does not exist|could not find", re.IGNORECASE)


def is_job_not_found(code: str, message: str) -> bool:
    """Whether SageMaker's error (its code and message) says that the labeling job does not exist."""
    return code == JOB_NOT_FOUND_CODE or (code == "ValidationException" and NOT_FOUND_HINT.search(message) is not None)


def split_s3_uri(uri: str) -> Tuple[str, str]:
    """``s3://bucket/key`` as (bucket, key); ValueError when it is no s3:// URI with a bucket."""
    scheme, _, rest = uri.partition("://")
    bucket, _, key = rest.partition("/")
    if scheme != "s3" or not bucket:
        raise ValueError(f"{uri!r} is not an s3:// URI")
    return bucket, key

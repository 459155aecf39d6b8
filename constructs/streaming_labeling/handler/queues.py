"""The ``GroundTruth-<job>`` queues the service leaves behind: deleted once empty, never purged.

AWS leaves a stopped job's queue (it may hold unlabeled objects) and asks users
to delete it. A queue is touched only once its job is Stopped, Completed or
Failed, and only when it holds nothing; the service-owned queue of a job that
runs is never touched. What is kept is said, with why.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:  # mypy reads the asset as the package streaming_labeling.handler
    from streaming_labeling.handler import jobs, names, retry, shared
else:  # Lambda puts the asset folder on sys.path: its modules are top-level
    import jobs
    import names
    import retry
    import shared

LOG = logging.getLogger()

#: How long a Delete waits for a stopping job to reach Stopped before it may delete its queue.
QUEUE_CLEANUP_WAIT_SECONDS = 300.0
#: SQS's "no such queue".
NO_SUCH_QUEUE_CODES = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


def existing_jobs(deadline: retry.Deadline, sequence: Sequence[str]) -> List[str]:
    """The names of ``sequence`` that have a job, walking until the first free one (generations are in order)."""
    found = []
    for name in sequence:
        try:
            if jobs.describe(deadline, name) is None:
                break
        except ClientError as error:
            if not retry.is_access_denied(error):
                raise
            break
        found.append(name)
    return found


def remove_emptied_queues(deadline: retry.Deadline, finished: Sequence[str]) -> List[str]:
    """Delete the queues of these jobs once they have ended and hold nothing; what is kept, and why."""
    kept: List[str] = []
    waited_until = retry.clock() + min(QUEUE_CLEANUP_WAIT_SECONDS, max(deadline.remaining() - 30.0, 0.0))
    for job in finished:
        last: Dict[str, Optional[str]] = {"status": None}

        def ended(job: str = job, last: Dict[str, Optional[str]] = last) -> Optional[bool]:
            status = last["status"] = jobs.status_of(jobs.describe(deadline, job))
            return True if status is None or status in shared.ENDED_STATUSES else None

        retry.poll(deadline, ended, until=waited_until)
        status = last["status"]
        if status is not None and status not in shared.ENDED_STATUSES:
            kept.append(f"queue {names.queue_name(job)} kept: its job is still {status}")
            continue
        note = remove_queue_if_empty(deadline, names.queue_name(job))
        if note:
            kept.append(note)
    for note in kept:
        LOG.warning("%s", note)
    return kept


def remove_queue_if_empty(deadline: retry.Deadline, name: str) -> Optional[str]:
    """Delete an SQS queue that holds no message; a note when it is kept."""
    try:
        url = retry.aws(deadline, "sqs", "get_queue_url", QueueName=name)["QueueUrl"]
        attributes = retry.aws(deadline, "sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed"])["Attributes"]
        held = sum(int(value) for value in attributes.values())
        if held:
            return f"queue {name} kept: it still holds {held} objects (delete it yourself when you no longer need them)"
        retry.aws(deadline, "sqs", "delete_queue", QueueUrl=url)
        LOG.info("deleted the emptied queue %s", name)
        return None
    except ClientError as error:
        code, message = retry.describe_error(error)
        if code in NO_SUCH_QUEUE_CODES:
            return None
        return f"queue {name} kept: {code}: {message}"
    except (BotoCoreError, retry.JobError) as error:
        return f"queue {name} kept: {error}"

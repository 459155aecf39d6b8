"""The retry policy, every number the handler waits by, and the test seams.

* One retry policy (``with_retries``): throttling, 5xx and network errors are
  retried with capped exponential backoff until the deadline; the messages
  SageMaker gives while a new role propagates, for a bounded time; nothing
  else. botocore's own retries are off, and every attempt's connect and read
  timeouts fit in the time the Lambda has left before it must answer
  (``client``).
* One polling helper (``poll``): the first look at once, then the gaps of
  ``POLL_DELAYS_SECONDS``, while the deadline leaves time for another look.
* The seams tests set (``clock``, ``wall``, ``sleep``, ``jitter``,
  ``make_client``) live here only; the other modules call them through this
  module, so one assignment here reaches every caller.
"""

from __future__ import annotations

import logging
import math
import random
import re
import time
import urllib.error
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, Optional, Tuple, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

if TYPE_CHECKING:  # mypy reads the asset as the package streaming_labeling.handler
    from streaming_labeling.handler import shared
else:  # Lambda puts the asset folder on sys.path: its modules are top-level
    import shared

LOG = logging.getLogger()

T = TypeVar("T")

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

#: Error codes that say "try again later": throttling and server-side faults.
TRANSIENT_CODES = (
    shared.THROTTLING_CODES
    | shared.SERVER_FAULT_CODES
    | {"SlowDown", "InternalServerError", "RequestTimeout", "RequestTimeoutException"}
)
#: What SageMaker says while a role created moments ago is not yet assumable, as in
#: "Could not assume role arn:aws:iam::123456789012:role/x. Please ensure that the role
#: exists and allows principal 'sagemaker.amazonaws.com' to assume the role."
#: Anything else about a role (a malformed ARN, a constraint) is a plain bad request.
ROLE_PROPAGATION_MESSAGE = re.compile(r"^Could not assume role\b|allows principal 'sagemaker\.amazonaws\.com'")
#: The caller's own permissions, attached by the same deployment, can lag the same way.
CALLER_PROPAGATION_CODES = frozenset({"AccessDeniedException", "AccessDenied"})

# --- seams for tests: the clock, sleeping, jitter and how clients are made ----------------------------

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


# --- errors ----------------------------------------------------------------------------------------------


class JobError(Exception):
    """A failure to report to CloudFormation as it is: the text a person acts on."""


class JobFailed(Exception):
    """``error`` happened once job ``job`` existed (or may have): the answer must name the resource."""

    def __init__(self, job: str, error: Exception) -> None:
        super().__init__(str(error))
        self.job = job
        self.error = error


def describe_error(error: ClientError) -> Tuple[str, str]:
    info = error.response.get("Error", {})
    return str(info.get("Code", "Unknown")), str(info.get("Message", error))


def http_status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def is_not_found(error: ClientError) -> bool:
    """SageMaker's "no such labeling job"."""
    return shared.is_job_not_found(*describe_error(error))


def is_access_denied(error: ClientError) -> bool:
    return describe_error(error)[0] in CALLER_PROPAGATION_CODES


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


# --- time --------------------------------------------------------------------------------------------------


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


def poll_delays() -> Iterator[float]:
    yield from POLL_DELAYS_SECONDS
    while True:
        yield POLL_DELAYS_SECONDS[-1]


def poll(deadline: Deadline, look: Callable[[], Optional[T]], until: float = math.inf) -> Optional[T]:
    """``look()`` at once, then after each poll delay, until it returns something other than None.

    None when the deadline leaves no time for another look, or when ``clock()`` reaches ``until``.
    ``look`` may raise to end the polling with an error.
    """
    delays = poll_delays()
    while True:
        found = look()
        if found is not None:
            return found
        if clock() >= until or not deadline.sleep(min(next(delays), max(until - clock(), 0.0))):
            return None

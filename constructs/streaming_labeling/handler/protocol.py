"""The CloudFormation side: the event parsed once, the one answer, its size and its delivery.

* The event becomes a ``Request`` once (``parse``); nothing else reads the raw event.
* An event without a usable ResponseURL is logged and ignored: a job made then
  would be known to nobody (``Request.response_url`` is None).
* The physical id: from the moment a job exists (created, adopted, or a create
  whose outcome is unknown), every answer carries the resource's id
  (``names.resource_id``), so CloudFormation's rollback or cleanup Delete stops
  it; a lifecycle step says so by its result's job or by raising ``JobFailed``.
  Before that, the safe fallback: the id CloudFormation holds, or
  ``CREATE_FAILED:<request id>`` for a Create, which names no job.
* The answer is decided once; delivery retries that same body, and the body is
  at most 4,096 bytes, encoded (the reason is shortened to fit).
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:  # mypy reads the asset as the package streaming_labeling.handler
    from streaming_labeling.handler import names, retry
else:  # Lambda puts the asset folder on sys.path: its modules are top-level
    import names
    import retry

LOG = logging.getLogger()

#: CloudFormation rejects response bodies over 4,096 bytes.
MAX_RESPONSE_BYTES = 4096


@dataclass(frozen=True)
class Request:
    """A CloudFormation custom-resource event, as the lifecycle reads it."""

    kind: str  # Create, Update or Delete ("Renew" for a renewal's own request)
    stack_id: Optional[str]
    logical_id: Optional[str]
    request_id: Optional[str]
    #: The id CloudFormation holds (Update, Delete); None for a Create.
    physical_id: Optional[str]
    #: ResourceProperties ({} when there are none).
    properties: Dict[str, Any]
    old_properties: Optional[Dict[str, Any]] = None
    #: The pre-signed answer URL; None when there is none that could be used.
    response_url: Optional[str] = None
    #: The answer's physical id while no job of the resource exists.
    fallback_id: str = field(init=False)
    #: The answer's physical id once a job of the resource exists.
    resource_id: str = field(init=False)

    def __post_init__(self) -> None:
        fallback = self.physical_id or f"CREATE_FAILED:{'unknown' if self.request_id is None else self.request_id}"
        resource = names.resource_id(self.kind, self.stack_id, self.logical_id, self.properties,
                                     self.physical_id, self.old_properties)
        object.__setattr__(self, "fallback_id", fallback)
        object.__setattr__(self, "resource_id", resource or fallback)

    def job_name(self, generation: int = 0) -> str:
        """The name of the resource's job of ``generation``; KeyError when the event cannot tell."""
        if self.stack_id is None or self.logical_id is None:
            raise KeyError("StackId" if self.stack_id is None else "LogicalResourceId")
        return names.name_of(self.stack_id, self.logical_id, self.properties, generation)

    def name_sequence(self) -> List[str]:
        """Every name the resource's jobs can have (legacy and scoped)."""
        return names.name_sequence(self.stack_id, self.logical_id, self.properties)

    def claim_walk(self) -> List[List[str]]:
        """The legacy names, then the scoped ones: each walked in order until its first free name."""
        return names.claim_walk(self.stack_id, self.logical_id, self.properties)

    def generation_prefix(self) -> str:
        """``<prefix>-<scope>``: what every scoped generation's name starts with (rules match it)."""
        if self.stack_id is None or self.logical_id is None:
            raise KeyError("StackId" if self.stack_id is None else "LogicalResourceId")
        return names.generation_prefix(self.stack_id, self.logical_id, self.properties)

    def answer_id(self, job: Optional[str]) -> str:
        """The physical id to answer with: the resource's when ``job`` exists, else the fallback."""
        if job is None:
            return self.fallback_id
        LOG.info("labeling job %s belongs to resource %s", job, self.resource_id)
        return self.resource_id


def _text(value: Any) -> Optional[str]:
    return None if value is None else str(value)


def parse(event: Mapping[str, Any]) -> Request:
    """The event as a Request; what is missing or malformed becomes None (or {}), for the lifecycle to judge."""
    properties = event.get("ResourceProperties")
    old = event.get("OldResourceProperties")
    return Request(
        kind=str(event.get("RequestType", "")),
        stack_id=_text(event.get("StackId")),
        logical_id=_text(event.get("LogicalResourceId")),
        request_id=_text(event.get("RequestId")),
        physical_id=_text(event.get("PhysicalResourceId")) or None,
        properties=properties if isinstance(properties, dict) else {},
        old_properties=old if isinstance(old, dict) else None,
        response_url=response_url(event.get("ResponseURL")),
    )


def response_url(url: Any) -> Optional[str]:
    """The event's pre-signed answer URL, or None when there is none that could be used."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("https", "http") and parts.netloc else None


# --- the answer --------------------------------------------------------------------------------------


def response_body(request: Request, status: str, physical_id: str, data: Dict[str, str], reason: str) -> bytes:
    """The answer, UTF-8, at most MAX_RESPONSE_BYTES: the reason is shortened to fit."""
    reason = reason.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot be sent

    def encode(text: str) -> bytes:
        document = {
            "Status": status,
            "Reason": text,
            "PhysicalResourceId": physical_id,
            "StackId": request.stack_id or "",
            "RequestId": request.request_id or "",
            "LogicalResourceId": request.logical_id or "",
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


def success(request: Request, job: Optional[str], data: Dict[str, str], reason: str = "OK") -> bytes:
    return response_body(request, "SUCCESS", request.answer_id(job), data, reason)


def failure(request: Request, error: Exception, log_stream: str) -> bytes:
    """The FAILED answer for ``error``, in the words a person acts on; logged as it is."""
    job: Optional[str] = None
    if isinstance(error, retry.JobFailed):
        job, error = error.job, error.error
    if isinstance(error, retry.JobError):
        LOG.error("%s", error)
        reason = str(error)
    elif isinstance(error, ClientError):
        code, message = retry.describe_error(error)
        LOG.error("%s: %s", code, message)
        reason = f"{error.operation_name}: {code}: {message}"
    elif isinstance(error, BotoCoreError):
        LOG.error("%s", error)
        reason = f"{type(error).__name__}: {error}"
    else:  # anything else must still reach CloudFormation
        LOG.error("unexpected error", exc_info=error)
        reason = f"{type(error).__name__}: {error}. See log stream {log_stream}"
    return response_body(request, "FAILED", request.answer_id(job), {}, reason)


def deliver(url: str, body: bytes, deadline: retry.Deadline) -> None:
    """PUT the answer to CloudFormation, retrying the same body until the Lambda's end."""

    def put(left: float) -> int:
        request = urllib.request.Request(
            url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
        )
        with urllib.request.urlopen(request, timeout=min(retry.RESPONSE_PUT_TIMEOUT_SECONDS, left)) as response:
            status: int = response.status
            return status

    try:
        status = retry.with_retries(deadline, "response PUT", put)
        LOG.info("CloudFormation response sent (HTTP %s)", status)
    except (retry.JobError, urllib.error.URLError, OSError, ValueError) as error:
        LOG.error("CloudFormation response could not be delivered: %s", error)

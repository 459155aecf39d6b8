"""CloudFormation custom resource for a SageMaker Ground Truth streaming labeling job.

One Lambda serves every job in a stack and answers CloudFormation itself (no
provider framework), so that an error reaches the stack within seconds.
Standard library and boto3 only. ``index.handler`` is the entry point; Lambda
puts this folder on ``sys.path``, so its modules import each other as
top-level modules. Like aws-cdk-lib's provider framework (``cfn-response``,
``util``, ``framework``), the handler is in parts, each with its contract:

* ``protocol``: the event parsed once into a ``Request``; the one answer, its
  physical id (the safe fallback until a job exists), its 4,096-byte limit and
  its delivery.
* ``retry``: ``Deadline``, the one retry policy (``with_retries``), clients with
  fitted timeouts, the one polling helper, and the seams tests set.
* ``lifecycle``: Create, Update and Delete, each returning a result or raising
  an error that names the job once one exists; ``names`` (a resource's name
  sequence and the job's identity), ``jobs`` (SageMaker), ``queues`` (the
  queues the service leaves); ``renewal``: a new generation after an idle stop.
* ``shared``: what the command line uses too (tags, job statuses, error codes,
  ``split_s3_uri``), standard library only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Dict

if TYPE_CHECKING:  # mypy reads the asset as the package streaming_labeling.handler
    from streaming_labeling.handler import lifecycle, protocol, renewal, retry
else:  # Lambda puts the asset folder on sys.path: its modules are top-level
    import lifecycle
    import protocol
    import renewal
    import retry

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)


def handler(event: Dict[str, Any], context: Any) -> None:
    if event.get("detail-type") == renewal.STATE_CHANGE:  # the stack's EventBridge rule, not CloudFormation
        renewal.renew(event, context)
        return
    request = protocol.parse(event)
    LOG.info("%s %s (physical id %s)", request.kind, request.logical_id, request.physical_id)
    if request.response_url is None:
        # No answer could reach CloudFormation: a job made now would be known to nobody.
        LOG.error("the event has no usable ResponseURL (%r): nothing is done", event.get("ResponseURL"))
        return
    deadline = retry.Deadline(context, retry.SAFETY_MARGIN_SECONDS)
    try:
        result = lifecycle.run(request, deadline)
        body = protocol.success(request, result.job, result.data, result.reason)
    except lifecycle.StaleEvent as error:
        LOG.warning("%s", error)
        return
    except Exception as error:  # noqa: BLE001 - anything must still reach CloudFormation
        body = protocol.failure(request, error, str(getattr(context, "log_stream_name", "?")))
    protocol.deliver(request.response_url, body, retry.Deadline(context, retry.RESPONSE_MARGIN_SECONDS))

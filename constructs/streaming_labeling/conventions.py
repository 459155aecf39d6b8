"""Names the construct, the command line and Ground Truth agree on; no aws-cdk-lib import, so the CLI can use it.

The tag names and the queue prefix are the handler asset's (``handler/shared.py``, standard library
only): the handler reads them there, this module and the command line import the same file.
"""

from .handler.shared import (
    INPUT_BUCKET_TAG,
    QUEUE_PREFIX,
    RESERVED_TAG_PREFIX,
    RESOURCE_TAG,
    STACK_TAG,
    STOPPED_BY_TAG,
    SUBSCRIBED_AT_TAG,
)

__all__ = [
    "INPUT_BUCKET_TAG",
    "LIBRARY_TAGS",
    "QUEUE_PREFIX",
    "RESERVED_TAG_PREFIX",
    "RESOURCE_TAG",
    "STACK_TAG",
    "STOPPED_BY_TAG",
    "SUBSCRIBED_AT_TAG",
]

#: The library's own tags on a job at most (input bucket, stack, resource, stopped-by, subscribed-at);
#: SageMaker allows 50.
LIBRARY_TAGS = 5

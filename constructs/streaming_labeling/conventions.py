"""Names the construct, the command line and Ground Truth agree on; no aws-cdk-lib import, so the CLI can use it."""

#: The queue Ground Truth creates for a streaming job: ``GroundTruth-<job name in lowercase>``.
QUEUE_PREFIX = "GroundTruth-"
#: Tag on each job naming its input bucket, where the command line finds it.
INPUT_BUCKET_TAG = "streaming-labeling:input-bucket"
#: Tag the handler sets on each job it creates or keeps, valued with the stack id; the handler's
#: stack-wide policy may stop jobs with it (``handler/index.py`` holds its own copy: the asset is standalone).
STACK_TAG = "streaming-labeling:stack"
#: Tag keys the library sets itself; a user's tag may not start with this.
RESERVED_TAG_PREFIX = "streaming-labeling:"
#: Tag the handler sets on each job naming its resource (the physical id shared by its generations).
RESOURCE_TAG = "streaming-labeling:resource"
#: Tag set before a stop that must not be renewed, valued ``cloudformation`` or ``cli``.
STOPPED_BY_TAG = "streaming-labeling:stopped-by"
#: Tag on a renewed job: when its queue was seen subscribed to the input topic (epoch seconds).
SUBSCRIBED_AT_TAG = "streaming-labeling:subscribed-at"
#: The library's own tags on a job at most (input bucket, stack, resource, stopped-by, subscribed-at);
#: SageMaker allows 50.
LIBRARY_TAGS = 5

"""Names the construct, the command line and Ground Truth agree on; no aws-cdk-lib import, so the CLI can use it."""

#: The queue Ground Truth creates for a streaming job: ``GroundTruth-<job name in lowercase>``.
QUEUE_PREFIX = "GroundTruth-"
#: Tag on each job naming its input bucket, where the command line finds it.
INPUT_BUCKET_TAG = "streaming-labeling:input-bucket"

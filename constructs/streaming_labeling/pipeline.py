"""Chaining: a job whose data objects are another job's labeled output.

AWS's "chained streaming labeling job" example subscribes the second job to the
first job's output topic. Each output message is a manifest line pointing at
the first job's input object (``source-ref``) and carrying its labels (and, for
semantic segmentation, a mask in its output bucket), so the second job's role
must read both buckets and use the first job's key, and the workers' browsers
must be allowed (CORS) to load those objects.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping, Optional, Sequence, Set, Tuple

from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from .compliance import WARNING_UPSTREAM_CORS, warn
from .policies import Statements, combine, statement

_BOX = ("BOUNDING_BOX", "ADJUSTMENT_BOUNDING_BOX")
_MASK = ("SEMANTIC_SEGMENTATION", "ADJUSTMENT_SEMANTIC_SEGMENTATION")

#: Review task types and the task types whose labels they can review.
REVIEW_SOURCES: Mapping[str, Tuple[str, ...]] = MappingProxyType({
    "VERIFICATION_BOUNDING_BOX": _BOX,
    "ADJUSTMENT_BOUNDING_BOX": _BOX,
    "VERIFICATION_SEMANTIC_SEGMENTATION": _MASK,
    "ADJUSTMENT_SEMANTIC_SEGMENTATION": _MASK,
    "ADJUSTMENT_VIDEO_OBJECT_DETECTION": ("VIDEO_OBJECT_DETECTION", "ADJUSTMENT_VIDEO_OBJECT_DETECTION"),
    "ADJUSTMENT_VIDEO_OBJECT_TRACKING": ("VIDEO_OBJECT_TRACKING", "ADJUSTMENT_VIDEO_OBJECT_TRACKING"),
    "ADJUSTMENT_POINT_CLOUD_3D_OBJECT_DETECTION": (
        "POINT_CLOUD_3D_OBJECT_DETECTION", "ADJUSTMENT_POINT_CLOUD_3D_OBJECT_DETECTION"),
    "ADJUSTMENT_POINT_CLOUD_3D_OBJECT_TRACKING": (
        "POINT_CLOUD_3D_OBJECT_TRACKING", "ADJUSTMENT_POINT_CLOUD_3D_OBJECT_TRACKING"),
    "ADJUSTMENT_POINT_CLOUD_3D_SEMANTIC_SEGMENTATION": (
        "POINT_CLOUD_3D_SEMANTIC_SEGMENTATION", "ADJUSTMENT_POINT_CLOUD_3D_SEMANTIC_SEGMENTATION"),
})


def upstream_statements(
    *, input_bucket_arn: Optional[str], output_bucket_arn: str, output_prefixes: Sequence[str],
    key_arn: Optional[str],
) -> Statements:
    """What a chained job's role reads of its upstream job: what the upstream job's output messages point at
    (its input objects and its labels, masks), decrypted with its key (``key_arn``: None when the two jobs
    share one, which ``UseKey`` covers)."""
    objects = [f"{input_bucket_arn}/*"] if input_bucket_arn else []
    objects += [f"{output_bucket_arn}/{prefix}*" for prefix in output_prefixes]
    parts = [statement("ReadUpstreamObjects", ["s3:GetObject"], objects, wildcard_reason="object-keys")]
    if key_arn:
        parts.append(statement("UseUpstreamKey", ["kms:Decrypt", "kms:DescribeKey"], [key_arn]))
    return combine(parts)


def open_bucket_to_workers(requester: IConstruct, bucket: s3.IBucket, rule: s3.CorsRule, opened: Set[str]) -> None:
    """Workers' browsers load an upstream job's objects: its bucket gets the CORS rule the UI needs, once.

    A bucket the library did not create cannot be changed here; a warning on ``requester`` says what to add.
    ``opened`` holds the node paths of buckets already given the rule (the upstream job's own memory).
    """
    if isinstance(bucket, s3.Bucket):
        path = bucket.node.path
        if path not in opened:
            opened.add(path)
            bucket.add_cors_rule(
                allowed_methods=list(rule.allowed_methods), allowed_origins=list(rule.allowed_origins),
                exposed_headers=list(rule.exposed_headers or []),
            )
    else:
        warn(requester, WARNING_UPSTREAM_CORS, bucket=bucket.node.path)

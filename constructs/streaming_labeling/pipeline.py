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
from typing import List, Mapping, Optional, Sequence, Set, Tuple

from aws_cdk import Stack, Token
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from .compliance import WARNING_UPSTREAM_CORS, warn
from .policies import Statements, combine, statement
from .task_types import TaskType

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


def check_pairing(downstream: TaskType, upstream: TaskType) -> List[str]:
    """A synth error for a pairing AWS does not support; custom task types pair with anything."""
    if downstream.is_custom or upstream.is_custom:
        return []
    sources = REVIEW_SOURCES.get(downstream.name)
    if sources is not None and upstream.name not in sources:
        return [
            f"input_from: task type {downstream.name} reviews the labels of {' or '.join(sources)} jobs; "
            f"the upstream job is {upstream.name}"
        ]
    if sources is None and downstream.modality is not upstream.modality:
        return [
            f"input_from: task type {downstream.name} labels {downstream.modality.value} objects; the upstream "
            f"job ({upstream.name}) passes on {upstream.modality.value} objects"
        ]
    return []


def check_chained_props(*, input_from: object, existing_input_topic: object, input_topic_props: object,
                        send_uploads_to_input_topic: Optional[bool]) -> List[str]:
    if input_from is None:
        return []
    errors = []
    if existing_input_topic is not None or input_topic_props is not None:
        errors.append("input_from: the job's input topic is the upstream job's output topic; "
                      "existing_input_topic and input_topic_props are not allowed with it")
    if send_uploads_to_input_topic:
        errors.append("send_uploads_to_input_topic: not allowed with input_from; the upstream job's output topic "
                      "is not this job's to publish uploads to")
    return errors


def check_same_environment(upstream_path: str, upstream_env: Tuple[str, str], env: Tuple[str, str]) -> List[str]:
    """Ground Truth takes input topics of the job's own region; the upstream job's resources are referenced.

    ``*_env`` are ``(account, region)`` of the two stacks, tokens for environment-agnostic stacks.
    aws-cdk-lib cannot reference resources across environments (its error is about a bucket's physical
    name), so a difference is reported here, naming ``input_from``.
    """
    (up_account, up_region), (account, region) = upstream_env, env
    up_known = (not Token.is_unresolved(up_account), not Token.is_unresolved(up_region))
    known = (not Token.is_unresolved(account), not Token.is_unresolved(region))
    if up_known[1] and known[1] and up_region != region:
        return [
            f"input_from: the upstream job {upstream_path} is in {up_region}, this job's stack in {region}; "
            f"Ground Truth requires the input topic in the job's own region (allowed: an upstream job in {region})"
        ]
    if up_known[0] and known[0] and up_account != account:
        return [
            f"input_from: the upstream job {upstream_path} is in account {up_account}, this job's stack in account "
            f"{account}; the upstream job's topic, buckets and key are referenced from this stack, which aws-cdk-lib "
            f"cannot do across accounts (allowed: an upstream job in {account})"
        ]
    if up_known != known:
        def shown(account_: str, region_: str) -> str:
            return "/".join(part if not Token.is_unresolved(part) else "(agnostic)" for part in (account_, region_))

        return [
            f"input_from: the upstream job {upstream_path} is in the environment {shown(up_account, up_region)}, "
            f"this job's stack in {shown(account, region)}; give both stacks the same env (account and region): "
            "Ground Truth requires the input topic in the job's own region"
        ]
    return []


def other_environment_errors(upstream: IConstruct, stack: Stack) -> List[str]:
    """Known before anything is built: aws-cdk-lib would fail resolving a cross-environment reference."""
    upstream_stack = Stack.of(upstream)
    return check_same_environment(
        upstream.node.path, (upstream_stack.account, upstream_stack.region), (stack.account, stack.region)
    )[:1]


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


def imported_upstream_errors(
    upstream_path: str, task_type: TaskType, upstream_task_type: Optional[TaskType], *,
    labels_given: bool, upstream_labels: Sequence[str], source_label_attribute_name: Optional[str],
    upstream_label_attribute_name: Optional[str],
) -> List[str]:
    """What a job chained to an imported job needs that ``from_job_attributes`` was not given."""
    errors = []
    if upstream_task_type is None and not task_type.is_custom:
        errors.append(f"input_from: the imported job {upstream_path} was given no task_type; pass "
                      "task_type= to from_job_attributes, so that the pairing of the two jobs can be checked")
    if task_type.is_adjustment_or_verification:
        if source_label_attribute_name is None and upstream_label_attribute_name is None:
            errors.append(f"input_from: the imported job {upstream_path} was given no label_attribute_name, "
                          f"which task type {task_type.name} reviews; pass label_attribute_name= to "
                          "from_job_attributes, or source_label_attribute_name= to this job")
        if not labels_given and not upstream_labels:
            errors.append(f"input_from: the imported job {upstream_path} was given no labels, which task type "
                          f"{task_type.name} reviews; pass labels= to from_job_attributes or to this job")
    return errors

"""The props of a StreamingLabelingJob resolved into one frozen plan, validated in one place.

``resolve_plan`` is pure: it reads the props, the stack's environment and what ``input_from``
supplies, and returns every default and derived choice the builders act on, with the synth
errors of the props. The constructor builds from the plan and resolves nothing itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, List, Optional, Tuple

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from .job_props import JobProps
from .state import StackEnvironment
from .storage import FULL_CORS, IMAGE_CORS
from .task_types import InputModality
from .validation import (
    MAX_JOB_NAME_PREFIX_LENGTH,
    JobSettings,
    check_chained_props,
    check_exclusive,
    check_input_bucket,
    check_pairing,
    default_label_attribute_name,
    imported_upstream_errors,
    job_durations,
    manifest_object_arn,
    region_errors,
    validate_job_settings,
)
from .worker_ui import LabelFileFeatures

if TYPE_CHECKING:
    from .base import IStreamingLabelingJob

DEFAULT_TASK_TIME_LIMIT = Duration.minutes(5)


def default_job_name_prefix(construct_id: str) -> str:
    """``"Animals Job"`` -> ``"animals-job"``: the id, in the job-name alphabet."""
    slug = re.sub(r"[^a-z0-9]+", "-", construct_id.lower()).strip("-")
    return slug[:MAX_JOB_NAME_PREFIX_LENGTH].strip("-") or "labeling-job"


@dataclass(frozen=True)
class JobPlan:
    """Everything the builders act on: the props with their defaults, and the choices derived from them."""

    props: JobProps
    settings: JobSettings
    #: ``job_name_prefix`` as given or defaulted, and in lowercase (names, ARN patterns).
    job_name_prefix: str
    prefix: str
    labels: Tuple[str, ...]
    label_attribute_name: str
    upstream: Optional[IStreamingLabelingJob]
    wants_input_bucket: bool
    #: The construct creates a data bucket, so it logs access to the access-log bucket.
    creates_a_bucket: bool
    uploads_published_to_input_topic: bool
    destroy: bool
    imported_key: bool
    input_cors: Tuple[s3.CorsRule, ...]
    output_cors: Tuple[s3.CorsRule, ...]
    #: The CORS rule a chained job's workers need on the upstream job's buckets; None for text objects.
    upstream_cors: Optional[s3.CorsRule]
    manifest_object_arn: Optional[str]
    invoked_function_arns: Tuple[str, ...]
    errors: Tuple[str, ...] = field(default=())


def _settings(props: JobProps, env: StackEnvironment, *, labels: List[str], job_name_prefix: str,
              label_attribute_name: str, source_label_attribute_name: Optional[str], time_limit: int,
              availability: Optional[int]) -> JobSettings:
    return JobSettings(
        props=props,
        labels=labels,
        job_name_prefix=job_name_prefix,
        label_attribute_name=label_attribute_name,
        source_label_attribute_name=source_label_attribute_name,
        task_time_limit_seconds=time_limit,
        task_availability_lifetime_seconds=availability,
        region=None if env.region_is_token else env.region,
        features=LabelFileFeatures(
            label_attributes=MappingProxyType(dict(props["label_attributes"] or {})),
            global_label_attributes=tuple(props["global_label_attributes"] or ()),
            frame_attributes=tuple(props["frame_attributes"] or ()),
            annotation_type=props["annotation_type"],
            locked_labels=tuple(props["locked_labels"] or ()),
        ),
    )


def resolve_plan(construct_id: str, props: JobProps, env: StackEnvironment, *,
                 imported_upstream: bool = False) -> JobPlan:
    """The plan of one job; ``imported_upstream``: ``input_from`` came from ``from_job_attributes``."""
    task_type, upstream = props["task_type"], props["input_from"]
    labels = list(props["labels"] or ())
    labels_given = bool(labels)
    source_label_attribute_name = props["source_label_attribute_name"]
    errors: List[str] = []
    if upstream is not None:  # what input_from supplies
        if not labels and task_type.is_adjustment_or_verification:
            labels = list(upstream.labels)
        if source_label_attribute_name is None:
            source_label_attribute_name = upstream.label_attribute_name
        if imported_upstream:
            errors += imported_upstream_errors(
                upstream.node.path, task_type, upstream.task_type, labels_given=labels_given,
                upstream_labels=upstream.labels, source_label_attribute_name=props["source_label_attribute_name"],
                upstream_label_attribute_name=upstream.label_attribute_name,
            )
    job_name_prefix = (props["job_name_prefix"] if props["job_name_prefix"] is not None
                       else default_job_name_prefix(construct_id))
    label_attribute_name = (props["label_attribute_name"] if props["label_attribute_name"] is not None
                            else default_label_attribute_name(job_name_prefix, task_type))
    time_limit, availability, duration_errors = job_durations(
        props["task_time_limit"] or DEFAULT_TASK_TIME_LIMIT, props["task_availability_lifetime"]
    )
    settings = _settings(props, env, labels=labels, job_name_prefix=job_name_prefix,
                         label_attribute_name=label_attribute_name,
                         source_label_attribute_name=source_label_attribute_name, time_limit=time_limit,
                         availability=availability)
    create_input_bucket = props["create_input_bucket"]
    if create_input_bucket is None:  # a chained job's objects live in the upstream job's buckets
        create_input_bucket = task_type.accepts_s3_event_input and upstream is None
    send_uploads = props["send_uploads_to_input_topic"]
    if send_uploads is None:  # a chained job's input topic is the upstream job's
        send_uploads = (task_type.accepts_s3_event_input and props["existing_input_bucket"] is None
                        and bool(create_input_bucket) and upstream is None)
    errors += duration_errors + validate_job_settings(settings) + check_exclusive(props, [
        ("existing_input_topic", "input_topic_props"),
        ("existing_output_topic", "output_topic_props"),
        ("existing_input_bucket", "input_bucket_props"),
        ("existing_output_bucket", "output_bucket_props"),
        ("existing_encryption_key", "encryption_key_props"),
    ])
    errors += check_input_bucket(
        task_type,
        create_input_bucket=create_input_bucket,
        existing_input_bucket=props["existing_input_bucket"] is not None,
        input_bucket_props=props["input_bucket_props"] is not None,
        send_uploads_to_input_topic=send_uploads,
    )
    errors += check_chained_props(
        input_from=upstream, existing_input_topic=props["existing_input_topic"],
        input_topic_props=props["input_topic_props"], send_uploads_to_input_topic=send_uploads,
    )
    if upstream is not None and upstream.task_type is not None:
        errors += check_pairing(task_type, upstream.task_type)
    if not task_type.is_custom:
        errors += region_errors(None if env.region_is_token else env.region, props["built_in_lambda_accounts"])
    wants_input_bucket = props["existing_input_bucket"] is not None or bool(create_input_bucket)
    full_cors = task_type.needs_full_cors
    return JobPlan(
        props=props,
        settings=settings,
        job_name_prefix=job_name_prefix,
        prefix=job_name_prefix.lower(),
        labels=tuple(labels),
        label_attribute_name=label_attribute_name,
        upstream=upstream,
        wants_input_bucket=wants_input_bucket,
        creates_a_bucket=props["existing_output_bucket"] is None or (
            wants_input_bucket and props["existing_input_bucket"] is None),
        uploads_published_to_input_topic=(wants_input_bucket and bool(send_uploads)
                                          and task_type.accepts_s3_event_input),
        destroy=props["removal_policy"] == RemovalPolicy.DESTROY,
        imported_key=(props["existing_encryption_key"] is not None
                      and not isinstance(props["existing_encryption_key"], kms.Key)),
        input_cors=(FULL_CORS,) if full_cors else (IMAGE_CORS,),
        output_cors=(FULL_CORS,) if full_cors else (),
        upstream_cors=None if task_type.modality is InputModality.TEXT else (FULL_CORS if full_cors else IMAGE_CORS),
        manifest_object_arn=manifest_object_arn(env.pseudo.partition, props["initial_manifest_uri"]),
        invoked_function_arns=tuple(
            arn for arn in (task_type.custom_pre_annotation_lambda_arn, task_type.custom_consolidation_lambda_arn)
            if arn
        ),
        errors=tuple(errors),
    )

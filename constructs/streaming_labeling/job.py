"""StreamingLabelingJob: a running Ground Truth streaming labeling job from ``cdk deploy``.

The constructor is the wiring diagram: the props are resolved into one plan (``plan.py``),
then each concern is built by its own builder (``builders.py``, which calls encryption,
messaging, storage, execution_role, pipeline, job_handler, request and compliance) and
connected here. Grants, metrics, rules and alarms are in ``base.py``, shared with jobs
imported from another app (``from_job_attributes``).
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping, Optional, Sequence, Tuple, Unpack, cast

from aws_cdk import CustomResource, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .base import ImportedStreamingLabelingJob, IStreamingLabelingJob, StreamingLabelingJobBase
from .builders import (
    RESOURCE_TYPE,
    allow_handler,
    build_buckets,
    build_holding_queue_of,
    build_job_resource,
    build_key,
    build_permissions,
    build_topics,
    ordered_after,
)
from .compliance import (
    WARNING_IMPORTED_KEY,
    WARNING_PUBLIC_CROWD,
    WARNING_SERVICE_STATUS,
    acknowledge_stack_singletons,
    pin_security_flags,
    warn_job,
)
from .job_handler import JobHandler
from .job_props import JobProps, constructor_doc, constructor_signature, props_errors, with_defaults
from .monitoring import generation_matchers
from .plan import DEFAULT_TASK_TIME_LIMIT, JobPlan, default_job_name_prefix, resolve_plan
from .state import StackState, node_path
from .task_types import TaskType
from .validation import other_environment_errors, raise_for_errors
from .workforce import Workforce

#: Names this module had before the plan, builders and compliance modules took them.
__all__ = [
    "DEFAULT_TASK_TIME_LIMIT",
    "RESOURCE_TYPE",
    "WARNING_IMPORTED_KEY",
    "WARNING_PUBLIC_CROWD",
    "WARNING_SERVICE_STATUS",
    "IStreamingLabelingJob",
    "StreamingLabelingJob",
    "default_job_name_prefix",
]


def _preflight(scope: Construct, construct_id: str, given: Mapping[str, Any]) -> Tuple[Stack, StackState, JobPlan]:
    """The plan, or the props' errors raised before anything is built: through one channel, in two steps,
    since no rule can read a value of the wrong type."""
    def path() -> str:  # read for error messages only: a jsii round trip
        return f"{node_path(scope)}/{construct_id}".lstrip("/")

    raise_for_errors(path, props_errors(given))
    props = with_defaults(given)
    stack = Stack.of(scope)
    upstream = props["input_from"]
    if upstream is not None:  # before any of its resources is referenced
        raise_for_errors(path, other_environment_errors(cast(Construct, upstream), stack))
    state = StackState.of(stack)
    plan = resolve_plan(construct_id, props, state.env,
                        imported_upstream=isinstance(upstream, ImportedStreamingLabelingJob))
    raise_for_errors(path, plan.errors)
    return stack, state, plan


class StreamingLabelingJob(StreamingLabelingJobBase):
    """A SageMaker Ground Truth streaming labeling job with its topics, buckets, key and role.

    Publish data objects to ``input_topic`` (or upload them to ``input_bucket``
    for image, video and 3D tasks); labels arrive in ``output_bucket`` and on
    ``output_topic``. The job is created by a custom resource and stopped when
    the resource is deleted. Labeling jobs are immutable: a change to any job
    property replaces the job (a new name; the old job is stopped).
    """

    #: Deploy-time tokens: the generation that ran at the last deploy.
    job_name: str
    job_arn: str
    generation_arn_prefix: str
    job_name_prefix: str
    label_attribute_name: str
    labels: Tuple[str, ...]
    task_type: TaskType
    workforce: Workforce
    input_from: Optional[IStreamingLabelingJob]
    input_topic: sns.ITopic
    output_topic: sns.ITopic
    input_bucket: Optional[s3.IBucket]
    output_bucket: s3.IBucket
    encryption_key: kms.IKey
    access_logs_bucket: Optional[s3.IBucket]
    role: iam.IRole
    execution_policy: iam.ManagedPolicy
    handler_policy: iam.ManagedPolicy
    holding_queue: Optional[sqs.IQueue]
    #: ``s3://<output bucket>/labels/``, where the job writes its labels.
    output_s3_uri: str
    #: S3 object-created events of the input bucket reach the input topic (``send_uploads_to_input_topic``).
    uploads_published_to_input_topic: bool
    resource: CustomResource

    def __init__(self, scope: Construct, construct_id: str, **props: Unpack[JobProps]) -> None:
        # The signature and the docstring derive from the table (job_props.py), below the class.
        stack, state, plan = _preflight(scope, construct_id, props)
        super().__init__(scope, construct_id)
        pin_security_flags(self)
        self._describe(plan)
        handler = JobHandler.of(stack)

        # --- encryption, messaging, storage ---------------------------------------------
        self.encryption_key = key = build_key(self, plan)
        topics = build_topics(self, plan, key)
        self.input_topic, self.output_topic = topics.input, topics.output
        buckets = build_buckets(self, plan, key, topics, handler, state)
        self.input_bucket, self.output_bucket = buckets.input, buckets.output
        self.access_logs_bucket = buckets.access_logs

        # --- permissions (chaining included), renewal, the handler's share ----------------
        permissions = build_permissions(self, plan, key, topics, buckets, state)
        self.role, self.execution_policy = permissions.role, permissions.execution_policy
        self.output_s3_uri = permissions.wiring.output_s3_uri
        holding = build_holding_queue_of(self, plan, key, topics, handler, state)
        self.holding_queue = holding.queue if holding is not None else None
        self.handler_policy = allow_handler(plan, handler, permissions, topics, holding, state)

        # --- the job: started after every permission, policy and notification it needs exists, stopped
        # before any of them is deleted and before a DESTROY empties its buckets -------------------------
        self.resource = build_job_resource(self, plan, stack, state, handler, permissions.wiring,
                                           holding)
        self.resource.node.add_dependency(self.execution_policy, self.handler_policy, handler.logs_policy,
                                          handler.stack_jobs_policy, *ordered_after(plan, buckets))
        self.job_name = self.resource.get_att_string("JobName")
        self.job_arn = self.resource.get_att_string("JobArn")
        #: ``arn:...:labeling-job/<prefix>-<scope>``: every generation's ARN starts with it, no other job's does.
        self.generation_arn_prefix = self.resource.get_att_string("GenerationArnPrefix")

        # --- compliance ------------------------------------------------------------------
        warn_job(self, stack, state, public_crowd=plan.props["workforce"].is_public,
                 imported_key=plan.imported_key and plan.uploads_published_to_input_topic)
        acknowledge_stack_singletons(stack, state, destroy=plan.destroy,
                                     sends_uploads=plan.uploads_published_to_input_topic)

    __init__.__signature__ = constructor_signature()  # type: ignore[attr-defined]
    __init__.__doc__ = constructor_doc("A job, its topics, buckets, key and role (see the class docstring).")

    def _generations(self) -> list[str]:
        """Every generation of this resource (the ARN prefix with its scope, which the handler answers) and
        the job that ran at the last deploy (a job started before protocol 3 has no scope in its name)."""
        return generation_matchers([self.generation_arn_prefix], [self.job_arn])

    def _describe(self, plan: JobPlan) -> None:
        """The plan's attributes of the job."""
        self.task_type, self.workforce, self.labels = plan.props["task_type"], plan.props["workforce"], plan.labels
        self.job_name_prefix, self.label_attribute_name = plan.job_name_prefix, plan.label_attribute_name
        self.input_from = plan.upstream
        self.uploads_published_to_input_topic = plan.uploads_published_to_input_topic

    @property
    def sends_uploads_to_input_topic(self) -> bool:
        """Deprecated: ``uploads_published_to_input_topic`` (the prop ``send_uploads_to_input_topic`` asks for it)."""
        warnings.warn("StreamingLabelingJob.sends_uploads_to_input_topic is deprecated; use "
                      "uploads_published_to_input_topic", DeprecationWarning, stacklevel=2)
        return self.uploads_published_to_input_topic

    @staticmethod
    def from_job_attributes(
        scope: Construct,
        construct_id: str,
        *,
        job_name: str,
        input_topic: sns.ITopic,
        output_topic: sns.ITopic,
        output_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        input_bucket: Optional[s3.IBucket] = None,
        task_type: Optional[TaskType] = None,
        labels: Sequence[str] = (),
        label_attribute_name: Optional[str] = None,
    ) -> IStreamingLabelingJob:
        """A job deployed by another app or stack, for grants, metrics, rules, alarms and ``input_from``.

        :param job_name: the deployed job's name (its ``JobName`` output). A name the library generated,
            ``<prefix>-<12 hex>``, lets rules and alarms follow every generation of the job.
        :param input_topic: / ``output_topic`` / ``output_bucket`` / ``encryption_key``: the job's resources,
            e.g. ``sns.Topic.from_topic_arn``, ``s3.Bucket.from_bucket_name``, ``kms.Key.from_key_arn``.
        :param input_bucket: the job's input bucket, if it has one. Default: none.
        :param task_type: the job's task type; required by a job chained to it (the pairing check),
            unless that job's task type is custom. Default: unknown.
        :param labels: the job's labels, which a review job chained to it defaults to. Default: none.
        :param label_attribute_name: the job's label attribute, which a review job chained to it reviews.
            Default: unknown.
        """
        return ImportedStreamingLabelingJob(
            scope, construct_id, job_name=job_name, input_topic=input_topic, output_topic=output_topic,
            output_bucket=output_bucket, encryption_key=encryption_key, input_bucket=input_bucket,
            task_type=task_type, labels=labels, label_attribute_name=label_attribute_name,
        )

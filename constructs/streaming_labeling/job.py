"""StreamingLabelingJob: a running Ground Truth streaming labeling job from ``cdk deploy``.

The constructor is the wiring diagram: the props are resolved into one plan (``plan.py``),
then each concern is built by its own builder (``builders.py``, which calls encryption,
messaging, storage, execution_role, pipeline, job_handler, request and compliance) and
connected here. Grants, metrics, rules and alarms are in ``base.py``, shared with jobs
imported from another app (``from_job_attributes``).
"""

from __future__ import annotations

import warnings
from typing import List, Mapping, Optional, Sequence, Tuple, cast

import jsii
from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IValidation

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
from .monitoring import generation_matchers
from .pipeline import raise_for_other_environment
from .plan import DEFAULT_TASK_TIME_LIMIT, JobPlan, JobProps, default_job_name_prefix, resolve_plan
from .state import StackState, node_path
from .task_types import TaskType
from .validation import raise_for_prop_types
from .worker_ui import DEFAULT_VERIFICATION_CATEGORIES, LabelAttribute, VideoAnnotationType
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


@jsii.implements(IValidation)
class _PropsValidation:
    """Reports the props' errors when the app is synthesized."""

    def __init__(self, errors: Sequence[str]) -> None:
        self._errors = list(errors)

    def validate(self) -> List[str]:
        return list(self._errors)


def _preflight(scope: Construct, construct_id: str, props: JobProps) -> Tuple[Stack, StackState]:
    """Raised before anything is built: props of the wrong type, an upstream job of another environment."""
    def path() -> str:  # read for error messages only: a jsii round trip
        return f"{node_path(scope)}/{construct_id}".lstrip("/")

    raise_for_prop_types(path, props.__dict__)  # before any value is used
    stack = Stack.of(scope)
    if props.input_from is not None:  # before any of its resources is referenced
        raise_for_other_environment(path(), cast(Construct, props.input_from), stack)
    return stack, StackState.of(stack)


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

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        task_type: TaskType,
        workforce: Workforce,
        task_title: str,
        task_description: str,
        labels: Optional[Sequence[str]] = None,
        instructions: Optional[str] = None,
        full_instructions: Optional[str] = None,
        exclusion_category: Optional[str] = None,
        verification_categories: Sequence[str] = DEFAULT_VERIFICATION_CATEGORIES,
        label_attributes: Optional[Mapping[str, Sequence[LabelAttribute]]] = None,
        global_label_attributes: Optional[Sequence[LabelAttribute]] = None,
        frame_attributes: Optional[Sequence[LabelAttribute]] = None,
        annotation_type: Optional[VideoAnnotationType] = None,
        locked_labels: Optional[Sequence[str]] = None,
        task_keywords: Optional[Sequence[str]] = None,
        workers_per_object: int = 1,
        task_time_limit: Optional[Duration] = None,
        task_availability_lifetime: Optional[Duration] = None,
        max_concurrent_tasks: Optional[int] = None,
        label_attribute_name: Optional[str] = None,
        source_label_attribute_name: Optional[str] = None,
        input_from: Optional[IStreamingLabelingJob] = None,
        job_name_prefix: Optional[str] = None,
        initial_manifest_uri: Optional[str] = None,
        tags: Optional[Mapping[str, str]] = None,
        send_uploads_to_input_topic: Optional[bool] = None,
        create_input_bucket: Optional[bool] = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        renew_after_idle_stop: bool = True,
        existing_input_topic: Optional[sns.ITopic] = None,
        input_topic_props: Optional[sns.TopicProps] = None,
        existing_output_topic: Optional[sns.ITopic] = None,
        output_topic_props: Optional[sns.TopicProps] = None,
        existing_input_bucket: Optional[s3.IBucket] = None,
        input_bucket_props: Optional[s3.BucketProps] = None,
        existing_output_bucket: Optional[s3.IBucket] = None,
        output_bucket_props: Optional[s3.BucketProps] = None,
        existing_encryption_key: Optional[kms.IKey] = None,
        encryption_key_props: Optional[kms.KeyProps] = None,
        existing_role: Optional[iam.IRole] = None,
        access_logs_bucket: Optional[s3.IBucket] = None,
        built_in_lambda_accounts: Optional[Mapping[str, str]] = None,
    ) -> None:
        """
        :param task_type: a built-in ``TaskType`` member or ``TaskType.custom(...)``.
        :param workforce: ``Workforce.private(arn)``, ``Workforce.vendor(arn)`` or ``Workforce.public(...)``.
        :param task_title: shown to workers in the task list (1-128 characters).
        :param task_description: shown to workers (1-255 characters).
        :param labels: the label categories. Required for built-in task types.
        :param instructions: short instructions in the worker UI (and in the label-category file of NER,
            video frame and 3D jobs). A ``str`` is shown as text; ``TrustedHtml("<ol>...</ol>")`` is inserted as
            HTML. Default: the task title.
        :param full_instructions: full instructions, text or ``TrustedHtml``. Default: ``instructions``.
        :param exclusion_category: the "none of the above" choice of multi-label classification UIs
            (``exclusion-category``). Default: none.
        :param verification_categories: the choices of a verification job's workers; the labels under review
            are shown over the image. Default: ``("Correct", "Incorrect")``.
        :param label_attributes: label -> ``LabelAttribute`` list (``categoryAttributes``), for video frame and
            3D point cloud object detection and tracking. Default: none.
        :param global_label_attributes: attributes of every label (``categoryGlobalAttributes``), same types.
        :param frame_attributes: attributes of each frame or point cloud (``frameAttributes``), for video
            frame and 3D point cloud types. Default: none.
        :param annotation_type: what workers draw in video frame jobs (``annotationType``).
            Default: the service's, bounding boxes.
        :param locked_labels: labels workers may not edit in a video frame or 3D point cloud adjustment job
            (``editsAllowed: none``). Default: none.
        :param task_keywords: 1-5 keywords workers can search for. Default: none.
        :param workers_per_object: workers who label each object (1-9). Default: 1.
        :param task_time_limit: time a worker has for one task. Default: 5 minutes.
        :param task_availability_lifetime: time a task stays available to workers.
            Default: the service's default.
        :param max_concurrent_tasks: objects out with workers at once (1-5000). Default: the service's, 1000.
        :param label_attribute_name: key of the labels in output records. Default: ``job_name_prefix``,
            with ``-ref`` appended for task types that require it.
        :param source_label_attribute_name: for verification and adjustment types, the label attribute
            of the job whose labels workers review; shown in the generated template. Default: none.
        :param input_from: an upstream job whose output topic is this job's data source (AWS's chained
            streaming labeling job): a ``StreamingLabelingJob`` or one of ``from_job_attributes``. This job's
            role may subscribe to that topic, use its key and read the objects its messages point at; its
            output bucket gets the CORS rule workers' browsers need (an imported bucket: a warning).
            ``source_label_attribute_name`` defaults to the upstream job's ``label_attribute_name``, and
            ``labels`` of review types to the upstream job's labels. Default: none.
        :param job_name_prefix: start of the generated job name ``<prefix>-<12 hex>`` (1-50 characters).
            Default: the construct id in lowercase.
        :param initial_manifest_uri: ``s3://`` URI of a manifest of objects to label at start. Default: none.
        :param tags: tags of the labeling job. Default: none.
        :param send_uploads_to_input_topic: publish S3 object-created events of the input bucket to the
            input topic. Default: true for non-text task types when this construct creates the input bucket.
        :param create_input_bucket: create an input bucket for data objects sent as ``source-ref``.
            Default: true, except for text task types, which take only inline ``{"source": ...}`` objects.
        :param renew_after_idle_stop: when Ground Truth stops the job for 10 idle days, start the next
            generation of its name from the same request, within minutes and without a deploy; what is
            published while no job listens waits in a holding queue of the construct's own and reaches the
            successor. Stops by CloudFormation, by ``streaming-labeling stop`` or by a person while the job
            was busy are never renewed, nor a Failed job. Default: true.
        :param removal_policy: what happens to the buckets and key when the stack is deleted.
            Default: RETAIN. DESTROY empties and deletes them, after the job has reached Stopped.
        :param existing_input_topic: your own input topic instead of a new one.
        :param input_topic_props: props of the new input topic; every field reaches the topic, except that
            the job's key, SSL-only publishing and a standard (not FIFO) topic are enforced, with a warning
            ``streaming-labeling:OverriddenProp:<prop>.<field>`` for each value replaced.
        :param existing_output_topic: your own output topic instead of a new one.
        :param output_topic_props: props of the new output topic.
        :param existing_input_bucket: your own input bucket instead of a new one.
        :param input_bucket_props: props of the new input bucket; every field reaches the bucket. Default:
            versioned, access-logged. Enforced (with a warning for each value replaced): SSE-KMS with the job's
            key, all public access blocked, SSL only, ACLs disabled.
        :param existing_output_bucket: your own output bucket instead of a new one.
        :param output_bucket_props: props of the new output bucket.
        :param existing_encryption_key: your own KMS key instead of a new one.
        :param encryption_key_props: props of the new key; every field reaches the key. Enforced: rotation
            on, a symmetric encryption key.
        :param existing_role: your own execution role; the job's statements are attached to it.
        :param access_logs_bucket: where new data buckets write access logs. Default: one bucket per stack.
        :param built_in_lambda_accounts: region -> account of the built-in task Lambdas.
            Default: the twelve regions listed in the SageMaker API reference.
        """
        props = JobProps.of(locals())
        stack, state = _preflight(scope, construct_id, props)
        super().__init__(scope, construct_id)
        pin_security_flags(self)
        plan = resolve_plan(construct_id, props, state.env,
                            imported_upstream=isinstance(input_from, ImportedStreamingLabelingJob))
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
        warn_job(self, stack, state, public_crowd=plan.props.workforce.is_public,
                 imported_key=plan.imported_key and plan.uploads_published_to_input_topic)
        acknowledge_stack_singletons(stack, state, destroy=plan.destroy,
                                     sends_uploads=plan.uploads_published_to_input_topic)
        if plan.errors:
            self.node.add_validation(_PropsValidation(plan.errors))

    def _generations(self) -> list[str]:
        """Every generation of this resource (the ARN prefix with its scope, which the handler answers) and
        the job that ran at the last deploy (a job started before protocol 3 has no scope in its name)."""
        return generation_matchers([self.generation_arn_prefix], [self.job_arn])

    def _describe(self, plan: JobPlan) -> None:
        """The plan's attributes of the job."""
        self.task_type, self.workforce, self.labels = plan.props.task_type, plan.props.workforce, plan.labels
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

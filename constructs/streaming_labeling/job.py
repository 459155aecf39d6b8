"""StreamingLabelingJob: a running Ground Truth streaming labeling job from ``cdk deploy``.

The constructor is the wiring diagram: each concern is built by its own module
(encryption, messaging, storage, execution_role, job_handler, request,
compliance) and connected here.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import List, Mapping, Optional, Sequence, Tuple, Union

import jsii
from aws_cdk import Annotations, CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct, IValidation

from .cdk_internals import AUTO_DELETE_OBJECTS_ID, BUCKET_NOTIFICATIONS_ID, child
from .compliance import (
    acknowledge_holding_queue,
    acknowledge_job_findings,
    acknowledge_unrendered_notifications_policy,
    pin_security_flags,
)
from .encryption import allow_job_principals_in_key_policy, build_encryption_key
from .execution_role import (
    attach_execution_policy,
    build_execution_role,
    execution_policy_document,
    ground_truth_queue_arn_pattern,
    job_log_stream_arn_pattern,
    labeling_job_arn_pattern,
)
from .job_handler import CONFIG_PREFIX, SERVICE_TIMEOUT, JobHandler, handler_statements
from .messaging import build_holding_queue, build_topic, publish_uploads
from .monitoring import (
    DEFAULT_PERIOD,
    DEFAULT_STALLED_AGE,
    JobAlarms,
    JobStatus,
    backlog_metric,
    build_alarms,
    job_arn_prefix,
    state_change_pattern,
    task_status_change_pattern,
)
from .pipeline import (
    allow_workers_to_load,
    check_chained_props,
    check_pairing,
    raise_for_other_environment,
    upstream_object_arns,
)
from .regions import BuiltInArns
from .request import OUTPUT_PREFIX, Wiring, custom_resource_properties
from .state import StackState
from .storage import FULL_CORS, IMAGE_CORS, AccessLogs, build_data_bucket
from .task_types import InputModality, TaskType
from .validation import (
    MAX_JOB_NAME_PREFIX_LENGTH,
    JobSettings,
    check_exclusive,
    check_input_bucket,
    check_labels_value,
    default_label_attribute_name,
    job_durations,
    manifest_object_arn,
    raise_for_prop_types,
    validate_job_settings,
)
from .worker_ui import DEFAULT_VERIFICATION_CATEGORIES, LabelAttribute, LabelFileFeatures, VideoAnnotationType
from .workforce import Workforce

RESOURCE_TYPE = "Custom::SageMakerStreamingLabelingJob"
DEFAULT_TASK_TIME_LIMIT = Duration.minutes(5)
WARNING_SERVICE_STATUS = "streaming-labeling:GroundTruthClosedToNewCustomers"
WARNING_PUBLIC_CROWD = "streaming-labeling:MechanicalTurkClosed"
WARNING_IMPORTED_KEY = "streaming-labeling:ImportedKeyPolicyNotManaged"


@jsii.implements(IValidation)
class _PropsValidation:
    """Reports the props' errors when the app is synthesized."""

    def __init__(self, errors: Sequence[str]) -> None:
        self._errors = list(errors)

    def validate(self) -> List[str]:
        return list(self._errors)


def default_job_name_prefix(construct_id: str) -> str:
    """``"Animals Job"`` -> ``"animals-job"``: the id, in the job-name alphabet."""
    slug = re.sub(r"[^a-z0-9]+", "-", construct_id.lower()).strip("-")
    return slug[:MAX_JOB_NAME_PREFIX_LENGTH].strip("-") or "labeling-job"


class StreamingLabelingJob(Construct):
    """A SageMaker Ground Truth streaming labeling job with its topics, buckets, key and role.

    Publish data objects to ``input_topic`` (or upload them to ``input_bucket``
    for image, video and 3D tasks); labels arrive in ``output_bucket`` and on
    ``output_topic``. The job is created by a custom resource and stopped when
    the resource is deleted. Labeling jobs are immutable: a change to any job
    property replaces the job (a new name; the old job is stopped).
    """

    label_attribute_name: str
    labels: Tuple[str, ...]
    task_type: TaskType
    input_topic: sns.ITopic
    output_topic: sns.ITopic
    input_bucket: Optional[s3.IBucket]
    output_bucket: s3.IBucket
    encryption_key: kms.IKey
    job_name: str
    job_arn: str

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
        input_from: Optional[StreamingLabelingJob] = None,
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
            streaming labeling job). This job's role may subscribe to that topic, use its key and read the
            objects its messages point at; its buckets get the CORS rule workers' browsers need.
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
        path = f"{scope.node.path}/{construct_id}".lstrip("/")
        raise_for_prop_types(path, locals())  # before any value is used
        if input_from is not None:  # before any of its resources is referenced
            raise_for_other_environment(path, input_from, Stack.of(scope))
        super().__init__(scope, construct_id)
        pin_security_flags(self)
        state = StackState.of(self)
        p = state.pseudo
        label_errors = check_labels_value(labels)
        labels = list(labels) if isinstance(labels, (list, tuple)) and not label_errors else []
        upstream = input_from
        if upstream is not None:
            if not labels and task_type.is_adjustment_or_verification:
                labels = list(upstream.labels)
            if source_label_attribute_name is None:
                source_label_attribute_name = upstream.label_attribute_name
        self.labels = tuple(labels)
        self.input_from = upstream
        #: Node paths of this job's buckets that downstream jobs already gave a CORS rule.
        self.buckets_opened_to_workers: List[str] = []
        self.task_type = task_type
        self.workforce = workforce
        self.job_name_prefix = (
            job_name_prefix if job_name_prefix is not None else default_job_name_prefix(construct_id)
        )
        prefix = self.job_name_prefix.lower()
        if label_attribute_name is None:
            label_attribute_name = default_label_attribute_name(self.job_name_prefix, task_type)
        self.label_attribute_name = label_attribute_name
        time_limit, availability, duration_errors = job_durations(
            task_time_limit or DEFAULT_TASK_TIME_LIMIT, task_availability_lifetime
        )
        settings = JobSettings(
            task_type=task_type,
            workforce=workforce,
            task_title=task_title,
            task_description=task_description,
            labels=labels,
            job_name_prefix=self.job_name_prefix,
            label_attribute_name=self.label_attribute_name,
            workers_per_object=workers_per_object,
            task_time_limit_seconds=time_limit,
            task_availability_lifetime_seconds=availability,
            max_concurrent_tasks=max_concurrent_tasks,
            task_keywords=task_keywords,
            initial_manifest_uri=initial_manifest_uri,
            source_label_attribute_name=source_label_attribute_name,
            tags=dict(tags or {}),
            region=None if state.region_is_token else state.region,
            instructions=instructions,
            full_instructions=full_instructions,
            exclusion_category=exclusion_category,
            verification_categories=tuple(verification_categories),
            features=LabelFileFeatures(
                label_attributes=MappingProxyType(dict(label_attributes or {})),
                global_label_attributes=tuple(global_label_attributes or ()),
                frame_attributes=tuple(frame_attributes or ()),
                annotation_type=annotation_type,
                locked_labels=tuple(locked_labels or ()),
            ),
        )
        if create_input_bucket is None:  # a chained job's objects live in the upstream job's buckets
            create_input_bucket = task_type.accepts_s3_event_input and upstream is None
        if send_uploads_to_input_topic is None:  # a chained job's input topic is the upstream job's
            send_uploads_to_input_topic = (
                task_type.accepts_s3_event_input and existing_input_bucket is None and bool(create_input_bucket)
                and upstream is None
            )
        errors = label_errors + duration_errors + validate_job_settings(settings) + check_exclusive(
            [
                ("existing_input_topic", existing_input_topic, "input_topic_props", input_topic_props),
                ("existing_output_topic", existing_output_topic, "output_topic_props", output_topic_props),
                ("existing_input_bucket", existing_input_bucket, "input_bucket_props", input_bucket_props),
                ("existing_output_bucket", existing_output_bucket, "output_bucket_props", output_bucket_props),
                ("existing_encryption_key", existing_encryption_key, "encryption_key_props", encryption_key_props),
            ]
        )
        errors += check_input_bucket(
            task_type,
            create_input_bucket=create_input_bucket,
            existing_input_bucket=existing_input_bucket is not None,
            input_bucket_props=input_bucket_props is not None,
            send_uploads_to_input_topic=send_uploads_to_input_topic,
        )
        errors += check_chained_props(
            input_from=upstream, existing_input_topic=existing_input_topic, input_topic_props=input_topic_props,
            send_uploads_to_input_topic=send_uploads_to_input_topic,
        )
        if upstream is not None:
            errors += check_pairing(task_type, upstream.task_type)
        stack = Stack.of(self)
        built_in = None if task_type.is_custom else BuiltInArns(stack, task_type, built_in_lambda_accounts)
        if built_in is not None:
            errors += built_in.errors
        destroy = removal_policy == RemovalPolicy.DESTROY
        handler = JobHandler.of(stack)

        # --- encryption and messaging ------------------------------------------------
        self.encryption_key = build_encryption_key(
            self, existing_key=existing_encryption_key, key_props=encryption_key_props, removal_policy=removal_policy
        )
        self.input_topic = upstream.output_topic if upstream is not None else build_topic(
            self, "InputTopic", prop_name="input_topic_props", existing_topic=existing_input_topic,
            topic_props=input_topic_props, key=self.encryption_key,
        )
        self.output_topic = build_topic(
            self, "OutputTopic", prop_name="output_topic_props", existing_topic=existing_output_topic,
            topic_props=output_topic_props, key=self.encryption_key,
        )

        # --- storage -----------------------------------------------------------------
        wants_input_bucket = existing_input_bucket is not None or bool(create_input_bucket)
        creates_a_bucket = existing_output_bucket is None or (wants_input_bucket and existing_input_bucket is None)
        self.access_logs_bucket: Optional[s3.IBucket] = access_logs_bucket
        if self.access_logs_bucket is None and creates_a_bucket:
            self.access_logs_bucket = AccessLogs.of(self, removal_policy=removal_policy)
        logs_prefix = f"{prefix}-{self.node.addr[:8]}" if creates_a_bucket else ""
        self.sends_uploads_to_input_topic = (
            wants_input_bucket and bool(send_uploads_to_input_topic) and task_type.accepts_s3_event_input
        )
        self.input_bucket = None
        if wants_input_bucket:
            self.input_bucket = build_data_bucket(
                self, "InputBucket", prop_name="input_bucket_props", existing_bucket=existing_input_bucket,
                bucket_props=input_bucket_props, key=self.encryption_key,
                cors=[FULL_CORS] if task_type.needs_full_cors else [IMAGE_CORS],
                access_logs_bucket=self.access_logs_bucket, access_logs_prefix=f"{logs_prefix}/input-bucket/",
                removal_policy=removal_policy,
                notifications_role=handler.notifications_role() if self.sends_uploads_to_input_topic else None,
            )
        self.output_bucket = build_data_bucket(
            self, "OutputBucket", prop_name="output_bucket_props", existing_bucket=existing_output_bucket,
            bucket_props=output_bucket_props, key=self.encryption_key,
            cors=[FULL_CORS] if task_type.needs_full_cors else [], access_logs_bucket=self.access_logs_bucket,
            access_logs_prefix=f"{logs_prefix}/output-bucket/", removal_policy=removal_policy,
        )
        notifications: Optional[IConstruct] = None
        if self.sends_uploads_to_input_topic and self.input_bucket is not None:
            publish_uploads(self.input_bucket, self.input_topic, self.encryption_key, p)
            notifications = child(self.input_bucket, BUCKET_NOTIFICATIONS_ID)
            if notifications is not None:
                notifications.node.add_dependency(handler.allow_notifications(self.input_bucket.bucket_arn))
                acknowledge_unrendered_notifications_policy(notifications)

        # --- permissions ---------------------------------------------------------------
        self.role = build_execution_role(self, p, existing_role=existing_role, job_name_prefix=prefix)
        wiring = Wiring(  # token strings read once: each attribute read is a jsii round trip
            input_topic=self.input_topic.topic_arn,
            output_topic=self.output_topic.topic_arn,
            input_bucket=self.input_bucket.bucket_arn if self.input_bucket is not None else None,
            input_bucket_name=self.input_bucket.bucket_name if self.input_bucket is not None else None,
            output_bucket=self.output_bucket.bucket_arn,
            output_bucket_name=self.output_bucket.bucket_name,
            key=self.encryption_key.key_arn,
            role=self.role.role_arn,
        )
        self.output_s3_uri = wiring.output_s3_uri
        upstream_objects: List[str] = []
        upstream_key: Optional[str] = None
        if upstream is not None:
            upstream_objects = upstream_object_arns(
                upstream.input_bucket.bucket_arn if upstream.input_bucket is not None else None,
                upstream.output_bucket.bucket_arn,
                [OUTPUT_PREFIX],
            )
            if upstream.encryption_key is not self.encryption_key:
                upstream_key = upstream.encryption_key.key_arn
            if task_type.modality is not InputModality.TEXT:
                allow_workers_to_load(
                    self, [upstream.output_bucket], FULL_CORS if task_type.needs_full_cors else IMAGE_CORS,
                    upstream.buckets_opened_to_workers,
                )
        self.execution_policy = attach_execution_policy(
            self,
            self.role,
            execution_policy_document(
                p,
                input_topic_arn=wiring.input_topic,
                output_topic_arn=wiring.output_topic,
                input_bucket_arn=wiring.input_bucket,
                output_bucket_arn=wiring.output_bucket,
                key_arn=wiring.key,
                job_name_prefix=prefix,
                output_prefixes=[OUTPUT_PREFIX, CONFIG_PREFIX],
                upstream_object_arns=upstream_objects,
                upstream_key_arn=upstream_key,
                manifest_object_arn=manifest_object_arn(p.partition, initial_manifest_uri),
                invoked_function_arns=[
                    arn
                    for arn in (task_type.custom_pre_annotation_lambda_arn, task_type.custom_consolidation_lambda_arn)
                    if arn
                ],
            ),
        )
        if isinstance(self.encryption_key, kms.Key):
            allow_job_principals_in_key_policy(self.encryption_key, wiring.role, lambda: self.node.addr[:12])
        # --- renewal after an idle stop ------------------------------------------------------
        self.holding_queue: Optional[sqs.IQueue] = None
        if renew_after_idle_stop:
            self.holding_queue = build_holding_queue(self, self.input_topic, self.encryption_key, p)
            handler.renew_after_idle_stop(prefix)
            acknowledge_holding_queue(self.holding_queue, kms_encrypted=isinstance(self.encryption_key, kms.Key))
        self.handler_policy = handler.allow_job(
            handler_statements(p, prefix=prefix, role_arn=wiring.role, output_bucket_arn=wiring.output_bucket,
                               key_arn=wiring.key, input_topic_arn=wiring.input_topic,
                               holding_queue_arn=self.holding_queue.queue_arn if self.holding_queue else None)
        )

        # --- the job -------------------------------------------------------------------
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=handler.function_arn,
            resource_type=RESOURCE_TYPE,
            properties=custom_resource_properties(
                settings, built_in, wiring, wait_for_stopped_on_delete=destroy,
                holding_queue_url=self.holding_queue.queue_url if self.holding_queue else None,
            ),
            service_timeout=SERVICE_TIMEOUT,
        )
        # The job starts after every permission, policy and notification it needs exists, and is
        # stopped before any of them (or the handler's own policy) is deleted, and before a DESTROY
        # empties its buckets. What the request references is ordered by the reference itself.
        self.resource.node.add_dependency(
            self.execution_policy,
            self.handler_policy,
            handler.logs_policy,
            handler.stack_jobs_policy,
            *self._created_bucket_children(
                [(self.input_bucket, existing_input_bucket), (self.output_bucket, existing_output_bucket)],
                notifications=notifications,
                destroy=destroy,
            ),
        )
        self.job_name = self.resource.get_att_string("JobName")
        self.job_arn = self.resource.get_att_string("JobArn")

        self._warn(state, existing_encryption_key is not None and not isinstance(existing_encryption_key, kms.Key))
        acknowledge_job_findings(
            self,
            state,
            execution_policy=self.execution_policy,
            handler_policy=self.handler_policy,
            queue_pattern=ground_truth_queue_arn_pattern(p, prefix),
            log_stream_pattern=job_log_stream_arn_pattern(p, prefix),
            job_pattern=labeling_job_arn_pattern(p, prefix),
            input_bucket_arn=wiring.input_bucket,
            output_bucket_arn=wiring.output_bucket,
            output_prefixes=[OUTPUT_PREFIX, CONFIG_PREFIX],
            upstream_object_arns=upstream_objects,
            config_prefix=CONFIG_PREFIX,
            job_name_prefix=prefix,
            destroy=destroy,
            sends_uploads=self.sends_uploads_to_input_topic,
        )
        if errors:
            self.node.add_validation(_PropsValidation(errors))

    # --- wiring helpers --------------------------------------------------------

    @staticmethod
    def _created_bucket_children(
        buckets: Sequence[Tuple[Optional[s3.IBucket], Optional[s3.IBucket]]],
        *,
        notifications: Optional[IConstruct],
        destroy: bool,
    ) -> List[IConstruct]:
        """Bucket policies, the upload notification and the auto-delete resources of created buckets."""
        children: List[IConstruct] = [notifications] if notifications is not None else []
        for bucket, given in buckets:
            if bucket is None or given is not None or not isinstance(bucket, s3.Bucket):
                continue
            if bucket.policy is not None:
                children.append(bucket.policy)
            auto_delete = child(bucket, AUTO_DELETE_OBJECTS_ID) if destroy else None
            if auto_delete is not None:
                children.append(auto_delete)
        return children

    def _warn(self, state: StackState, imported_key: bool) -> None:
        """Warnings with stable ids; the README shows how to acknowledge each."""
        if WARNING_SERVICE_STATUS not in state.warned:  # once per stack, on the stack
            state.warned.add(WARNING_SERVICE_STATUS)
            Annotations.of(Stack.of(self)).add_warning_v2(
                WARNING_SERVICE_STATUS,
                "Amazon SageMaker Ground Truth is no longer open to new customers (since 2026-07-30): "
                "CreateLabelingJob succeeds only in accounts that already use Ground Truth.",
            )
        annotations = Annotations.of(self)
        if self.workforce.is_public:
            annotations.add_warning_v2(
                WARNING_PUBLIC_CROWD,
                "Workforce.public() uses Amazon Mechanical Turk, which closed on 2026-09-30; "
                "use Workforce.private() or Workforce.vendor().",
            )
        if imported_key and self.sends_uploads_to_input_topic:
            annotations.add_warning_v2(
                WARNING_IMPORTED_KEY,
                "existing_encryption_key: the key policy of an imported key cannot be changed here; allow "
                "s3.amazonaws.com kms:GenerateDataKey* and kms:Decrypt in it, or S3 cannot publish uploads "
                "to the encrypted input topic.",
            )

    # --- events, metrics and alarms ---------------------------------------------------

    def on_state_change(
        self,
        construct_id: str,
        *,
        target: Optional[events.IRuleTarget] = None,
        statuses: Optional[Sequence[Union[JobStatus, str]]] = None,
        description: Optional[str] = None,
    ) -> events.Rule:
        """An EventBridge rule for this job's state changes ("SageMaker Ground Truth Labeling Job State Change").

        It matches every generation of the job (a renewal starts one under a new name): the ARN prefix
        ``labeling-job/<job_name_prefix>-``.

        :param statuses: only these ``LabelingJobStatus`` values. Default: every change.
        """
        return events.Rule(
            self,
            construct_id,
            description=description or "State changes of a Ground Truth streaming labeling job",
            event_pattern=state_change_pattern(job_arn_prefix(StackState.of(self).pseudo, self.job_name_prefix),
                                               statuses),
            targets=[target] if target is not None else None,
        )

    def on_task_status_change(
        self,
        construct_id: str,
        *,
        target: Optional[events.IRuleTarget] = None,
        states: Optional[Sequence[str]] = None,
        description: Optional[str] = None,
    ) -> events.Rule:
        """An EventBridge rule for this job's task status changes ("... Labeling Job Task Status Change"),
        of every generation (the ARN prefix ``labeling-job/<job_name_prefix>-``).

        :param states: only these ``detail.State`` values. Default: every change.
        """
        return events.Rule(
            self,
            construct_id,
            description=description or "Task status changes of a Ground Truth streaming labeling job",
            event_pattern=task_status_change_pattern(
                job_arn_prefix(StackState.of(self).pseudo, self.job_name_prefix), states),
            targets=[target] if target is not None else None,
        )

    def metric_backlog(self, *, period: Duration = DEFAULT_PERIOD) -> cloudwatch.Metric:
        """Data objects waiting in the job's ``GroundTruth-<job name>`` queue (maximum of visible messages)."""
        return backlog_metric(self.job_name, "ApproximateNumberOfMessagesVisible", "Maximum", period)

    def metric_backlog_oldest_age(self, *, period: Duration = DEFAULT_PERIOD) -> cloudwatch.Metric:
        """Seconds the oldest waiting data object has waited (maximum)."""
        return backlog_metric(self.job_name, "ApproximateAgeOfOldestMessage", "Maximum", period)

    def metric_objects_published(self, *, period: Duration = DEFAULT_PERIOD) -> cloudwatch.Metric:
        """Data objects published to the input topic (sum)."""
        return self.input_topic.metric_number_of_messages_published(period=period, statistic="Sum")

    def metric_labels_published(self, *, period: Duration = DEFAULT_PERIOD) -> cloudwatch.Metric:
        """Labeled objects the job published to the output topic (sum)."""
        return self.output_topic.metric_number_of_messages_published(period=period, statistic="Sum")

    def metric_failed_deliveries(self, *, period: Duration = DEFAULT_PERIOD) -> cloudwatch.Metric:
        """Deliveries of the input topic that failed, e.g. to the job's queue (sum)."""
        return self.input_topic.metric_number_of_notifications_failed(period=period, statistic="Sum")

    def add_alarms(
        self,
        *,
        action_topic: sns.ITopic,
        stalled_after: Duration = DEFAULT_STALLED_AGE,
        evaluation_periods: int = 3,
    ) -> JobAlarms:
        """Opt-in alarms, each notifying ``action_topic`` (alarm and OK):

        * a stalled backlog: the oldest waiting object is older than ``stalled_after`` (default 6 hours)
          for ``evaluation_periods`` periods of 5 minutes (default 3);
        * failed deliveries: the input topic failed to deliver any object in a 5-minute period;
        * the job failed or stopped: an EventBridge rule on the job's state changes to Failed or Stopped.
        """
        return build_alarms(
            Construct(self, "Alarms"),
            oldest_age=self.metric_backlog_oldest_age(),
            failed_deliveries=self.metric_failed_deliveries(),
            arn_prefix=job_arn_prefix(StackState.of(self).pseudo, self.job_name_prefix),
            action_topic=action_topic,
            stalled_after=stalled_after,
            evaluation_periods=evaluation_periods,
        )

    # --- public API ------------------------------------------------------------

    def grant_send_data(self, grantee: iam.IGrantable) -> iam.Grant:
        """Publish data objects to the input topic and upload them to the input bucket, if the job has one."""
        grant = self.input_topic.grant_publish(grantee)
        if self.input_bucket is not None:
            grant = grant.combine(self.input_bucket.grant_put(grantee))
        return grant.combine(self.encryption_key.grant(grantee, "kms:GenerateDataKey", "kms:Decrypt"))

    def grant_read_output(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read labels from the output bucket and subscribe to the output topic."""
        grant = self.output_bucket.grant_read(grantee)
        grant = grant.combine(self.encryption_key.grant_decrypt(grantee))
        return grant.combine(
            iam.Grant.add_to_principal(
                grantee=grantee, actions=["sns:Subscribe"], resource_arns=[self.output_topic.topic_arn]
            )
        )

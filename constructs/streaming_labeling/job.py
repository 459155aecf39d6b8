"""StreamingLabelingJob: a running Ground Truth streaming labeling job from ``cdk deploy``."""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

import jsii
from aws_cdk import Annotations, CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct, IValidation

from .compliance import (
    acknowledge,
    acknowledge_lambda_placement,
    acknowledge_wildcards,
    ignore_redundant_role_dependency,
    nag_pseudo,
    nag_resource,
)
from .encryption import allow_job_principals_in_key_policy, build_encryption_key
from .execution_role import (
    SAGEMAKER_PRINCIPAL,
    attach_execution_policy,
    build_execution_role,
    execution_policy_document,
    ground_truth_queue_arn_pattern,
    job_log_stream_arn_pattern,
    labeling_job_arn_pattern,
)
from .job_handler import SERVICE_TIMEOUT, JobHandler
from .messaging import build_topic, publish_uploads
from .regions import BuiltInArns
from .storage import FULL_CORS, IMAGE_CORS, build_data_bucket, shared_access_logs_bucket
from .task_types import TaskType
from .validation import MAX_JOB_NAME_PREFIX_LENGTH, JobSettings, check_exclusive, validate_job_settings
from .worker_ui import label_category_config, worker_template
from .workforce import Workforce

RESOURCE_TYPE = "Custom::SageMakerStreamingLabelingJob"
#: aws-cdk-lib's singleton S3 notifications Lambda (id fixed by aws-cdk-lib).
NOTIFICATIONS_HANDLER_ID = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"
OUTPUT_PREFIX = "labels/"
CONFIG_PREFIX = "labeling-job-config/"
DEFAULT_TASK_TIME_LIMIT = Duration.minutes(5)
WARNING_SERVICE_STATUS = "streaming-labeling:GroundTruthClosedToNewCustomers"
WARNING_PUBLIC_CROWD = "streaming-labeling:MechanicalTurkClosed"
WARNING_IMPORTED_KEY = "streaming-labeling:ImportedKeyPolicyNotManaged"


@dataclass(frozen=True)
class _Arns:
    """Token strings of what one job is wired to, read from the jsii runtime once."""

    input_topic: str
    output_topic: str
    input_bucket: str
    output_bucket: str
    output_bucket_name: str
    key: str
    role: str


def handler_statements(arns: _Arns, prefix: str) -> List[iam.PolicyStatement]:
    """What the handler may do for one job: its labeling jobs, its role, its config files."""
    documents = [
        {
            "Effect": "Allow",
            "Action": [
                "sagemaker:CreateLabelingJob",
                "sagemaker:DescribeLabelingJob",
                "sagemaker:StopLabelingJob",
                "sagemaker:AddTags",
            ],
            "Resource": labeling_job_arn_pattern(prefix),
        },
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": arns.role,
            "Condition": {"StringEquals": {"iam:PassedToService": SAGEMAKER_PRINCIPAL}},
        },
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{arns.output_bucket}/{CONFIG_PREFIX}{prefix}-*"},
        {"Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": arns.key},
    ]
    return [iam.PolicyStatement.from_json(document) for document in documents]


@jsii.implements(IValidation)
class _PropsValidation:
    """Reports the props' errors when the app is synthesized."""

    def __init__(self, errors: Sequence[str]) -> None:
        self._errors = list(errors)

    def validate(self) -> List[str]:
        return list(self._errors)


_ACKNOWLEDGED: weakref.WeakSet[IConstruct] = weakref.WeakSet()


def _first_time(construct: IConstruct) -> bool:
    """True once per construct object: stack-wide singletons are acknowledged once, not per job."""
    if construct in _ACKNOWLEDGED:
        return False
    _ACKNOWLEDGED.add(construct)
    return True


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
        task_keywords: Optional[Sequence[str]] = None,
        workers_per_object: int = 1,
        task_time_limit: Optional[Duration] = None,
        task_availability_lifetime: Optional[Duration] = None,
        max_concurrent_tasks: Optional[int] = None,
        label_attribute_name: Optional[str] = None,
        source_label_attribute_name: Optional[str] = None,
        job_name_prefix: Optional[str] = None,
        initial_manifest_uri: Optional[str] = None,
        tags: Optional[Mapping[str, str]] = None,
        send_uploads_to_input_topic: Optional[bool] = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
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
        :param instructions: short instructions in the worker UI. Default: the task title.
        :param full_instructions: full instructions in the worker UI. Default: ``instructions``.
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
        :param job_name_prefix: start of the generated job name ``<prefix>-<12 hex>`` (1-50 characters).
            Default: the construct id in lowercase.
        :param initial_manifest_uri: ``s3://`` URI of a manifest of objects to label at start. Default: none.
        :param tags: tags of the labeling job. Default: none.
        :param send_uploads_to_input_topic: publish S3 object-created events of the input bucket to the
            input topic. Default: true for non-text task types when this construct creates the input bucket.
        :param removal_policy: what happens to the buckets and key when the stack is deleted.
            Default: RETAIN. DESTROY empties and deletes them, after the job has reached Stopped.
        :param existing_input_topic: your own input topic instead of a new one.
        :param input_topic_props: props of the new input topic. Default: encrypted with the key, SSL only.
        :param existing_output_topic: your own output topic instead of a new one.
        :param output_topic_props: props of the new output topic.
        :param existing_input_bucket: your own input bucket instead of a new one.
        :param input_bucket_props: props of the new input bucket. Default: SSE-KMS, versioned, private.
        :param existing_output_bucket: your own output bucket instead of a new one.
        :param output_bucket_props: props of the new output bucket.
        :param existing_encryption_key: your own KMS key instead of a new one.
        :param encryption_key_props: props of the new key. Default: rotation on.
        :param existing_role: your own execution role; the job's statements are attached to it.
        :param access_logs_bucket: where new data buckets write access logs. Default: one bucket per stack.
        :param built_in_lambda_accounts: region -> account of the built-in task Lambdas.
            Default: the twelve regions listed in the SageMaker API reference.
        """
        super().__init__(scope, construct_id)
        labels = list(labels or [])
        tags = dict(tags or {})
        self.task_type = task_type
        self.workforce = workforce
        self.job_name_prefix = job_name_prefix if job_name_prefix is not None else default_job_name_prefix(
            construct_id
        )
        prefix_for_names = self.job_name_prefix.lower()
        if label_attribute_name is None:
            label_attribute_name = prefix_for_names + ("-ref" if task_type.label_attribute_needs_ref else "")
        self.label_attribute_name = label_attribute_name

        settings = JobSettings(
            task_type=task_type,
            workforce=workforce,
            task_title=task_title,
            task_description=task_description,
            labels=labels,
            job_name_prefix=self.job_name_prefix,
            label_attribute_name=label_attribute_name,
            workers_per_object=workers_per_object,
            task_time_limit_seconds=int((task_time_limit or DEFAULT_TASK_TIME_LIMIT).to_seconds()),
            task_availability_lifetime_seconds=(
                int(task_availability_lifetime.to_seconds()) if task_availability_lifetime else None
            ),
            max_concurrent_tasks=max_concurrent_tasks,
            task_keywords=task_keywords,
            initial_manifest_uri=initial_manifest_uri,
            source_label_attribute_name=source_label_attribute_name,
            tags=tags,
        )
        errors = validate_job_settings(settings)
        errors += check_exclusive(
            [
                ("existing_input_topic", existing_input_topic, "input_topic_props", input_topic_props),
                ("existing_output_topic", existing_output_topic, "output_topic_props", output_topic_props),
                ("existing_input_bucket", existing_input_bucket, "input_bucket_props", input_bucket_props),
                ("existing_output_bucket", existing_output_bucket, "output_bucket_props", output_bucket_props),
                ("existing_encryption_key", existing_encryption_key, "encryption_key_props", encryption_key_props),
            ]
        )
        if send_uploads_to_input_topic and not task_type.accepts_s3_event_input:
            errors.append(
                f"send_uploads_to_input_topic: Ground Truth does not take S3 events for task type "
                f"{task_type.name}; publish {{\"source\": \"<text>\"}} messages to the input topic instead"
            )
        stack = Stack.of(self)
        built_in = None if task_type.is_custom else BuiltInArns(stack, task_type, built_in_lambda_accounts)
        if built_in is not None:
            errors += built_in.errors

        # --- resources -------------------------------------------------------
        self.encryption_key = build_encryption_key(
            self, existing_key=existing_encryption_key, key_props=encryption_key_props, removal_policy=removal_policy
        )
        self.input_topic = build_topic(
            self, "InputTopic", existing_topic=existing_input_topic, topic_props=input_topic_props,
            key=self.encryption_key,
        )
        self.output_topic = build_topic(
            self, "OutputTopic", existing_topic=existing_output_topic, topic_props=output_topic_props,
            key=self.encryption_key,
        )
        creates_a_bucket = existing_input_bucket is None or existing_output_bucket is None
        self.access_logs_bucket: Optional[s3.IBucket] = access_logs_bucket
        if self.access_logs_bucket is None and creates_a_bucket:
            self.access_logs_bucket = shared_access_logs_bucket(self, removal_policy=removal_policy)
        address: List[str] = []

        def job_address() -> str:
            """Unique per job (a hash of its path), read from the jsii runtime only when needed."""
            if not address:
                address.append(self.node.addr)
            return address[0]

        logs_prefix = f"{prefix_for_names}-{job_address()[:8]}" if creates_a_bucket else ""
        cors = [FULL_CORS] if task_type.needs_full_cors else [IMAGE_CORS]
        handler = JobHandler.of(stack)
        if send_uploads_to_input_topic is None:
            send_uploads_to_input_topic = task_type.accepts_s3_event_input and existing_input_bucket is None
        self.sends_uploads_to_input_topic = bool(send_uploads_to_input_topic) and task_type.accepts_s3_event_input
        self.input_bucket = build_data_bucket(
            self, "InputBucket", existing_bucket=existing_input_bucket, bucket_props=input_bucket_props,
            key=self.encryption_key, cors=cors, access_logs_bucket=self.access_logs_bucket,
            access_logs_prefix=f"{logs_prefix}/input-bucket/", removal_policy=removal_policy,
            notifications_role=handler.notifications_role() if self.sends_uploads_to_input_topic else None,
        )
        self.output_bucket = build_data_bucket(
            self, "OutputBucket", existing_bucket=existing_output_bucket, bucket_props=output_bucket_props,
            key=self.encryption_key, cors=[FULL_CORS] if task_type.needs_full_cors else [],
            access_logs_bucket=self.access_logs_bucket, access_logs_prefix=f"{logs_prefix}/output-bucket/",
            removal_policy=removal_policy,
        )
        if self.sends_uploads_to_input_topic:
            publish_uploads(self.input_bucket, self.input_topic, self.encryption_key)
            notifications = self.input_bucket.node.try_find_child("Notifications")
            if notifications is not None:
                notifications.node.add_dependency(handler.allow_notifications(self.input_bucket.bucket_arn))
                unused_policy = notifications.node.try_find_child("HandlerPolicy")
                if unused_policy is not None:
                    acknowledge(unused_policy, "NIST.800.53.R5-IAMNoInlinePolicy", "cdk-unrendered-policy")

        self.role = build_execution_role(self, existing_role=existing_role, job_name_prefix=prefix_for_names)
        # Token strings read once: each attribute read is a round trip to the jsii runtime.
        arns = _Arns(
            input_topic=self.input_topic.topic_arn,
            output_topic=self.output_topic.topic_arn,
            input_bucket=self.input_bucket.bucket_arn,
            output_bucket=self.output_bucket.bucket_arn,
            output_bucket_name=self.output_bucket.bucket_name,
            key=self.encryption_key.key_arn,
            role=self.role.role_arn,
        )
        invoked = [
            arn
            for arn in (task_type.custom_pre_annotation_lambda_arn, task_type.custom_consolidation_lambda_arn)
            if arn
        ]
        self.execution_policy = attach_execution_policy(
            self,
            self.role,
            execution_policy_document(
                input_topic_arn=arns.input_topic,
                output_topic_arn=arns.output_topic,
                input_bucket_arn=arns.input_bucket,
                output_bucket_arn=arns.output_bucket,
                key_arn=arns.key,
                job_name_prefix=prefix_for_names,
                output_prefixes=[OUTPUT_PREFIX, CONFIG_PREFIX],
                invoked_function_arns=invoked,
            ),
        )
        if isinstance(self.encryption_key, kms.Key):
            allow_job_principals_in_key_policy(self.encryption_key, arns.role, lambda: job_address()[:12])

        # --- the job ---------------------------------------------------------
        self.output_s3_uri = f"s3://{arns.output_bucket_name}/{OUTPUT_PREFIX}"
        config_prefix = f"s3://{arns.output_bucket_name}/{CONFIG_PREFIX}"
        template = worker_template(
            task_type,
            labels,
            header=task_title,
            short_instructions=instructions,
            full_instructions=full_instructions,
            source_label_attribute_name=source_label_attribute_name,
        )
        label_config = (
            label_category_config(
                task_type,
                labels,
                short_instructions=instructions,
                full_instructions=full_instructions,
                audit_label_attribute_name=source_label_attribute_name,
            )
            if labels
            else None
        )
        request = self._create_request(settings, built_in, workforce, arns)
        properties: Dict[str, Any] = {
            "JobNamePrefix": prefix_for_names,
            "Request": request,
            "ConfigS3Prefix": config_prefix,
            "ConfigKmsKeyId": arns.key,
            "WaitForStoppedOnDelete": "true" if removal_policy == RemovalPolicy.DESTROY else "false",
        }
        if label_config is not None:
            properties["LabelCategoryConfig"] = label_config
        if template is not None:
            properties["UiTemplate"] = template

        self.handler_policy = handler.allow_job(handler_statements(arns, prefix_for_names))
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=handler.function_arn,
            resource_type=RESOURCE_TYPE,
            properties=properties,
            service_timeout=SERVICE_TIMEOUT,
        )
        # The job starts only after every permission, policy and notification exists,
        # and is stopped before any of them (or the handler's own policy) is deleted.
        # Resources the request already references are ordered by the reference itself.
        self.resource.node.add_dependency(
            self.execution_policy,
            self.handler_policy,
            handler.logs_policy,
            *self._policies_and_notifications(
                created_topics=[t for t, given in ((self.input_topic, existing_input_topic),
                                                   (self.output_topic, existing_output_topic)) if given is None],
                created_buckets=[b for b, given in ((self.input_bucket, existing_input_bucket),
                                                    (self.output_bucket, existing_output_bucket)) if given is None],
                destroy=removal_policy == RemovalPolicy.DESTROY,
            ),
        )
        self.job_name = self.resource.get_att_string("JobName")
        self.job_arn = self.resource.get_att_string("JobArn")

        self._warn(existing_encryption_key is not None and not isinstance(existing_encryption_key, kms.Key))
        self._acknowledge_findings(prefix_for_names, arns, stack, destroy=removal_policy == RemovalPolicy.DESTROY)
        if errors:
            self.node.add_validation(_PropsValidation(errors))

    # --- wiring helpers --------------------------------------------------------

    def _policies_and_notifications(
        self, *, created_topics: Sequence[sns.ITopic], created_buckets: Sequence[s3.IBucket], destroy: bool
    ) -> List[IConstruct]:
        """Children of the topics and buckets that the request does not reference."""
        wanted = [(topic, "Policy") for topic in created_topics] + [(bucket, "Policy") for bucket in created_buckets]
        if self.sends_uploads_to_input_topic:
            wanted.append((self.input_bucket, "Notifications"))
        if destroy:
            wanted += [(bucket, "AutoDeleteObjectsCustomResource") for bucket in created_buckets]
        children: List[IConstruct] = []
        for parent, child_id in wanted:
            child = parent.node.try_find_child(child_id)
            if child is not None:
                children.append(child)
        return children

    def _create_request(
        self, settings: JobSettings, built_in: Optional[BuiltInArns], workforce: Workforce, arns: _Arns
    ) -> Dict[str, Any]:
        """The CreateLabelingJob request; the handler adds the name and the S3 URIs of the config files."""
        task_type = settings.task_type
        if built_in is not None:
            pre_arn = built_in.pre_annotation_lambda_arn
            acs_arn = built_in.consolidation_lambda_arn
        else:
            pre_arn = task_type.custom_pre_annotation_lambda_arn or ""
            acs_arn = task_type.custom_consolidation_lambda_arn or ""
        human_task: Dict[str, Any] = {
            "WorkteamArn": workforce.workteam_arn,
            "PreHumanTaskLambdaArn": pre_arn,
            "TaskTitle": settings.task_title,
            "TaskDescription": settings.task_description,
            "NumberOfHumanWorkersPerDataObject": settings.workers_per_object,
            "TaskTimeLimitInSeconds": settings.task_time_limit_seconds,
            "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn": acs_arn},
        }
        if built_in is not None and task_type.uses_built_in_ui:
            human_task["UiConfig"] = {"HumanTaskUiArn": built_in.human_task_ui_arn}
        if settings.task_keywords:
            human_task["TaskKeywords"] = list(settings.task_keywords)
        if settings.task_availability_lifetime_seconds is not None:
            human_task["TaskAvailabilityLifetimeInSeconds"] = settings.task_availability_lifetime_seconds
        if settings.max_concurrent_tasks is not None:
            human_task["MaxConcurrentTaskCount"] = settings.max_concurrent_tasks
        price = workforce.public_task_price()
        if price is not None:
            human_task["PublicWorkforceTaskPrice"] = price

        data_source: Dict[str, Any] = {"SnsDataSource": {"SnsTopicArn": arns.input_topic}}
        if settings.initial_manifest_uri:
            data_source["S3DataSource"] = {"ManifestS3Uri": settings.initial_manifest_uri}
        input_config: Dict[str, Any] = {"DataSource": data_source}
        if workforce.content_classifiers:
            input_config["DataAttributes"] = {
                "ContentClassifiers": [classifier.value for classifier in workforce.content_classifiers]
            }
        request: Dict[str, Any] = {
            "LabelAttributeName": settings.label_attribute_name,
            "InputConfig": input_config,
            "OutputConfig": {
                "S3OutputPath": self.output_s3_uri,
                "SnsTopicArn": arns.output_topic,
                "KmsKeyId": arns.key,
            },
            "RoleArn": arns.role,
            "HumanTaskConfig": human_task,
        }
        if settings.tags:
            request["Tags"] = [{"Key": key, "Value": value} for key, value in sorted(settings.tags.items())]
        return request

    def _acknowledge_findings(self, prefix: str, arns: _Arns, stack: Stack, *, destroy: bool) -> None:
        """The cdk-nag findings that AWS leaves no way around, each with its reason."""
        input_objects = nag_resource(self, arns.input_bucket) + "/*"
        output_bucket = nag_resource(self, arns.output_bucket)
        acknowledge_wildcards(
            self.execution_policy,
            [
                (input_objects, "object-keys"),
                (f"{output_bucket}/{OUTPUT_PREFIX}*", "object-keys"),
                (f"{output_bucket}/{CONFIG_PREFIX}*", "object-keys"),
                (nag_pseudo(ground_truth_queue_arn_pattern(prefix)), "queue"),
                (nag_pseudo(job_log_stream_arn_pattern(prefix)), "log-stream"),
                ("*", "no-resource-level"),
            ],
        )
        acknowledge_wildcards(
            self.handler_policy,
            [
                (nag_pseudo(labeling_job_arn_pattern(prefix)), "job-name"),
                (f"{output_bucket}/{CONFIG_PREFIX}{prefix}-*", "job-name"),
            ],
        )
        # aws-cdk-lib's stack-wide singletons: acknowledged by the first job that brings them.
        if destroy:
            auto_delete = stack.node.try_find_child("Custom::S3AutoDeleteObjectsCustomResourceProvider")
            if auto_delete is not None and _first_time(auto_delete):
                acknowledge_lambda_placement(auto_delete)
                acknowledge(auto_delete, "NIST.800.53.R5-IAMNoInlinePolicy", "cdk-internal-inline")
                acknowledge(
                    auto_delete,
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AWSLambdaBasicExecutionRole]",
                    "cdk-internal-managed",
                )
                provider_function = auto_delete.node.try_find_child("Handler")
                if provider_function is not None:
                    ignore_redundant_role_dependency(provider_function)
        if self.sends_uploads_to_input_topic:
            notifications = stack.node.try_find_child(NOTIFICATIONS_HANDLER_ID)
            if notifications is not None and _first_time(notifications):
                acknowledge_lambda_placement(notifications)
                ignore_redundant_role_dependency(notifications)

    def _warn(self, imported_key: bool) -> None:
        annotations = Annotations.of(self)
        annotations.add_warning_v2(
            WARNING_SERVICE_STATUS,
            "Amazon SageMaker Ground Truth is no longer open to new customers (since 2026-07-30): "
            "CreateLabelingJob succeeds only in accounts that already use Ground Truth.",
        )
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

    # --- public API ------------------------------------------------------------

    def grant_send_data(self, grantee: iam.IGrantable) -> iam.Grant:
        """Publish data objects to the input topic and upload them to the input bucket."""
        grant = self.input_topic.grant_publish(grantee)
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

"""The builders of one job: each takes the plan (and what earlier builders built) and returns what it built.

``StreamingLabelingJob``'s constructor calls them in order; the concern modules (encryption,
messaging, storage, execution_role, pipeline, job_handler, request, compliance) do the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

from aws_cdk import CustomResource, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from .cdk_internals import AUTO_DELETE_OBJECTS_ID, BUCKET_NOTIFICATIONS_ID, child
from .compliance import (
    acknowledge_holding_queue,
    acknowledge_statements,
    acknowledge_unrendered_notifications_policy,
)
from .encryption import allow_job_principals_in_key_policy, build_encryption_key
from .execution_role import attach_execution_policy, build_execution_role, execution_statements
from .job_handler import CONFIG_PREFIX, SERVICE_TIMEOUT, JobHandler, handler_statements
from .messaging import build_holding_queue, build_topic, publish_uploads
from .pipeline import upstream_statements
from .plan import JobPlan
from .policies import Statements
from .regions import BuiltInArns
from .request import OUTPUT_PREFIX, Wiring, custom_resource_properties
from .state import StackState, node_addr
from .storage import AccessLogs, build_data_bucket

RESOURCE_TYPE = "Custom::SageMakerStreamingLabelingJob"


@dataclass(frozen=True)
class Topics:
    input: sns.ITopic
    output: sns.ITopic
    #: The topics' ARNs (token strings), read from the jsii runtime once.
    input_arn: str
    output_arn: str


@dataclass(frozen=True)
class Buckets:
    input: Optional[s3.IBucket]
    output: s3.IBucket
    access_logs: Optional[s3.IBucket]
    #: The input bucket's ``Custom::S3BucketNotifications``, when uploads are published.
    notifications: Optional[IConstruct]
    #: The input bucket's ARN (a token string), read from the jsii runtime once.
    input_arn: Optional[str] = None


@dataclass(frozen=True)
class Permissions:
    role: iam.IRole
    wiring: Wiring
    execution_policy: iam.ManagedPolicy


def build_key(scope: Construct, plan: JobPlan) -> kms.IKey:
    props = plan.props
    return build_encryption_key(scope, existing_key=props["existing_encryption_key"],
                                key_props=props["encryption_key_props"], removal_policy=props["removal_policy"])


def build_topics(scope: Construct, plan: JobPlan, key: kms.IKey) -> Topics:
    """A chained job's input topic is its upstream job's output topic."""
    props = plan.props
    input_topic = plan.upstream.output_topic if plan.upstream is not None else build_topic(
        scope, "InputTopic", prop_name="input_topic_props", existing_topic=props["existing_input_topic"],
        topic_props=props["input_topic_props"], key=key,
    )
    output_topic = build_topic(scope, "OutputTopic", prop_name="output_topic_props",
                               existing_topic=props["existing_output_topic"], topic_props=props["output_topic_props"],
                               key=key)
    return Topics(input=input_topic, output=output_topic, input_arn=input_topic.topic_arn,
                  output_arn=output_topic.topic_arn)


def build_buckets(scope: Construct, plan: JobPlan, key: kms.IKey, topics: Topics, handler: JobHandler,
                  state: StackState) -> Buckets:
    """The data buckets (the access-log bucket of the stack if one is created), and the upload notification."""
    props = plan.props
    access_logs = props["access_logs_bucket"]
    if access_logs is None and plan.creates_a_bucket:
        access_logs = AccessLogs.of(state.stack, removal_policy=props["removal_policy"])
    logs_prefix = f"{plan.prefix}-{node_addr(scope)[:8]}" if plan.creates_a_bucket else ""
    input_bucket = None
    if plan.wants_input_bucket:
        input_bucket = build_data_bucket(
            scope, "InputBucket", prop_name="input_bucket_props", existing_bucket=props["existing_input_bucket"],
            bucket_props=props["input_bucket_props"], key=key, cors=list(plan.input_cors),
            access_logs_bucket=access_logs, access_logs_prefix=f"{logs_prefix}/input-bucket/",
            removal_policy=props["removal_policy"],
            notifications_role=handler.notifications_role() if plan.uploads_published_to_input_topic else None,
        )
    output_bucket = build_data_bucket(
        scope, "OutputBucket", prop_name="output_bucket_props", existing_bucket=props["existing_output_bucket"],
        bucket_props=props["output_bucket_props"], key=key, cors=list(plan.output_cors),
        access_logs_bucket=access_logs, access_logs_prefix=f"{logs_prefix}/output-bucket/",
        removal_policy=props["removal_policy"],
    )
    notifications: Optional[IConstruct] = None
    input_arn = input_bucket.bucket_arn if input_bucket is not None else None
    if plan.uploads_published_to_input_topic and input_bucket is not None and input_arn is not None:
        publish_uploads(input_bucket, topics.input, key, state.pseudo, topic_arn=topics.input_arn,
                        bucket_arn=input_arn)
        notifications = child(input_bucket, BUCKET_NOTIFICATIONS_ID)
        if notifications is not None:
            notifications.node.add_dependency(handler.allow_notifications(input_arn))
            acknowledge_unrendered_notifications_policy(notifications)
    return Buckets(input=input_bucket, output=output_bucket, access_logs=access_logs, notifications=notifications,
                   input_arn=input_arn)


def chain_to_upstream(scope: Construct, plan: JobPlan, key: kms.IKey) -> Statements:
    """What a chained job's role reads of its upstream job; the upstream job opens its buckets to workers."""
    upstream = plan.upstream
    if upstream is None:
        return Statements()
    statements = upstream_statements(
        input_bucket_arn=upstream.input_bucket.bucket_arn if upstream.input_bucket is not None else None,
        output_bucket_arn=upstream.output_bucket.bucket_arn,
        output_prefixes=[OUTPUT_PREFIX],
        key_arn=upstream.encryption_key.key_arn if upstream.encryption_key is not key else None,
    )
    if plan.upstream_cors is not None:
        upstream.open_buckets_to_workers(scope, plan.upstream_cors)
    return statements


def build_permissions(scope: Construct, plan: JobPlan, key: kms.IKey, topics: Topics, buckets: Buckets,
                      state: StackState) -> Permissions:
    """The execution role and its policy (the wildcards acknowledged); the role named in a managed key's policy."""
    p = state.pseudo
    role = build_execution_role(scope, p, existing_role=plan.props["existing_role"], job_name_prefix=plan.prefix)
    wiring = Wiring(  # token strings read once: each attribute read is a jsii round trip
        input_topic=topics.input_arn,
        output_topic=topics.output_arn,
        input_bucket=buckets.input_arn,
        input_bucket_name=buckets.input.bucket_name if buckets.input is not None else None,
        output_bucket=buckets.output.bucket_arn,
        output_bucket_name=buckets.output.bucket_name,
        key=key.key_arn,
        role=role.role_arn,
    )
    chained = chain_to_upstream(scope, plan, key)
    statements = execution_statements(
        p, input_topic_arn=wiring.input_topic, output_topic_arn=wiring.output_topic,
        input_bucket_arn=wiring.input_bucket, output_bucket_arn=wiring.output_bucket, key_arn=wiring.key,
        job_name_prefix=plan.prefix, output_prefixes=[OUTPUT_PREFIX, CONFIG_PREFIX], chained=chained,
        manifest_object_arn=plan.manifest_object_arn, invoked_function_arns=plan.invoked_function_arns,
    )
    policy = attach_execution_policy(scope, role, statements)
    acknowledge_statements(policy, statements, state)
    if isinstance(key, kms.Key):
        allow_job_principals_in_key_policy(key, wiring.role, lambda: node_addr(scope)[:12], state)
    return Permissions(role=role, wiring=wiring, execution_policy=policy)


@dataclass(frozen=True)
class HoldingQueue:
    queue: sqs.Queue
    #: The queue's ARN (a token string), read from the jsii runtime once.
    arn: str


def build_holding_queue_of(scope: Construct, plan: JobPlan, key: kms.IKey, topics: Topics, handler: JobHandler,
                           state: StackState) -> Optional[HoldingQueue]:
    """Renewal after an idle stop: the job's holding queue, and its prefix in the stack's renewal rule."""
    if not plan.props["renew_after_idle_stop"]:
        return None
    queue, arn = build_holding_queue(scope, topics.input, key, state.pseudo, topic_arn=topics.input_arn)
    handler.renew_after_idle_stop(plan.prefix)
    acknowledge_holding_queue(queue, kms_encrypted=isinstance(key, kms.Key))
    return HoldingQueue(queue=queue, arn=arn)


def allow_handler(plan: JobPlan, handler: JobHandler, permissions: Permissions, topics: Topics,
                  holding_queue: Optional[HoldingQueue], state: StackState) -> iam.ManagedPolicy:
    wiring = permissions.wiring
    return handler.allow_job(handler_statements(
        state.pseudo, prefix=plan.prefix, role_arn=wiring.role, output_bucket_arn=wiring.output_bucket,
        key_arn=wiring.key, input_topic_arn=wiring.input_topic,
        holding_queue_arn=holding_queue.arn if holding_queue is not None else None,
    ), state)


def build_job_resource(scope: Construct, plan: JobPlan, stack: Stack, state: StackState, handler: JobHandler,
                       wiring: Wiring, holding_queue: Optional[HoldingQueue]) -> CustomResource:
    task_type = plan.props["task_type"]
    built_in = None if task_type.is_custom else BuiltInArns(stack, task_type, plan.props["built_in_lambda_accounts"],
                                                              state)
    return CustomResource(
        scope,
        "Resource",
        service_token=handler.function_arn,
        resource_type=RESOURCE_TYPE,
        properties=custom_resource_properties(
            plan.settings, built_in, wiring, wait_for_stopped_on_delete=plan.destroy,
            holding_queue_url=holding_queue.queue.queue_url if holding_queue is not None else None,
        ),
        service_timeout=SERVICE_TIMEOUT,
    )


def ordered_after(plan: JobPlan, buckets: Buckets) -> List[IConstruct]:
    """Bucket policies, the upload notification and the auto-delete resources of the created buckets."""
    props = plan.props
    children: List[IConstruct] = [buckets.notifications] if buckets.notifications is not None else []
    for bucket, given in ((buckets.input, props["existing_input_bucket"]),
                          (buckets.output, props["existing_output_bucket"])):
        if bucket is None or given is not None or not isinstance(bucket, s3.Bucket):
            continue
        policy = bucket.policy  # read once: each read is a jsii round trip
        if policy is not None:
            children.append(policy)
        auto_delete = child(bucket, AUTO_DELETE_OBJECTS_ID) if plan.destroy else None
        if auto_delete is not None:
            children.append(auto_delete)
    return children

"""The IAM role that Ground Truth assumes to run a streaming job, and what it may do.

The statements follow the developer guide's policy for streaming jobs with
built-in task types, narrowed to this job's topics, buckets, key, log group
and ``GroundTruth-<job name>`` queue, instead of the broad managed policy
``AmazonSageMakerGroundTruthExecution``.
"""

from __future__ import annotations

from typing import Optional, Sequence

from aws_cdk import aws_iam as iam
from constructs import Construct

from .conventions import QUEUE_PREFIX
from .policies import Statements, combine, statement
from .pseudo import Pseudo

SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"


def job_log_group_arn(p: Pseudo) -> str:
    return p.arn("logs", "log-group:/aws/sagemaker/LabelingJobs")


def labeling_job_arn_pattern(p: Pseudo, job_name_prefix: str) -> str:
    """ARN of every job this construct can create: ``<prefix>-<hash>``."""
    return p.arn("sagemaker", f"labeling-job/{job_name_prefix}-*")


def ground_truth_queue_arn_pattern(p: Pseudo, job_name_prefix: str) -> str:
    """The queue Ground Truth creates: ``GroundTruth-<job name in lowercase>``."""
    return p.arn("sqs", f"{QUEUE_PREFIX}{job_name_prefix.lower()}-*")


def job_log_stream_arn_pattern(p: Pseudo, job_name_prefix: str) -> str:
    """Ground Truth logs each job to a stream named after it in ``/aws/sagemaker/LabelingJobs``."""
    return f"{job_log_group_arn(p)}:log-stream:{job_name_prefix.lower()}-*"


def build_execution_role(
    scope: Construct, p: Pseudo, *, existing_role: Optional[iam.IRole], job_name_prefix: str
) -> iam.IRole:
    """The user's role, or a new one that only SageMaker, for this account's jobs, can assume.

    The confused-deputy conditions use the ``IfExists`` forms: SageMaker does not
    document that it sends ``aws:SourceArn`` when it assumes a labeling job's
    role, and a strict condition on a missing key would fail every job.
    """
    if existing_role is not None:
        return existing_role
    return iam.Role(
        scope,
        "ExecutionRole",
        description="Assumed by SageMaker Ground Truth to run a streaming labeling job",
        assumed_by=iam.ServicePrincipal(SAGEMAKER_PRINCIPAL).with_conditions(
            {
                "StringEqualsIfExists": {"aws:SourceAccount": p.account},
                "ArnLikeIfExists": {"aws:SourceArn": labeling_job_arn_pattern(p, job_name_prefix)},
            }
        ),
    )


def execution_statements(
    p: Pseudo,
    *,
    input_topic_arn: str,
    output_topic_arn: str,
    input_bucket_arn: Optional[str],
    output_bucket_arn: str,
    key_arn: str,
    job_name_prefix: str,
    output_prefixes: Sequence[str],
    invoked_function_arns: Sequence[str] = (),
    chained: Optional[Statements] = None,
    manifest_object_arn: Optional[str] = None,
) -> Statements:
    """Exactly what a running streaming job uses, with the reason for each wildcard resource.

    Built as plain JSON around token strings: one round trip to the jsii runtime for the
    whole document instead of several per statement, which keeps synthesis of many jobs fast.
    ``chained``: what a chained job reads of its upstream job (``pipeline.upstream_statements``).
    """
    queue_arn = ground_truth_queue_arn_pattern(p, job_name_prefix)
    buckets = [arn for arn in (input_bucket_arn, output_bucket_arn) if arn is not None]
    parts = [
        *([statement("ReadInputObjects", ["s3:GetObject"], [f"{input_bucket_arn}/*"], wildcard_reason="object-keys")]
          if input_bucket_arn else []),
        statement(
            "ReadWriteOutputObjects",
            ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            [f"{output_bucket_arn}/{prefix}*" for prefix in output_prefixes],
            wildcard_reason="object-keys",
        ),
        statement("ListBuckets", ["s3:GetBucketLocation", "s3:ListBucket"], buckets),
        statement(
            "UseKey",
            ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo",
             "kms:DescribeKey"],
            [key_arn],
        ),
        statement(
            "StreamingQueue",
            [
                "sqs:CreateQueue",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:ReceiveMessage",
                "sqs:SendMessage",
                "sqs:SetQueueAttributes",
            ],
            [queue_arn],
            wildcard_reason="queue",
        ),
        statement(
            "SubscribeQueueToInputTopic",
            ["sns:Subscribe"],
            [input_topic_arn],
            Condition={"StringEquals": {"sns:Protocol": "sqs"}, "StringLike": {"sns:Endpoint": queue_arn}},
        ),
        # Ground Truth removes its subscription when the job stops. sns:Unsubscribe acts on a
        # subscription and supports no resource-level permissions (IAM Service Authorization
        # Reference), hence "*", as in the managed policy AmazonSageMakerGroundTruthExecution.
        statement("UnsubscribeFromInputTopic", ["sns:Unsubscribe"], ["*"], wildcard_reason="no-resource-level"),
        statement("PublishOutput", ["sns:Publish"], [output_topic_arn]),
        statement(
            "JobLogs",
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            [job_log_group_arn(p), job_log_stream_arn_pattern(p, job_name_prefix)],
            wildcard_reason="log-stream",
        ),
        statement(
            "JobMetrics",
            ["cloudwatch:PutMetricData"],
            ["*"],
            wildcard_reason="no-resource-level",
            Condition={"StringLike": {"cloudwatch:namespace": ["AWS/SageMaker*", "AWS/Sagemaker*"]}},
        ),
    ]
    if manifest_object_arn:  # the initial manifest, wherever it is: exactly that object
        parts.append(statement("ReadInitialManifest", ["s3:GetObject"], [manifest_object_arn],
                               wildcard_reason="object-keys"))
    if chained is not None:  # a chained job reads what the upstream job's messages point at
        parts.append(chained)
    if invoked_function_arns:
        parts.append(statement("InvokeCustomTaskLambdas", ["lambda:InvokeFunction"], invoked_function_arns))
    return combine(parts)


def attach_execution_policy(scope: Construct, role: iam.IRole, statements: Statements) -> iam.ManagedPolicy:
    """One customer-managed policy per job, so that each job's creation depends on its own permissions.

    IAM allows 10 managed policies per role by default (20 on request): a role shared by
    more jobs than that needs the quota raised.
    """
    document = iam.PolicyDocument.from_json(statements.document())
    return iam.ManagedPolicy(scope, "ExecutionPolicy", roles=[role], document=document)



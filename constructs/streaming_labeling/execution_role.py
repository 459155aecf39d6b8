"""The IAM role that Ground Truth assumes to run a streaming job, and what it may do.

The statements follow the developer guide's policy for streaming jobs with
built-in task types, narrowed to this job's topics, buckets, key, log group
and ``GroundTruth-<job name>`` queue, instead of the broad managed policy
``AmazonSageMakerGroundTruthExecution``.
"""

from __future__ import annotations

from typing import Optional, Sequence

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"
JOB_LOG_GROUP_ARN = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:/aws/sagemaker/LabelingJobs"


def labeling_job_arn_pattern(job_name_prefix: str) -> str:
    """ARN of every job this construct can create: ``<prefix>-<hash>``."""
    return f"arn:{Aws.PARTITION}:sagemaker:{Aws.REGION}:{Aws.ACCOUNT_ID}:labeling-job/{job_name_prefix}-*"


def ground_truth_queue_arn_pattern(job_name_prefix: str) -> str:
    """The queue Ground Truth creates: ``GroundTruth-<job name in lowercase>``."""
    return f"arn:{Aws.PARTITION}:sqs:{Aws.REGION}:{Aws.ACCOUNT_ID}:GroundTruth-{job_name_prefix.lower()}-*"


def job_log_stream_arn_pattern(job_name_prefix: str) -> str:
    """Ground Truth logs each job to a stream named after it in ``/aws/sagemaker/LabelingJobs``."""
    return f"{JOB_LOG_GROUP_ARN}:log-stream:{job_name_prefix.lower()}-*"


def build_execution_role(scope: Construct, *, existing_role: Optional[iam.IRole], job_name_prefix: str) -> iam.IRole:
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
                "StringEqualsIfExists": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                "ArnLikeIfExists": {"aws:SourceArn": labeling_job_arn_pattern(job_name_prefix)},
            }
        ),
    )


def execution_statements(
    *,
    input_topic: sns.ITopic,
    output_topic: sns.ITopic,
    input_bucket: s3.IBucket,
    output_bucket: s3.IBucket,
    key: kms.IKey,
    job_name_prefix: str,
    output_prefixes: Sequence[str],
    invoked_function_arns: Sequence[str] = (),
) -> Sequence[iam.PolicyStatement]:
    """Exactly what a running streaming job uses."""
    queue_arn = ground_truth_queue_arn_pattern(job_name_prefix)
    statements = [
        iam.PolicyStatement(
            sid="ReadInputObjects",
            actions=["s3:GetObject"],
            resources=[input_bucket.arn_for_objects("*")],
        ),
        iam.PolicyStatement(
            sid="ReadWriteOutputObjects",
            actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            resources=[output_bucket.arn_for_objects(f"{prefix}*") for prefix in output_prefixes],
        ),
        iam.PolicyStatement(
            sid="ListBuckets",
            actions=["s3:GetBucketLocation", "s3:ListBucket"],
            resources=[input_bucket.bucket_arn, output_bucket.bucket_arn],
        ),
        iam.PolicyStatement(
            sid="UseKey",
            actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo",
                     "kms:DescribeKey"],
            resources=[key.key_arn],
        ),
        iam.PolicyStatement(
            sid="StreamingQueue",
            actions=[
                "sqs:CreateQueue",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:ReceiveMessage",
                "sqs:SendMessage",
                "sqs:SetQueueAttributes",
            ],
            resources=[queue_arn],
        ),
        iam.PolicyStatement(
            sid="SubscribeQueueToInputTopic",
            actions=["sns:Subscribe"],
            resources=[input_topic.topic_arn],
            conditions={
                "StringEquals": {"sns:Protocol": "sqs"},
                "StringLike": {"sns:Endpoint": queue_arn},
            },
        ),
        iam.PolicyStatement(
            # Ground Truth removes its subscription when the job stops. sns:Unsubscribe acts on a
            # subscription and supports no resource-level permissions (IAM Service Authorization
            # Reference), hence "*", as in the managed policy AmazonSageMakerGroundTruthExecution.
            sid="UnsubscribeFromInputTopic",
            actions=["sns:Unsubscribe"],
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="PublishOutput",
            actions=["sns:Publish"],
            resources=[output_topic.topic_arn],
        ),
        iam.PolicyStatement(
            sid="JobLogs",
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            resources=[JOB_LOG_GROUP_ARN, job_log_stream_arn_pattern(job_name_prefix)],
        ),
        iam.PolicyStatement(
            sid="JobMetrics",
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": ["AWS/SageMaker*", "AWS/Sagemaker*"]}},
        ),
    ]
    if invoked_function_arns:
        statements.append(
            iam.PolicyStatement(
                sid="InvokeCustomTaskLambdas",
                actions=["lambda:InvokeFunction"],
                resources=list(invoked_function_arns),
            )
        )
    return statements


def attach_execution_policy(
    scope: Construct, role: iam.IRole, statements: Sequence[iam.PolicyStatement]
) -> iam.ManagedPolicy:
    """One customer-managed policy per job, so that each job's creation depends on its own permissions.

    IAM allows 10 managed policies per role by default (20 on request): a role shared by
    more jobs than that needs the quota raised.
    """
    return iam.ManagedPolicy(scope, "ExecutionPolicy", roles=[role], statements=list(statements))



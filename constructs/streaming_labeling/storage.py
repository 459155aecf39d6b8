"""The input, output and access-log buckets of a streaming job."""

from __future__ import annotations

from typing import List, Optional

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .compliance import acknowledge

#: CORS that Ground Truth needs for image tasks: workers' browsers GET the objects.
IMAGE_CORS = s3.CorsRule(
    allowed_methods=[s3.HttpMethods.GET],
    allowed_origins=["*"],
    exposed_headers=["Access-Control-Allow-Origin"],
)

#: CORS for 3D point cloud and video frame tasks, whose UIs also read and write the output bucket.
FULL_CORS = s3.CorsRule(
    allowed_methods=[s3.HttpMethods.GET, s3.HttpMethods.HEAD, s3.HttpMethods.PUT],
    allowed_origins=["*"],
    allowed_headers=["*"],
    exposed_headers=["Access-Control-Allow-Origin"],
    max_age=3000,
)


ACCESS_LOGS_BUCKET_ID = "StreamingLabelingAccessLogsBucket"


def shared_access_logs_bucket(scope: Construct, *, removal_policy: RemovalPolicy) -> s3.Bucket:
    """One bucket per stack for the server access logs of every job's data buckets.

    S3 log delivery supports only SSE-S3. The bucket is created by the first job that
    needs it and takes that job's removal policy. Object ownership is left to
    aws-cdk-lib: with the ``serverAccessLogsUseBucketPolicy`` feature flag log delivery
    is granted by bucket policy, without it by an ACL that needs ``ObjectWriter``; apps
    without the flag must still synthesize.
    """
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(ACCESS_LOGS_BUCKET_ID)
    if isinstance(existing, s3.Bucket):
        return existing
    bucket = s3.Bucket(
        stack,
        ACCESS_LOGS_BUCKET_ID,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        removal_policy=removal_policy,
        auto_delete_objects=removal_policy == RemovalPolicy.DESTROY,
        lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(90))],
    )
    acknowledge(bucket, "NIST.800.53.R5-S3DefaultEncryptionKMS", "access-log-sse")
    acknowledge(bucket, "NIST.800.53.R5-S3BucketReplicationEnabled", "replication")
    return bucket


def build_data_bucket(
    scope: Construct,
    construct_id: str,
    *,
    existing_bucket: Optional[s3.IBucket],
    bucket_props: Optional[s3.BucketProps],
    key: kms.IKey,
    cors: List[s3.CorsRule],
    access_logs_bucket: Optional[s3.IBucket],
    access_logs_prefix: str,
    removal_policy: RemovalPolicy,
    notifications_role: Optional[iam.IRole] = None,
) -> s3.IBucket:
    """The user's bucket, or a new private, versioned, SSE-KMS bucket that refuses plain HTTP.

    Retained on stack deletion unless ``removal_policy`` is DESTROY, in which
    case its objects are deleted with it.
    """
    if existing_bucket is not None:
        return existing_bucket
    props = bucket_props or s3.BucketProps()
    policy = props.removal_policy or removal_policy
    bucket = s3.Bucket(
        scope,
        construct_id,
        bucket_name=props.bucket_name,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=props.encryption_key or key,
        bucket_key_enabled=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True if props.versioned is None else props.versioned,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        cors=list(props.cors or []) + cors,
        lifecycle_rules=props.lifecycle_rules,
        server_access_logs_bucket=props.server_access_logs_bucket or access_logs_bucket,
        server_access_logs_prefix=props.server_access_logs_prefix or access_logs_prefix,
        removal_policy=policy,
        auto_delete_objects=policy == RemovalPolicy.DESTROY,
        notifications_handler_role=notifications_role,
    )
    acknowledge(bucket, "NIST.800.53.R5-S3BucketReplicationEnabled", "replication")
    return bucket

"""The input, output and access-log buckets of a streaming job."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .compliance import acknowledge, pin_security_flags
from .props import Required, consolidate
from .state import stack_singleton

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


ACCESS_LOGS_ID = "StreamingLabelingAccessLogs"


class AccessLogs(Construct):
    """One bucket per stack for the server access logs of every job's data buckets.

    S3 log delivery supports only SSE-S3. The bucket is created by the first job that
    needs it and takes that job's removal policy. Log delivery is granted by bucket
    policy, never by the legacy ``LogDeliveryWrite`` ACL, whatever the app's feature
    flags say: the flag aws-cdk-lib reads is pinned on this construct.
    """

    def __init__(self, scope: Construct, construct_id: str, *, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, construct_id)
        pin_security_flags(self)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            removal_policy=removal_policy,
            auto_delete_objects=removal_policy == RemovalPolicy.DESTROY,
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(90))],
        )
        acknowledge(self.bucket, "NIST.800.53.R5-S3DefaultEncryptionKMS", "access-log-sse")
        acknowledge(self.bucket, "NIST.800.53.R5-S3BucketReplicationEnabled", "replication")

    @staticmethod
    def of(scope: Construct, *, removal_policy: RemovalPolicy) -> s3.Bucket:
        def make(stack: Stack, construct_id: str) -> AccessLogs:
            return AccessLogs(stack, construct_id, removal_policy=removal_policy)

        return stack_singleton(scope, ACCESS_LOGS_ID, AccessLogs, make).bucket


def _bucket_requirements(key: kms.IKey, notifications_role: Optional[iam.IRole]) -> Dict[str, Required]:
    required = {
        "encryption": Required(s3.BucketEncryption.KMS, "labeled data is encrypted with the job's KMS key"),
        "encryption_key": Required(
            key, "the job's role, SageMaker and S3 are granted the job's key; bring your own key with "
            "existing_encryption_key"
        ),
        "block_public_access": Required(s3.BlockPublicAccess.BLOCK_ALL, "labeled data is never public"),
        "public_read_access": Required(False, "labeled data is never public"),
        "enforce_ssl": Required(True, "the bucket refuses requests over plain HTTP"),
        "object_ownership": Required(
            s3.ObjectOwnership.BUCKET_OWNER_ENFORCED, "ACLs stay disabled; access is granted by policy only"
        ),
    }
    if notifications_role is not None:
        required["notifications_handler_role"] = Required(
            notifications_role, "the notifications Lambda's role is scoped to the input buckets by the construct"
        )
    return required


def build_data_bucket(
    scope: Construct,
    construct_id: str,
    *,
    prop_name: str,
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

    Every field of ``bucket_props`` reaches the bucket; the job's CORS rules are added to
    the user's. Retained on stack deletion unless the removal policy is DESTROY, in which
    case its objects are deleted with it.
    """
    if existing_bucket is not None:
        return existing_bucket
    defaults: Dict[str, Any] = {
        "bucket_key_enabled": True,
        "versioned": True,
        "removal_policy": removal_policy,
        "server_access_logs_bucket": access_logs_bucket,
        "server_access_logs_prefix": access_logs_prefix,
    }
    settings = consolidate(
        scope, prop_name, bucket_props, defaults=defaults, required=_bucket_requirements(key, notifications_role)
    )
    settings["cors"] = list(settings.get("cors") or []) + cors
    settings.setdefault("auto_delete_objects", settings["removal_policy"] == RemovalPolicy.DESTROY)
    bucket = s3.Bucket(scope, construct_id, **settings)
    acknowledge(bucket, "NIST.800.53.R5-S3BucketReplicationEnabled", "replication")
    return bucket

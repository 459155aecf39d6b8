"""The customer-managed KMS key that encrypts both topics and both buckets."""

from __future__ import annotations

from typing import Optional

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms

from constructs import Construct


def build_encryption_key(
    scope: Construct,
    *,
    existing_key: Optional[kms.IKey],
    key_props: Optional[kms.KeyProps],
    removal_policy: RemovalPolicy,
) -> kms.IKey:
    """The user's key, or a new one with rotation on.

    SNS rejects the AWS-managed ``alias/aws/sns`` key for a topic that S3 or
    SageMaker publish to, so the default is a customer-managed key.
    """
    if existing_key is not None:
        return existing_key
    props = key_props or kms.KeyProps()
    return kms.Key(
        scope,
        "Key",
        description=props.description or "Encrypts the topics and buckets of a Ground Truth streaming labeling job",
        enable_key_rotation=True if props.enable_key_rotation is None else props.enable_key_rotation,
        removal_policy=props.removal_policy or removal_policy,
        pending_window=props.pending_window,
        alias=props.alias,
        admins=props.admins,
        policy=props.policy,
        rotation_period=props.rotation_period,
    )

"""The customer-managed KMS key that encrypts both topics and both buckets."""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Mapping, Optional

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from .props import Required, consolidate, user_values
from .state import StackState

#: What the account's IAM policies may grant on the key: administration and symmetric-key use,
#: spelled out instead of ``kms:*`` so that no statement carries a wildcard action.
ACCOUNT_KEY_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:ListRetirableGrants",
    "kms:PutKeyPolicy",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)


#: Attribute of a library-built key's Python object: the policy document the key was given.
_KEY_POLICY_ATTR = "_streaming_labeling_key_policy"


def account_key_policy() -> iam.PolicyDocument:
    """The account administers the key and may grant its use through IAM (no ``kms:*``)."""
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                sid="AccountAdministersAndDelegatesThroughIam",
                principals=[iam.AccountRootPrincipal()],
                actions=list(ACCOUNT_KEY_ACTIONS),
                resources=["*"],
            )
        ]
    )


def build_encryption_key(
    scope: Construct,
    *,
    existing_key: Optional[kms.IKey],
    key_props: Optional[kms.KeyProps],
    removal_policy: RemovalPolicy,
) -> kms.IKey:
    """The user's key, or a new symmetric one with rotation on.

    Every field of ``key_props`` reaches the key. SNS rejects the AWS-managed
    ``alias/aws/sns`` key for a topic that S3 or SageMaker publish to, so the
    default is a customer-managed key.
    """
    if existing_key is not None:
        return existing_key
    settings = consolidate(
        scope,
        "encryption_key_props",
        key_props,
        defaults={
            "description": "Encrypts the topics and buckets of a Ground Truth streaming labeling job",
            "removal_policy": removal_policy,
            "policy": account_key_policy(),
        },
        required={
            "enable_key_rotation": Required(True, "the key material rotates yearly (AwsSolutions-KMS5)"),
            "key_spec": Required(kms.KeySpec.SYMMETRIC_DEFAULT, "SNS and S3 encrypt only with symmetric keys"),
            "key_usage": Required(kms.KeyUsage.ENCRYPT_DECRYPT, "SNS and S3 encrypt only with symmetric keys"),
        },
    )
    if not any(field in user_values(key_props) for field in ("key_spec", "key_usage")):
        settings.pop("key_spec")
        settings.pop("key_usage")
    key = kms.Key(scope, "Key", **settings)
    # aws-cdk-lib's Key keeps the document it is given as its policy (``props.policy ?? new ...``):
    # remembered, the library adds its statements there directly (``add_key_statements``).
    key.__dict__[_KEY_POLICY_ATTR] = settings["policy"]
    return key


def service_use_statement(sid: str, service: str, account: str) -> Dict[str, Any]:
    """Key-policy JSON: an AWS service may encrypt and decrypt with the key on this account's behalf.

    What a service needs to write to, or deliver from, an encrypted topic or queue; bound to the
    account by ``aws:SourceAccount`` (the confused-deputy condition).
    """
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account}},
    }


def add_key_statements(key: kms.Key, *statements: Mapping[str, Any]) -> None:
    """Add JSON statements to a key's policy, in order: what ``key.add_to_resource_policy`` does for each.

    For a key the library built, one ``from_json`` round trip per statement and one ``add_statements``
    for all of them, instead of four round trips per statement (``add_to_resource_policy`` returns a
    struct whose two fields the jsii runtime reads back). A key of the user's: ``add_to_resource_policy``.
    """
    parsed = [iam.PolicyStatement.from_json(dict(document)) for document in statements]
    policy: Optional[iam.PolicyDocument] = key.__dict__.get(_KEY_POLICY_ATTR)
    if policy is None:
        for statement in parsed:
            key.add_to_resource_policy(statement)
        return
    policy.add_statements(*parsed)


def allow_job_principals_in_key_policy(key: kms.Key, role_arn: str, statement_suffix: Callable[[], str],
                                       state: Optional[StackState] = None) -> None:
    """Name in the key policy the principals a streaming job uses the key through.

    The execution role (output encryption, reading the encrypted inputs, publishing to
    the encrypted output topic, as the developer guide's key policy lists) and SageMaker
    itself, both bound to this account. Statements are JSON (``add_key_statements``).
    The roles already named are remembered by the key's stack, so that jobs sharing a
    key and a role add one statement.
    """
    state = state or StackState.of(key)
    roles = state.key_policies.roles.setdefault(key, set())
    if role_arn in roles:
        return
    roles.add(role_arn)
    p = state.pseudo
    statements: List[Mapping[str, Any]] = [
        {
            # A key shared by jobs with different roles gets one statement per role; Sids are unique.
            "Sid": "AllowExecutionRole" + re.sub(r"[^A-Za-z0-9]", "", statement_suffix()),
            # The account as principal, narrowed to the role by condition: KMS rejects a key
            # policy that names a role IAM has not yet propagated, as a role created in the
            # same deployment may be.
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{p.partition}:iam::{p.account}:root"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                "ArnEquals": {"aws:PrincipalArn": role_arn},
                "StringEquals": {"kms:CallerAccount": p.account},
            },
        }
    ]
    if len(roles) == 1:  # the first job on this key
        statements.append(service_use_statement("AllowSageMakerForOutputTopic", "sagemaker.amazonaws.com", p.account))
    add_key_statements(key, *statements)

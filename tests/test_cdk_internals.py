"""Each aws-cdk-lib child id the library relies on (no public API exists for these) still exists.

When a newer aws-cdk-lib renames one, the test says which constant in
``streaming_labeling/cdk_internals.py`` to update, instead of the job silently
losing an ordering dependency or a cdk-nag acknowledgement.
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sns as sns

from streaming_labeling import cdk_internals

from . import apps


def bucket_with_everything() -> tuple[cdk.Stack, s3.Bucket]:
    stack = cdk.Stack(apps.new_app(), "Internals")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    bucket = s3.Bucket(stack, "Bucket", removal_policy=cdk.RemovalPolicy.DESTROY, auto_delete_objects=True,
                       notifications_handler_role=role.without_policy_updates())
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SnsDestination(sns.Topic(stack, "Topic")))
    return stack, bucket


@pytest.mark.parametrize(
    "constant,where",
    [
        ("BUCKET_NOTIFICATIONS_ID", "bucket"),
        ("AUTO_DELETE_OBJECTS_ID", "bucket"),
        ("AUTO_DELETE_PROVIDER_ID", "stack"),
        ("NOTIFICATIONS_HANDLER_ID", "stack"),
    ],
)
def test_aws_cdk_lib_still_uses_the_child_id(constant: str, where: str) -> None:
    stack, bucket = bucket_with_everything()
    parent = bucket if where == "bucket" else stack
    child_id = getattr(cdk_internals, constant)
    children = [c.node.id for c in parent.node.children]
    assert cdk_internals.child(parent, child_id) is not None, (
        f"aws-cdk-lib no longer creates {child_id!r} under the {where}; update cdk_internals.{constant} "
        f"(children now: {children})"
    )


def test_aws_cdk_lib_still_builds_the_unrendered_notifications_policy_under_its_id() -> None:
    stack, bucket = bucket_with_everything()
    notifications = cdk_internals.child(bucket, cdk_internals.BUCKET_NOTIFICATIONS_ID)
    assert notifications is not None
    children = [c.node.id for c in notifications.node.children]
    assert cdk_internals.child(notifications, cdk_internals.NOTIFICATIONS_HANDLER_POLICY_ID) is not None or (
        children == ["Resource"]
    ), f"update cdk_internals.NOTIFICATIONS_HANDLER_POLICY_ID (children now: {children})"

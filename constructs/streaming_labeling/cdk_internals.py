"""Child ids of aws-cdk-lib constructs that the library relies on where no public API exists.

Each is checked by ``tests/test_cdk_internals.py``, which fails with a message naming
the constant to update when a newer aws-cdk-lib renames it.
"""

from __future__ import annotations

from typing import Optional

from constructs import IConstruct

#: ``Bucket.add_event_notification`` creates the ``Custom::S3BucketNotifications`` resource
#: under this id; the job must start after it (S3 sends a test event when it is set up).
BUCKET_NOTIFICATIONS_ID = "Notifications"
#: The inline policy aws-cdk-lib builds for the notifications Lambda's role, under the
#: notifications resource; it is not deployed when the role comes without policy updates.
NOTIFICATIONS_HANDLER_POLICY_ID = "HandlerPolicy"
#: ``auto_delete_objects`` creates the custom resource that empties a bucket under this id;
#: the job must stop before it runs.
AUTO_DELETE_OBJECTS_ID = "AutoDeleteObjectsCustomResource"
#: The stack-wide provider of auto-delete custom resources.
AUTO_DELETE_PROVIDER_ID = "Custom::S3AutoDeleteObjectsCustomResourceProvider"
#: The stack-wide Lambda that configures bucket notifications (id fixed by aws-cdk-lib).
NOTIFICATIONS_HANDLER_ID = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"


def child(parent: IConstruct, child_id: str) -> Optional[IConstruct]:
    found: Optional[IConstruct] = parent.node.try_find_child(child_id)
    return found

"""The input and output SNS topics of a streaming job, and the holding queue on the input topic."""

from __future__ import annotations

from typing import Optional, Tuple

import jsii
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .encryption import add_key_statements, service_use_statement
from .props import Required, consolidate
from .pseudo import Pseudo
from .state import node_addr


def build_topic(
    scope: Construct,
    construct_id: str,
    *,
    prop_name: str,
    existing_topic: Optional[sns.ITopic],
    topic_props: Optional[sns.TopicProps],
    key: kms.IKey,
) -> sns.ITopic:
    """The user's topic, or a new one encrypted with the job's key and closed to plain HTTP.

    Every field of ``topic_props`` reaches the topic. New topics are standard topics:
    Ground Truth documents streaming input for standard topics only. SNS signs
    deliveries with SHA256 (version 2) unless the user asks otherwise.
    """
    if existing_topic is not None:
        return existing_topic
    settings = consolidate(
        scope,
        prop_name,
        topic_props,
        defaults={"signature_version": "2"},
        required={
            "master_key": Required(
                key, "the job's role, SageMaker and S3 are granted the job's key; bring your own key with "
                "existing_encryption_key"
            ),
            "enforce_ssl": Required(True, "the topic refuses publishing over plain HTTP"),
            "fifo": Required(False, "Ground Truth takes streaming input from standard topics only"),
        },
    )
    settings.pop("fifo")
    return sns.Topic(scope, construct_id, **settings)


@jsii.implements(s3.IBucketNotificationDestination)
class _TopicDestination:
    """S3 -> SNS without aws-s3-notifications' unconditioned KMS grant to S3.

    The topic policy and key policy statements carry ``aws:SourceAccount`` (and
    the topic's ``aws:SourceArn``) conditions instead.
    """

    def __init__(self, topic: sns.ITopic, p: Pseudo, topic_arn: str, bucket_arn: str) -> None:
        self._topic = topic
        self._p = p
        #: Token strings read once by the caller: this runs as a callback from the jsii runtime, where
        #: every read is one more round trip.
        self._topic_arn = topic_arn
        self._bucket_arn = bucket_arn

    def bind(self, scope: Construct, bucket: s3.IBucket) -> s3.BucketNotificationDestinationConfig:
        result = self._topic.add_to_resource_policy(
            iam.PolicyStatement.from_json({
                "Sid": "AllowS3ToPublishUploads",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": ["sns:Publish"],
                "Resource": [self._topic_arn],
                "Condition": {
                    "ArnLike": {"aws:SourceArn": self._bucket_arn},
                    "StringEquals": {"aws:SourceAccount": self._p.account},
                },
            })
        )
        dependencies = [result.policy_dependable] if result.policy_dependable else []
        return s3.BucketNotificationDestinationConfig(
            arn=self._topic_arn,
            type=s3.BucketNotificationDestinationType.TOPIC,
            dependencies=dependencies,
        )


def publish_uploads(bucket: s3.IBucket, topic: sns.ITopic, key: kms.IKey, p: Pseudo, *,
                    topic_arn: Optional[str] = None, bucket_arn: Optional[str] = None) -> None:
    """Every object created in ``bucket`` becomes a message on ``topic``, encrypted with ``key``.

    ``topic_arn``, ``bucket_arn``: the token strings, when the caller has read them already.
    """
    destination = _TopicDestination(topic, p, topic_arn if topic_arn is not None else topic.topic_arn,
                                    bucket_arn if bucket_arn is not None else bucket.bucket_arn)
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED, destination)  # type: ignore[arg-type]
    statement = service_use_statement("AllowS3ToPublishToEncryptedTopics", "s3.amazonaws.com", p.account)
    if isinstance(key, kms.Key):
        add_key_statements(key, statement)
    else:  # an imported key: add_to_resource_policy adds nothing (its policy is not managed here)
        key.add_to_resource_policy(iam.PolicyStatement.from_json(statement))


#: How long the holding queue keeps a message: less than the 10 idle days before Ground Truth's idle
#: stop, so that after an idle stop all it holds arrived after the stop; days more than a renewal takes.
HOLDING_RETENTION = Duration.days(4)
#: How long a renewal's read of the holding queue hides a message from other readers.
HOLDING_VISIBILITY_TIMEOUT = Duration.minutes(2)


def build_holding_queue(scope: Construct, topic: sns.ITopic, key: kms.IKey, p: Pseudo, *,
                        topic_arn: Optional[str] = None) -> Tuple[sqs.Queue, str]:
    """A queue of the construct's own on the input topic, holding what a renewal must publish again.

    Between Ground Truth's unsubscribe of a job's queue (while an idle job stops) and its successor's
    subscription, nothing else listens on the topic and SNS would drop what producers publish. The
    subscription keeps SNS's envelope, whose MessageId is the id Ground Truth deduplicates by.
    Encrypted with the job's key when the construct manages its policy (SNS must be allowed to use
    it to deliver); with SQS-managed keys when the key is imported. Returns the queue and its ARN.
    ``topic_arn``: the topic's token string, when the caller has read it already.
    """
    managed = isinstance(key, kms.Key)
    queue = sqs.Queue(
        scope,
        "HoldingQueue",
        retention_period=HOLDING_RETENTION,
        encryption=sqs.QueueEncryption.KMS if managed else sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=key if managed else None,
        enforce_ssl=True,
        visibility_timeout=HOLDING_VISIBILITY_TIMEOUT,
    )
    if isinstance(key, kms.Key):
        add_key_statements(key, service_use_statement("AllowSnsToDeliverToHoldingQueue" + node_addr(scope)[:12],
                                                      "sns.amazonaws.com", p.account))
    queue_arn = queue.queue_arn  # read once: each read is a jsii round trip
    # aws-cdk-lib's SqsSubscription would name the topic in the key policy, and the topic uses the key: a
    # dependency cycle. The key statement above is bound to the account; the queue policy to the topic.
    added = queue.add_to_resource_policy(iam.PolicyStatement.from_json({
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": ["sqs:SendMessage"],
        "Resource": [queue_arn],
        "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn if topic_arn is not None else topic.topic_arn}},
    }))
    subscription = sns.Subscription(
        scope, "HoldingSubscription", topic=topic, endpoint=queue_arn, protocol=sns.SubscriptionProtocol.SQS,
    )
    if added.policy_dependable is not None:  # SNS delivers only once the queue policy lets it
        subscription.node.add_dependency(added.policy_dependable)
    return queue, queue_arn

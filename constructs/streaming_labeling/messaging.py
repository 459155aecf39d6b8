"""The input and output SNS topics of a streaming job, and the holding queue on the input topic."""

from __future__ import annotations

from typing import Optional

import jsii
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .props import Required, consolidate
from .pseudo import Pseudo


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

    def __init__(self, topic: sns.ITopic, p: Pseudo) -> None:
        self._topic = topic
        self._p = p

    def bind(self, scope: Construct, bucket: s3.IBucket) -> s3.BucketNotificationDestinationConfig:
        result = self._topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowS3ToPublishUploads",
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self._topic.topic_arn],
                conditions={
                    "ArnLike": {"aws:SourceArn": bucket.bucket_arn},
                    "StringEquals": {"aws:SourceAccount": self._p.account},
                },
            )
        )
        dependencies = [result.policy_dependable] if result.policy_dependable else []
        return s3.BucketNotificationDestinationConfig(
            arn=self._topic.topic_arn,
            type=s3.BucketNotificationDestinationType.TOPIC,
            dependencies=dependencies,
        )


def publish_uploads(bucket: s3.IBucket, topic: sns.ITopic, key: kms.IKey, p: Pseudo) -> None:
    """Every object created in ``bucket`` becomes a message on ``topic``, encrypted with ``key``."""
    bucket.add_event_notification(s3.EventType.OBJECT_CREATED, _TopicDestination(topic, p))  # type: ignore[arg-type]
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowS3ToPublishToEncryptedTopics",
            principals=[iam.ServicePrincipal("s3.amazonaws.com")],
            actions=["kms:GenerateDataKey*", "kms:Decrypt"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": p.account}},
        )
    )


#: How long the holding queue keeps a message: less than the 10 idle days before Ground Truth's idle
#: stop, so that after an idle stop all it holds arrived after the stop; days more than a renewal takes.
HOLDING_RETENTION = Duration.days(4)


def build_holding_queue(scope: Construct, topic: sns.ITopic, key: kms.IKey, p: Pseudo) -> sqs.Queue:
    """A queue of the construct's own on the input topic, holding what a renewal must publish again.

    Between Ground Truth's unsubscribe of a job's queue (while an idle job stops) and its successor's
    subscription, nothing else listens on the topic and SNS would drop what producers publish. The
    subscription keeps SNS's envelope, whose MessageId is the id Ground Truth deduplicates by.
    Encrypted with the job's key when the construct manages its policy (SNS must be allowed to use
    it to deliver); with SQS-managed keys when the key is imported.
    """
    managed = isinstance(key, kms.Key)
    queue = sqs.Queue(
        scope,
        "HoldingQueue",
        retention_period=HOLDING_RETENTION,
        encryption=sqs.QueueEncryption.KMS if managed else sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key=key if managed else None,
        enforce_ssl=True,
        visibility_timeout=Duration.minutes(2),
    )
    if isinstance(key, kms.Key):
        key.add_to_resource_policy(iam.PolicyStatement.from_json({
            "Sid": "AllowSnsToDeliverToHoldingQueue" + scope.node.addr[:12],
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": p.account}},
        }))
    # aws-cdk-lib's SqsSubscription would name the topic in the key policy, and the topic uses the key: a
    # dependency cycle. The key statement above is bound to the account; the queue policy to the topic.
    added = queue.add_to_resource_policy(iam.PolicyStatement(
        principals=[iam.ServicePrincipal("sns.amazonaws.com")],
        actions=["sqs:SendMessage"],
        resources=[queue.queue_arn],
        conditions={"ArnEquals": {"aws:SourceArn": topic.topic_arn}},
    ))
    subscription = sns.Subscription(
        scope, "HoldingSubscription", topic=topic, endpoint=queue.queue_arn, protocol=sns.SubscriptionProtocol.SQS,
    )
    if added.policy_dependable is not None:  # SNS delivers only once the queue policy lets it
        subscription.node.add_dependency(added.policy_dependable)
    return queue

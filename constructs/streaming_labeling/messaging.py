"""The input and output SNS topics of a streaming job."""

from __future__ import annotations

from typing import Optional

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


def build_topic(
    scope: Construct,
    construct_id: str,
    *,
    existing_topic: Optional[sns.ITopic],
    topic_props: Optional[sns.TopicProps],
    key: kms.IKey,
) -> sns.ITopic:
    """The user's topic, or a new one encrypted with the job's key and closed to plain HTTP.

    New topics are standard topics: Ground Truth documents streaming input
    for standard topics only. SNS signs deliveries with SHA256 (version 2).
    """
    if existing_topic is not None:
        return existing_topic
    props = topic_props or sns.TopicProps()
    return sns.Topic(
        scope,
        construct_id,
        display_name=props.display_name,
        topic_name=props.topic_name,
        master_key=props.master_key or key,
        enforce_ssl=True if props.enforce_ssl is None else props.enforce_ssl,
        logging_configs=props.logging_configs,
        message_retention_period_in_days=props.message_retention_period_in_days,
        signature_version=props.signature_version or "2",
        tracing_config=props.tracing_config,
    )

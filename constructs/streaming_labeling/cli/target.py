"""Which job, topic and bucket a command acts on, and the errors a person can act on."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Dict, Optional

import boto3
import click
from botocore.config import Config
from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError, PartialCredentialsError

from ..conventions import INPUT_BUCKET_TAG, QUEUE_PREFIX

TAKES_DATA = ("InProgress",)
ENDED = ("Stopping", "Stopped", "Completed", "Failed")


class CliError(click.ClickException):
    """An error with the one sentence a person needs."""


@dataclass(frozen=True)
class Target:
    topic_arn: str
    bucket: Optional[str] = None
    job_name: Optional[str] = None


class Aws:
    """Clients of one session (standard credential chain, ``--profile``, ``--region``, ``AWS_ENDPOINT_URL``)."""

    def __init__(self, *, region: Optional[str], profile: Optional[str]) -> None:
        region = region or os.environ.get("AWS_REGION")  # as Lambda and the other SDKs set it
        try:
            self.session = boto3.session.Session(profile_name=profile, region_name=region)
        except Exception as error:  # noqa: BLE001 - botocore's ProfileNotFound and friends
            raise CliError(f"{error}") from error
        self._config = Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=64)
        self._clients: Dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            try:
                make: Any = self.session.client
                self._clients[service] = make(service, config=self._config)
            except NoRegionError as error:
                raise CliError("No AWS region: pass --region or set AWS_REGION (or AWS_DEFAULT_REGION).") from error
        return self._clients[service]


def explain(error: Exception) -> str:
    """One line for an AWS error."""
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return ("No AWS credentials found: run `aws configure`, set AWS_PROFILE or AWS_ACCESS_KEY_ID/"
                "AWS_SECRET_ACCESS_KEY, or pass --profile.")
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return f"{error.operation_name}: {info.get('Code', 'Error')}: {info.get('Message', '')}"
    return str(error)


def is_missing_job(error: ClientError) -> bool:
    info = error.response.get("Error", {})
    code, message = str(info.get("Code", "")), str(info.get("Message", "")).lower()
    return code == "ResourceNotFound" or (code == "ValidationException" and
                                          any(hint in message for hint in ("not found", "could not find",
                                                                           "does not exist")))


def describe_job(aws: Aws, job_name: str) -> Dict[str, Any]:
    try:
        job: Dict[str, Any] = aws.client("sagemaker").describe_labeling_job(LabelingJobName=job_name)
        return job
    except ClientError as error:
        if is_missing_job(error):
            region = aws.session.region_name
            raise CliError(f"No labeling job named {job_name!r} in {region}.") from error
        raise CliError(explain(error)) from error
    except (NoCredentialsError, PartialCredentialsError) as error:
        raise CliError(explain(error)) from error


def input_bucket_of(aws: Aws, job: Dict[str, Any]) -> Optional[str]:
    """The input bucket the construct tagged the job with, if it did (and the tags can be read)."""
    try:
        tags = aws.client("sagemaker").list_tags(ResourceArn=job["LabelingJobArn"]).get("Tags", [])
    except ClientError:
        return None
    return next((tag["Value"] for tag in tags if tag.get("Key") == INPUT_BUCKET_TAG), None)


def resolve(aws: Aws, *, job_name: Optional[str], input_topic: Optional[str], input_bucket: Optional[str],
            for_sending: bool) -> Target:
    """The topic (and bucket) to send to: the job's, looked up, or the ones given."""
    if job_name is None and input_topic is None:
        raise CliError("Name the job (--job-name NAME) or its input topic (--input-topic ARN).")
    if job_name is None:
        assert input_topic is not None
        return Target(topic_arn=input_topic, bucket=input_bucket)
    job = describe_job(aws, job_name)
    status = job.get("LabelingJobStatus")
    if for_sending and status in ENDED:
        raise CliError(f"Labeling job {job_name} is {status}: it takes no more data objects "
                       "(a stopped job cannot be restarted; deploy a new one).")
    if for_sending and status not in TAKES_DATA:
        raise CliError(f"Labeling job {job_name} is {status}: send data objects once it is InProgress.")
    topic = job.get("InputConfig", {}).get("DataSource", {}).get("SnsDataSource", {}).get("SnsTopicArn")
    if not topic:
        raise CliError(f"Labeling job {job_name} is not a streaming job (it has no input topic).")
    return Target(topic_arn=topic, bucket=input_bucket or input_bucket_of(aws, job), job_name=job_name)


def queue_depth(aws: Aws, job_name: str) -> Optional[Dict[str, int]]:
    """Visible and in-flight messages of the job's ``GroundTruth-<name>`` queue, if it can be read."""
    sqs = aws.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=QUEUE_PREFIX + job_name.lower())["QueueUrl"]
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
    except ClientError:
        return None
    return {"waiting": int(attributes.get("ApproximateNumberOfMessages", 0)),
            "with workers": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))}

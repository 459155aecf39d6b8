"""Which job, topic and bucket a command acts on, and the pre-flight checks before anything is read or sent."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..handler import shared
from ..handler.shared import INPUT_BUCKET_TAG, QUEUE_PREFIX, RESOURCE_TAG, STOPPED_BY_TAG
from .errors import NO_CREDENTIALS, CliError, code_of, explain

TAKES_DATA = (shared.IN_PROGRESS,)
ENDED = shared.FINISHED_STATUSES

REGION = re.compile(r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{1,63}(?<!-)$")  # botocore's own check (a host label)
TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256}(\.fifo)?)$")

# botocore's own retries for everything but publishing: throttling, faults on AWS's side and dropped
# connections, never AccessDenied or NotFound (botocore's "standard" mode). Publishing has one retry
# budget, the sender's (sender.MAX_ATTEMPTS calls per batch): botocore makes one attempt per call.
RETRIED = Config(retries={"mode": "standard", "total_max_attempts": 3}, max_pool_connections=64,
                 connect_timeout=5, read_timeout=30)
ONE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1}, max_pool_connections=64,
                     connect_timeout=5, read_timeout=30)


@dataclass(frozen=True)
class Target:
    topic_arn: str
    bucket: Optional[str] = None
    job_name: Optional[str] = None
    bucket_unknown_reason: Optional[str] = None  # why --job-name gave no bucket, when it could not tell


class Aws:
    """Clients of one session (standard credential chain, ``--profile``, ``--region``, ``AWS_ENDPOINT_URL``)."""

    def __init__(self, *, region: Optional[str], profile: Optional[str],
                 session: Optional[boto3.session.Session] = None) -> None:
        """``session``: one the caller made (``streaming_labeling.read_labels(session=...)``), instead."""
        self._clients: Dict[Tuple[str, bool], Any] = {}
        if session is not None:
            self.session = session
            return
        region = region or os.environ.get("AWS_REGION")  # as Lambda and the other SDKs set it
        try:
            self.session = boto3.session.Session(profile_name=profile, region_name=region)
        except BotoCoreError as error:  # ProfileNotFound and friends
            raise CliError(explain(error)) from error

    @property
    def region(self) -> Optional[str]:
        return self.session.region_name

    def client(self, service: str, *, retried: bool = True) -> Any:
        """A client; ``retried=False``: botocore makes a single attempt per call (the caller retries)."""
        key = (service, retried)
        if key not in self._clients:
            make: Any = self.session.client
            self._clients[key] = make(service, config=RETRIED if retried else ONE_ATTEMPT)
        return self._clients[key]

    def check_credentials(self) -> None:
        """Once, before anything else: no credentials is one line, not one error per call."""
        if self.session.get_credentials() is None:
            raise CliError(NO_CREDENTIALS)


def parse_topic_arn(arn: str) -> Tuple[str, str, str]:
    """(region, account, name) of an SNS topic ARN; a CliError for anything else."""
    match = TOPIC_ARN.match(arn)
    if not match:
        raise CliError(f"Not an SNS topic ARN: {arn!r} (expected arn:aws:sns:REGION:ACCOUNT:NAME).")
    return match.group(1), match.group(2), match.group(3)


def check_topic(aws: Aws, topic_arn: str) -> None:
    """The topic exists where the client looks for it (a region mismatch gets a hint naming both)."""
    topic_region = parse_topic_arn(topic_arn)[0]
    client_region = aws.client("sns").meta.region_name
    try:
        aws.client("sns").get_topic_attributes(TopicArn=topic_arn)
    except ClientError as error:
        code = code_of(error)
        if code in ("NotFound", "NotFoundException", "InvalidParameter"):
            hint = ""
            if topic_region != client_region:
                hint = (f" The topic's ARN names region {topic_region} but the command line uses "
                        f"{client_region}: pass --region {topic_region}.")
            raise CliError(f"No topic {topic_arn} in {client_region} ({code}).{hint}") from error
        if code in ("AuthorizationError", "AccessDenied", "AccessDeniedException"):
            return  # a sender may publish without being allowed to read the topic; publishing tells
        raise CliError(explain(error)) from error


def check_bucket(aws: Aws, bucket: str) -> None:
    """The bucket FILEs are uploaded to exists (403: it may, the uploads tell)."""
    try:
        aws.client("s3").head_bucket(Bucket=bucket)
    except ClientError as error:
        if code_of(error) in ("404", "NoSuchBucket", "NotFound"):
            raise CliError(f"No bucket named {bucket!r} (HeadBucket: 404): check --input-bucket.") from error
        if code_of(error) in ("403", "AccessDenied"):
            return
        raise CliError(explain(error)) from error


def is_missing_job(error: ClientError) -> bool:
    info = error.response.get("Error", {})
    return shared.is_job_not_found(str(info.get("Code", "")), str(info.get("Message", "")))


def describe_job(aws: Aws, job_name: str) -> Dict[str, Any]:
    try:
        job: Dict[str, Any] = aws.client("sagemaker").describe_labeling_job(LabelingJobName=job_name)
        return job
    except ClientError as error:
        if is_missing_job(error):
            raise CliError(f"No labeling job named {job_name!r} in {aws.region}.") from error
        raise


def input_bucket_of(aws: Aws, job: Dict[str, Any]) -> Tuple[Optional[str], Optional[str]]:
    """The input bucket the construct tagged the job with, or (None, why the tags could not be read)."""
    try:
        tags = aws.client("sagemaker").list_tags(ResourceArn=job["LabelingJobArn"]).get("Tags", [])
    except ClientError as error:
        return None, code_of(error) or "error"
    return next((tag["Value"] for tag in tags if tag.get("Key") == INPUT_BUCKET_TAG), None), None


def tags_of(aws: Aws, arn: str, *, strict: bool = False) -> Dict[str, str]:
    """A job's tags; empty when they cannot be read, or with ``strict`` a CliError saying why."""
    try:
        tags = aws.client("sagemaker").list_tags(ResourceArn=arn).get("Tags", [])
    except ClientError as error:
        if strict:
            raise CliError(f"Cannot read the tags of {arn} ({explain(error)}): they name the job's generations "
                           "(sagemaker:ListTags is needed).") from error
        return {}
    return {str(tag["Key"]): str(tag["Value"]) for tag in tags}


@dataclass(frozen=True)
class Generation:
    name: str
    status: str
    created: str


def when(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


def generations(aws: Aws, job: Dict[str, Any], *, strict: bool = False) -> List[Generation]:
    """Every job of the construct's resource that ``job`` belongs to, oldest first (the handler tags each
    with its resource); just ``job`` when it carries no such tag. ``strict``: a tag that cannot be read is
    a CliError, not a generation left out (an export must not silently miss one)."""
    name = str(job["LabelingJobName"])
    resource = tags_of(aws, str(job["LabelingJobArn"]), strict=strict).get(RESOURCE_TAG)
    if not resource:
        return [Generation(name, str(job.get("LabelingJobStatus")), when(job.get("CreationTime")))]
    prefix = resource.rsplit("-", 1)[0]  # <job_name_prefix>-<12 hex>
    found = []
    for page in aws.client("sagemaker").get_paginator("list_labeling_jobs").paginate(NameContains=prefix):
        for summary in page.get("LabelingJobSummaryList", []):
            if not str(summary["LabelingJobName"]).lower().startswith(prefix.lower() + "-"):
                continue  # NameContains matches anywhere; a generation's name is <prefix>-<12 hex>
            if tags_of(aws, str(summary["LabelingJobArn"]), strict=strict).get(RESOURCE_TAG) == resource:
                found.append(Generation(str(summary["LabelingJobName"]), str(summary["LabelingJobStatus"]),
                                        when(summary["CreationTime"])))
    found.sort(key=lambda generation: (generation.created, generation.name))
    return found or [Generation(name, str(job.get("LabelingJobStatus")), when(job.get("CreationTime")))]


def current_job(aws: Aws, job_name: str, *, strict: bool = False) -> Tuple[Dict[str, Any], List[Generation]]:
    """The generation that runs now of the resource ``job_name`` (any generation's name) belongs to.

    A renewal after an idle stop starts a new job under a new name: what the user knows may be an
    earlier one. The running generation wins; with none running, the newest.
    """
    job = describe_job(aws, job_name)
    family = generations(aws, job, strict=strict)
    running = [g for g in family if g.status in shared.ACTIVE_STATUSES]
    chosen = (running or family)[-1]
    if chosen.name != job_name:
        job = describe_job(aws, chosen.name)
    return job, family


def resolve(aws: Aws, *, job_name: Optional[str], input_topic: Optional[str], input_bucket: Optional[str],
            for_sending: bool) -> Target:
    """The topic (and bucket) to send to: the running generation's of the job named, or the ones given."""
    if job_name is None and input_topic is None:
        raise CliError("Name the job (--job-name NAME) or its input topic (--input-topic ARN).")
    if job_name is None:
        assert input_topic is not None
        return Target(topic_arn=input_topic, bucket=input_bucket)
    job, _ = current_job(aws, job_name)
    job_name = str(job["LabelingJobName"])
    status = job.get("LabelingJobStatus")
    if for_sending and status in ENDED:
        raise CliError(f"Labeling job {job_name} is {status}: it takes no more data objects "
                       "(a stopped job cannot be restarted; deploy a new one).")
    if for_sending and status not in TAKES_DATA:
        raise CliError(f"Labeling job {job_name} is {status}: send data objects once it is InProgress.")
    topic = job.get("InputConfig", {}).get("DataSource", {}).get("SnsDataSource", {}).get("SnsTopicArn")
    if not topic:
        raise CliError(f"Labeling job {job_name} is not a streaming job (it has no input topic).")
    if input_bucket:
        return Target(topic_arn=topic, bucket=input_bucket, job_name=job_name)
    bucket, unreadable = input_bucket_of(aws, job)
    return Target(topic_arn=topic, bucket=bucket, job_name=job_name, bucket_unknown_reason=unreadable)


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


def mark_stopped_by_cli(aws: Aws, job: Dict[str, Any]) -> None:
    """Tag the job before stopping it, so that the stack's handler never renews this stop."""
    try:
        aws.client("sagemaker").add_tags(ResourceArn=job["LabelingJobArn"],
                                         Tags=[{"Key": STOPPED_BY_TAG, "Value": "cli"}])
    except ClientError as error:
        raise CliError(f"Could not tag {job['LabelingJobName']} as stopped by the command line ({explain(error)}); "
                       "not stopped, since the stack would renew it.") from error


def holding_queue_depth(aws: Aws, job: Dict[str, Any]) -> Optional[int]:
    """Messages in the resource's holding queue (its URL is in the handler's resource record), if readable."""
    name = str(job["LabelingJobName"])
    resource = tags_of(aws, str(job["LabelingJobArn"])).get(RESOURCE_TAG)
    uris = [job.get("LabelCategoryConfigS3Uri"), job.get("HumanTaskConfig", {}).get("UiConfig", {}).get(
        "UiTemplateS3Uri")]
    prefix = next((uri.rsplit(f"{name}/", 1)[0] for uri in uris if isinstance(uri, str) and f"/{name}/" in uri), None)
    if not resource or not prefix:
        return None
    try:
        bucket, key = shared.split_s3_uri(f"{prefix}{resource}/{shared.RESOURCE_RECORD}")
        record = json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
        url = record["ResourceProperties"].get("HoldingQueueUrl")
        if not url:
            return None
        attributes = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages"])["Attributes"]
    except (ClientError, BotoCoreError, ValueError, KeyError):
        return None
    return int(attributes.get("ApproximateNumberOfMessages", 0))

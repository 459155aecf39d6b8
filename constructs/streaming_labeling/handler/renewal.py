"""Renewal after an idle stop: a stopped job of this stack gets its next generation, without a deploy.

The stack's EventBridge rule sends SageMaker's job state changes here. Never
renewed: a stop the handler made for CloudFormation or that ``streaming-labeling
stop`` made (both tag the job first), a Failed job, a resource with
``RenewAfterIdleStop`` off, and a stop while the job was not idle by AWS's
definition. The successor is the resource's next free name, claimed as a Create
claims it (``jobs.claim_name``); the holding queue's objects are published again
(``replay``), and the stack's alarms follow the new queue (``follow_alarms``).
Errors are raised, so Lambda retries the event (and the alarm on the Stopped
event stays the report); a duplicate event finds the successor running and does
nothing.
"""

from __future__ import annotations

import calendar
import datetime
import json
import logging
import time
import urllib.parse
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:  # mypy reads the asset as the package streaming_labeling.handler
    from streaming_labeling.handler import jobs, lifecycle, names, protocol, queues, retry, shared
else:  # Lambda puts the asset folder on sys.path: its modules are top-level
    import jobs
    import lifecycle
    import names
    import protocol
    import queues
    import retry
    import shared

LOG = logging.getLogger()

STATE_CHANGE = "SageMaker Ground Truth Labeling Job State Change"
#: Ground Truth stops a streaming job idle this long (nothing published to its topic, nothing queued).
IDLE_STOP_SECONDS = 10 * 24 * 3600
#: The key a republished object without a deduplication key of its own is given, valued with the SNS
#: message id Ground Truth deduplicated the original delivery by (Duplicate Message Handling).
REPLAY_ID_KEY = "streaming-labeling-sns-message-id"
#: What an alarm on a queue metric is made of, as PutMetricAlarm takes it (DescribeAlarms gives the same).
ALARM_FIELDS = ("AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
                "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Period",
                "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator",
                "TreatMissingData", "EvaluateLowSampleCountPercentile")
#: The backlog metrics of a job's queue that alarms watch (``add_alarms``, ``metric_backlog*``).
QUEUE_METRICS = ("ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesVisible")


class Subscriptions:
    """When Ground Truth subscribed a new job's queue to the input topic, as closely as polling tells."""

    def __init__(self, topic_arn: str, job: str) -> None:
        self.topic_arn, self.queue = topic_arn, names.queue_name(job)
        self.absent_at: Optional[float] = retry.wall()  # started before the job existed: surely not yet subscribed
        self.present_at: Optional[float] = None

    def look(self, deadline: retry.Deadline) -> None:
        if self.present_at is not None:
            return
        started = retry.wall()
        try:
            pages = [retry.aws(deadline, "sns", "list_subscriptions_by_topic", TopicArn=self.topic_arn)]
            while pages[-1].get("NextToken"):
                pages.append(retry.aws(deadline, "sns", "list_subscriptions_by_topic", TopicArn=self.topic_arn,
                                       NextToken=pages[-1]["NextToken"]))
        except (ClientError, BotoCoreError, retry.JobError) as error:
            LOG.warning("could not list the input topic's subscriptions: %s", error)
            return
        endpoints = [sub.get("Endpoint", "") for page in pages for sub in page.get("Subscriptions", [])]
        if any(endpoint.endswith(f":{self.queue}") for endpoint in endpoints):
            self.present_at = retry.wall()
        else:
            self.absent_at = started


def config_prefix_of(job: Dict[str, Any]) -> Optional[str]:
    """The handler's config prefix, from the files it wrote next to the job (``<prefix><job>/...``)."""
    name = str(job.get("LabelingJobName", ""))
    for uri in (job.get("LabelCategoryConfigS3Uri"), job.get("HumanTaskConfig", {}).get("UiConfig", {}).get(
            "UiTemplateS3Uri")):
        if isinstance(uri, str) and f"/{name}/" in uri:
            return uri.rsplit(f"{name}/", 1)[0]
    return None


def read_record(deadline: retry.Deadline, uri: str) -> Dict[str, Any]:
    bucket, key = shared.split_s3_uri(uri)
    body = retry.aws(deadline, "s3", "get_object", Bucket=bucket, Key=key)["Body"].read()
    record: Dict[str, Any] = json.loads(body)
    return record


def was_idle(deadline: retry.Deadline, job: Dict[str, Any], stopped_at: float) -> bool:
    """AWS's idle: nothing published to the input topic in the 10 days before the stop, nothing in the queue."""
    topic = str(job.get("InputConfig", {}).get("DataSource", {}).get("SnsDataSource", {}).get("SnsTopicArn", ""))
    statistics = retry.aws(
        deadline, "cloudwatch", "get_metric_statistics", Namespace="AWS/SNS", MetricName="NumberOfMessagesPublished",
        Dimensions=[{"Name": "TopicName", "Value": topic.rsplit(":", 1)[-1]}],
        StartTime=stopped_at - IDLE_STOP_SECONDS, EndTime=stopped_at, Period=86400, Statistics=["Sum"],
    )
    published = sum(float(point.get("Sum", 0)) for point in statistics.get("Datapoints", []))
    if published:
        LOG.info("%s: %d objects were published in the 10 days before the stop", job.get("LabelingJobName"), published)
        return False
    note = queues.remove_queue_if_empty(deadline, names.queue_name(str(job.get("LabelingJobName", ""))))
    if note:  # a queue that still holds objects was not idle; it is kept, as AWS asks
        LOG.info("%s", note)
        return False
    return True


def renew(event: Dict[str, Any], context: Any) -> None:
    """Renew the job of a Stopped event when it stopped for idleness (see the module's docstring)."""
    deadline = retry.Deadline(context, retry.SAFETY_MARGIN_SECONDS)
    detail = event.get("detail") or {}
    arns = [str(arn) for arn in event.get("resources") or [] if ":labeling-job/" in str(arn)]
    if detail.get("LabelingJobStatus") != shared.STOPPED or not arns:
        return
    arn = arns[0]
    name = arn.rsplit("/", 1)[-1]
    try:
        tags = jobs.list_tags(deadline, arn)
        job = jobs.describe(deadline, name)
    except ClientError as error:
        if retry.is_access_denied(error) or retry.is_not_found(error):
            LOG.info("%s is not a job of this stack (%s): not renewed", name, retry.describe_error(error)[0])
            return
        raise
    own_stack = event.get("stack")  # the stack's rule adds it to the event
    if job is None or (own_stack and tags.get(shared.STACK_TAG) != own_stack):
        LOG.info("%s is not a job of this stack: not renewed", name)
        return
    if tags.get(shared.STOPPED_BY_TAG):
        LOG.info("%s was stopped by %s: not renewed", name, tags[shared.STOPPED_BY_TAG])
        return
    if jobs.status_of(job) != shared.STOPPED:
        LOG.info("%s is %s: not renewed", name, jobs.status_of(job))
        return
    resource, prefix = tags.get(shared.RESOURCE_TAG), config_prefix_of(job)
    if not resource or not prefix:
        LOG.warning("%s carries no resource tag or config files (an earlier version made it): not renewed", name)
        return
    record = read_record(deadline, f"{prefix}{resource}/{shared.RESOURCE_RECORD}")
    request = protocol.Request(kind="Renew", stack_id=str(record["StackId"]),
                               logical_id=str(record["LogicalResourceId"]), request_id=None, physical_id=resource,
                               properties=record["ResourceProperties"])
    properties = request.properties
    if str(properties.get("RenewAfterIdleStop", "false")) != "true":
        LOG.info("%s: renew_after_idle_stop is off for resource %s", name, resource)
        return
    if name not in request.name_sequence():
        LOG.info("%s is no longer a generation of resource %s (its properties changed): not renewed", name, resource)
        return
    stopped_at = event_time(event) or retry.wall()
    if not was_idle(deadline, job, stopped_at):
        LOG.info("%s was stopped while not idle (someone stopped it): not renewed", name)
        return
    try:  # a stack delete racing the idle stop: its Delete may have found nothing running
        lifecycle.refuse_if_stale(deadline, request)
    except lifecycle.StaleEvent:
        LOG.info("%s: resource %s is being or has been deleted: not renewed", name, resource)
        return
    topic = str(properties["Request"]["InputConfig"]["DataSource"]["SnsDataSource"]["SnsTopicArn"])
    successor, running = jobs.claim_name(deadline, request)
    subscriptions = Subscriptions(topic, successor)
    holding = properties.get("HoldingQueueUrl")
    handed: set[str] = set()
    if running is None:
        library_tags = jobs.library_tags(request, resource)
        job_request = jobs.build_request(deadline, successor, properties, library_tags)
        held = Held.collect(deadline, str(holding)) if holding else Held()
        manifest = held.write_manifest(deadline, properties, successor)
        set_input_manifest(job_request, manifest)
        jobs.start_job(deadline, job_request, properties)
        handed = held.delete(deadline)  # they are in the successor's input manifest now
        lifecycle.stop_if_cancelled(deadline, request, successor)  # deleted while it was being created
        subscriptions.look(deadline)  # at once: the service subscribes while the job initializes
        running = jobs.wait_until_running(deadline, successor, on_look=subscriptions.look)
        subscriptions.look(deadline)
        LOG.info("renewed %s as %s (resource %s)", name, successor, resource)
    else:  # a duplicate event, or a deploy started the successor first
        successor_tags = jobs.list_tags(deadline, str(running["LabelingJobArn"]))
        if shared.SUBSCRIBED_AT_TAG in successor_tags:
            subscriptions.absent_at = subscriptions.present_at = float(successor_tags[shared.SUBSCRIBED_AT_TAG])
        else:  # subscribed some time between its creation and now
            created = running.get("CreationTime")
            subscriptions.absent_at = created.timestamp() if isinstance(created, datetime.datetime) else None
            subscriptions.look(deadline)
        LOG.info("%s already has a running successor, %s", name, successor)
    if holding:
        replay(deadline, str(holding), topic, subscriptions, handed | manifest_ids(deadline, running))
    follow_alarms(deadline, name, successor)
    if subscriptions.present_at is not None:  # what a later delivery of this event must not replay again
        jobs.tag_job(deadline, running, {shared.SUBSCRIBED_AT_TAG: f"{subscriptions.present_at:.3f}"})


def follow_alarms(deadline: retry.Deadline, old: str, new: str) -> None:
    """Point the stack's alarms on the old generation's queue at the new one's (best effort).

    The queue is named after the job, and a renewal makes a new name. The next deploy writes the
    same dimension, since the resource's JobName is then the running generation.
    """
    old_queue, new_queue = names.queue_name(old), names.queue_name(new)
    for metric in QUEUE_METRICS:
        try:
            found = retry.aws(deadline, "cloudwatch", "describe_alarms_for_metric", Namespace="AWS/SQS",
                              MetricName=metric, Dimensions=[{"Name": "QueueName", "Value": old_queue}],
                              ).get("MetricAlarms", [])
            for alarm in found:
                fields = {key: alarm[key] for key in ALARM_FIELDS if key in alarm}
                fields["Dimensions"] = [{"Name": "QueueName", "Value": new_queue}]
                retry.aws(deadline, "cloudwatch", "put_metric_alarm", **fields)
                LOG.info("alarm %s now watches %s", alarm["AlarmName"], new_queue)
        except (ClientError, BotoCoreError, retry.JobError) as error:
            LOG.warning("could not point the alarms on %s at %s: %s", old_queue, new_queue, error)


def event_time(event: Dict[str, Any]) -> Optional[float]:
    try:
        parsed = time.strptime(str(event.get("time", "")), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return float(calendar.timegm(parsed))


#: The SNS message attribute on what a renewal had to publish again (``replay``): a subscriber of the input
#: topic other than the job drops these with the filter policy ``{"streaming-labeling.replayed": [{"exists": false}]}``.
REPLAYED_ATTRIBUTE = "streaming-labeling.replayed"
#: The input manifest a renewal's successor starts with, next to its other files: what the holding queue took
#: while no job listened. Given to the successor alone, so no other subscriber of the topic sees it again.
HELD_MANIFEST = "held-objects.manifest"
#: How long the collected messages stay invisible: until they are deleted once the successor exists.
COLLECT_VISIBILITY_SECONDS = 900


class Held:
    """What the holding queue took while no job listened, collected before the successor is created."""

    def __init__(self) -> None:
        self.lines: List[str] = []
        self.ids: List[str] = []
        self.receipts: List[str] = []
        self.left: List[str] = []  # received, but no manifest line: for replay
        self.queue_url = ""

    @classmethod
    def collect(cls, deadline: retry.Deadline, queue_url: str) -> Held:
        """Every message the queue holds now, as input-manifest lines; one that cannot be a line is left for
        ``replay``. The holding queue keeps messages 4 days, less than the 10 idle days before an idle stop,
        so all it holds arrived after the stop: none reached a job."""
        held = cls()
        held.queue_url = queue_url
        while deadline.remaining() > retry.MIN_ATTEMPT_SECONDS * 4:
            received = retry.aws(deadline, "sqs", "receive_message", QueueUrl=queue_url, MaxNumberOfMessages=10,
                                 VisibilityTimeout=COLLECT_VISIBILITY_SECONDS, WaitTimeSeconds=0)
            messages = received.get("Messages", [])
            if not messages:
                break
            for message in messages:
                lines, message_id = manifest_lines(message["Body"])
                if lines is None:  # not a data object a manifest can carry: made visible again for replay
                    held.left.append(message["ReceiptHandle"])  # (not now: this loop would receive it again)
                    continue
                held.lines.extend(lines)
                held.ids.append(message_id)
                held.receipts.append(message["ReceiptHandle"])
        return held

    def write_manifest(self, deadline: retry.Deadline, properties: Dict[str, Any], job: str) -> Optional[str]:
        """The successor's input manifest (None: nothing was held), encrypted as the job's other files."""
        if not self.lines:
            return None
        uri = f"{properties.get('ConfigS3Prefix', '')}{job}/{HELD_MANIFEST}"
        jobs.put_config_object(deadline, uri, "".join(f"{line}\n" for line in self.lines),
                               properties.get("ConfigKmsKeyId"), "application/jsonlines")
        LOG.info("%d held objects go to %s in its input manifest %s", len(self.lines), job, uri)
        return uri

    def delete(self, deadline: retry.Deadline) -> set[str]:
        """Remove the collected messages from the queue, and make what no manifest could carry visible again
        for ``replay``; the collected messages' SNS message ids."""
        for receipt in self.receipts:
            retry.aws(deadline, "sqs", "delete_message", QueueUrl=self.queue_url, ReceiptHandle=receipt)
        for receipt in self.left:
            retry.aws(deadline, "sqs", "change_message_visibility", QueueUrl=self.queue_url, ReceiptHandle=receipt,
                      VisibilityTimeout=0)
        return {message_id for message_id in self.ids if message_id}


def set_input_manifest(job_request: Dict[str, Any], manifest: Optional[str]) -> None:
    """A successor reads the held objects from ``manifest``, and never the first generation's own input
    manifest again (that generation labeled it)."""
    data_source = job_request["InputConfig"]["DataSource"]
    data_source.pop("S3DataSource", None)
    if manifest:
        data_source["S3DataSource"] = {"ManifestS3Uri": manifest}


def manifest_lines(body: str) -> Tuple[Optional[List[str]], str]:
    """The input-manifest lines of a held message (an SNS envelope or a raw body) and its SNS message id.

    A data object (a JSON object) is one line, given the message id as its deduplication id when it has
    none, which is the id Ground Truth deduplicates a direct delivery by (Duplicate Message Handling); an
    S3 event notification is a ``source-ref`` line per created object; the S3 test event is no line. None:
    the message is no data object a manifest can carry.
    """
    message, message_id = unwrap(body)
    try:
        data = json.loads(message)
    except ValueError:
        return None, message_id
    if not isinstance(data, dict):
        return None, message_id
    if "Records" in data:
        lines = []
        for record in data.get("Records") or []:
            s3 = record.get("s3", {}) if isinstance(record, dict) else {}
            bucket, key = s3.get("bucket", {}).get("name"), s3.get("object", {}).get("key")
            if not bucket or not key or not str(record.get("eventName", "")).startswith("ObjectCreated"):
                return None, message_id
            lines.append(json.dumps({"source-ref": f"s3://{bucket}/{urllib.parse.unquote_plus(str(key))}"}))
        return lines, message_id
    if data.get("Event") == "s3:TestEvent":
        return [], message_id
    return [json.dumps(add_replay_id(data, message_id))], message_id


def add_replay_id(data: Dict[str, Any], message_id: str) -> Dict[str, Any]:
    """A data object with ``message_id`` as its deduplication id, unless it has one of its own."""
    if message_id and "dataset-objectid-attribute-name" not in data:
        data.update({"dataset-objectid-attribute-name": REPLAY_ID_KEY, REPLAY_ID_KEY: message_id})
    return data


def unwrap(body: str) -> Tuple[str, str]:
    """An SNS envelope's message and message id; a raw body as it is, with no id."""
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = None
    if isinstance(envelope, dict) and envelope.get("Type") == "Notification" and "Message" in envelope:
        return str(envelope["Message"]), str(envelope.get("MessageId", ""))
    return body, ""


def manifest_ids(deadline: retry.Deadline, job: Optional[Dict[str, Any]]) -> set[str]:
    """The SNS message ids in a running successor's held-objects manifest (a repeated renewal event)."""
    uri = str(((job or {}).get("InputConfig", {}).get("DataSource", {}).get("S3DataSource") or {}).get(
        "ManifestS3Uri", ""))
    if not uri.endswith(f"/{HELD_MANIFEST}"):
        return set()
    try:
        bucket, key = shared.split_s3_uri(uri)
        body = retry.aws(deadline, "s3", "get_object", Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    except (ClientError, BotoCoreError, retry.JobError, ValueError) as error:
        LOG.warning("could not read %s: %s", uri, error)
        return set()
    found = set()
    for line in body.splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get(REPLAY_ID_KEY):
            found.add(str(data[REPLAY_ID_KEY]))
    return found


def replay(deadline: retry.Deadline, queue_url: str, topic: str, subscriptions: Subscriptions,
           handed: Optional[set[str]] = None) -> None:
    """Publish again what the holding queue took after the successor's manifest was written, unless the
    successor got it itself; drop what is in that manifest (``handed``).

    What is left arrived while the successor was being created. One sent before its subscription was seen
    absent is republished; one sent after it was seen present reached the successor directly; one in
    between is republished with its original SNS message id as its deduplication id, which is the id
    Ground Truth gave the direct delivery. A republished message reaches every subscriber of the topic, so
    it carries the attribute ``REPLAYED_ATTRIBUTE``, and the log counts them.
    """
    counts = {"republished": 0, "already delivered": 0, "uncertain": 0, "in the manifest": 0}
    handed = handed or set()
    # The successor runs (and so is subscribed) from here on: whatever is sent later reached it
    # directly, the copies this replay publishes included, which therefore never come round again.
    started = retry.wall()
    while deadline.remaining() > retry.MIN_ATTEMPT_SECONDS * 2:
        received = retry.aws(deadline, "sqs", "receive_message", QueueUrl=queue_url, MaxNumberOfMessages=10,
                             VisibilityTimeout=120, WaitTimeSeconds=0, AttributeNames=["SentTimestamp"])
        messages = received.get("Messages", [])
        if not messages:
            break
        for message in messages:
            sent = int(message.get("Attributes", {}).get("SentTimestamp", "0")) / 1000.0
            delivered = sent >= started or (subscriptions.present_at is not None and sent >= subscriptions.present_at)
            surely_not = subscriptions.absent_at is not None and sent < subscriptions.absent_at
            message_id = unwrap(message["Body"])[1]
            if message_id and message_id in handed:
                counts["in the manifest"] += 1
            elif delivered:
                counts["already delivered"] += 1
            else:
                republish(deadline, topic, message["Body"], with_replay_id=not surely_not)
                counts["republished" if surely_not else "uncertain"] += 1
            retry.aws(deadline, "sqs", "delete_message", QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    if counts["republished"] or counts["uncertain"]:
        LOG.warning("%d objects arrived while the successor was being created and were published again to %s "
                    "(other subscribers see them twice; they carry the attribute %s)",
                    counts["republished"] + counts["uncertain"], topic, REPLAYED_ATTRIBUTE)
    LOG.info("holding queue replayed: %s", counts)


def republish(deadline: retry.Deadline, topic: str, body: str, with_replay_id: bool) -> None:
    """Publish an SNS envelope's message again (a raw body as it is), marked ``REPLAYED_ATTRIBUTE``."""
    message, message_id = unwrap(body)
    if with_replay_id and message_id:
        try:
            data = json.loads(message)
        except ValueError:
            data = None
        if isinstance(data, dict) and "dataset-objectid-attribute-name" not in data and "Records" not in data:
            message = json.dumps(add_replay_id(data, message_id))
    retry.aws(deadline, "sns", "publish", TopicArn=topic, Message=message,
              MessageAttributes={REPLAYED_ATTRIBUTE: {"DataType": "String", "StringValue": "true"}})

"""Renewal after an idle stop, as a table: a stack's job, a state-change event in, what runs and what arrives out.

Each row deploys a job through the handler (a Create event) against the World's SageMaker and a moto
server's real SNS, SQS and CloudWatch: an input topic, the construct's holding queue subscribed to it,
and the ``GroundTruth-<job>`` queue the World subscribes for each job as the service does. The row's
story then stops the job (the service for idleness, CloudFormation, the command line, a person), sends
objects before, during and after the gap, and delivers the EventBridge event(s) the service emits.
Expectations: whether a successor runs (and only one), what its queue received (each object once), what
the holding queue still holds, and whether the handler raised (so that Lambda retries the event).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from .cfn import STACK_ID
from .handler_harness import (
    ACCOUNT_ARN,
    THROTTLED,
    Error,
    Fault,
    Harness,
    ResponseServer,
    base_properties,
    event,
    moto_client,
)


@dataclass
class Cloud:
    """The row's topic, holding queue and a probe queue that sees every message published to the topic."""

    topic: str
    holding: str
    probe: str

    @staticmethod
    def make() -> Cloud:
        sns, sqs = moto_client("sns"), moto_client("sqs")
        suffix = uuid.uuid4().hex[:8]
        topic = sns.create_topic(Name=f"input-{suffix}")["TopicArn"]
        queues = []
        for name, raw in ((f"hold-{suffix}", "false"), (f"probe-{suffix}", "true")):
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": raw})
            queues.append(url)
        return Cloud(topic, *queues)

    def publish(self, source: str) -> None:
        moto_client("sns").publish(TopicArn=self.topic, Message=json.dumps({"source": source}))


def drain(url: str) -> List[str]:
    """The bodies in a queue, removed."""
    sqs, bodies = moto_client("sqs"), []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def sources(bodies: List[str]) -> List[str]:
    """The ``source`` of each SNS envelope's message, sorted."""
    return sorted(json.loads(json.loads(body)["Message"])["source"] for body in bodies)


class Story:
    def __init__(self, h: Harness, cloud: Cloud) -> None:
        self.h, self.cloud = h, cloud
        self.properties = properties_for(cloud)
        self.first = ""

    def deploy(self, **overrides: Any) -> None:
        self.properties.update(overrides)
        response = self.h.run(event("Create", self.h.server.url, self.properties))
        assert response["Status"] == "SUCCESS", response["Reason"]
        self.first = str(response["Data"]["JobName"])

    def ten_idle_days(self) -> None:
        """The job labeled what it had, then nothing was published for 10 days: what the holding queue
        took before has expired (4-day retention)."""
        drain(self.queue_of(self.first))
        drain(self.cloud.holding)

    def idle_stop(self) -> None:
        self.ten_idle_days()
        self.h.world.stop_by_service(self.first)

    def queue_of(self, name: str) -> str:
        return str(moto_client("sqs").get_queue_url(QueueName=f"GroundTruth-{name.lower()}")["QueueUrl"])


def properties_for(cloud: Cloud) -> Dict[str, Any]:
    properties = base_properties(RenewAfterIdleStop="true", HoldingQueueUrl=cloud.holding)
    properties["Request"]["InputConfig"]["DataSource"]["SnsDataSource"]["SnsTopicArn"] = cloud.topic
    return properties


def state_change(name: str, status: str = "Stopped") -> Dict[str, Any]:
    """The event Ground Truth sends (EventBridge reference; DG sms-monitor-cloud-watch)."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "SageMaker Ground Truth Labeling Job State Change",
            "source": "aws.sagemaker", "account": "111122223333", "time": "2026-12-11T00:00:00Z",
            "region": "us-east-1", "resources": [f"{ACCOUNT_ARN}:labeling-job/{name.lower()}"],
            "detail": {"LabelingJobStatus": status},
            # what the stack's rule adds (its input transformer): the stack the handler belongs to
            "stack": STACK_ID}


# --- stories ---------------------------------------------------------------------------------------


def idle_with_objects_around_the_gap(story: Story) -> None:
    """An object labeled before, 10 idle days, the service's stop, an object during the gap."""
    story.deploy()
    story.cloud.publish("before")
    story.idle_stop()
    story.cloud.publish("gap")


def idle_with_an_alarm_on_its_queue(story: Story) -> None:
    """add_alarms' stalled-backlog alarm watches the first generation's queue."""
    idle_with_objects_around_the_gap(story)
    moto_client("cloudwatch").put_metric_alarm(
        AlarmName=f"demo-StalledBacklog-{story.first}", MetricName="ApproximateAgeOfOldestMessage",
        Namespace="AWS/SQS", Statistic="Maximum", Period=300, EvaluationPeriods=3, Threshold=21600.0,
        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching",
        Dimensions=[{"Name": "QueueName", "Value": f"GroundTruth-{story.first}"}])


def idle_while_the_stack_is_deleted(story: Story) -> None:
    """The idle stop's event arrives while CloudFormation deletes the stack (its Delete found nothing running)."""
    idle_with_objects_around_the_gap(story)
    story.h.world.resource_statuses = ["DELETE_IN_PROGRESS"]


def idle_then_deleted_while_the_successor_is_created(story: Story) -> None:
    idle_with_objects_around_the_gap(story)
    story.h.world.resource_statuses = ["CREATE_COMPLETE", "DELETE_COMPLETE"]


def stopped_by_cloudformation(story: Story) -> None:
    story.deploy()
    story.ten_idle_days()
    response = story.h.run(event("Delete", story.h.server.url, story.properties, physical_id=story.first))
    assert response["Status"] == "SUCCESS"


def stopped_by_the_cli(story: Story) -> None:
    story.deploy()
    story.ten_idle_days()
    story.h.world.jobs[story.first]["tags"]["streaming-labeling:stopped-by"] = "cli"
    story.h.world.stop_by_service(story.first)


def stopped_by_a_person_while_busy(story: Story) -> None:
    """Someone stopped the job in the console; objects were published in the days before."""
    story.deploy()
    moto_client("cloudwatch").put_metric_data(Namespace="AWS/SNS", MetricData=[{
        "MetricName": "NumberOfMessagesPublished", "Value": 12.0, "Unit": "Count",
        "Dimensions": [{"Name": "TopicName", "Value": story.cloud.topic.rsplit(":", 1)[-1]}],
        "Timestamp": "2026-12-08T00:00:00Z"}])
    story.h.world.stop_by_service(story.first)


def stopped_with_objects_queued(story: Story) -> None:
    """Stopped while objects still waited in its queue: not idle (and the queue is kept)."""
    story.deploy()
    story.ten_idle_days()
    story.cloud.publish("waiting")
    story.h.world.stop_by_service(story.first)


def renewal_off(story: Story) -> None:
    story.deploy(RenewAfterIdleStop="false")
    story.idle_stop()


def failed(story: Story) -> None:
    story.deploy()
    story.h.world.jobs[story.first]["status"] = "Failed"


def another_stack(story: Story) -> None:
    story.deploy()
    story.h.world.jobs[story.first]["tags"]["streaming-labeling:stack"] = STACK_ID.replace("/demo/", "/other/")
    story.idle_stop()


def renewed_by_a_deploy_first(story: Story) -> None:
    """After the idle stop, a deploy's update (no job property changed) reached the handler before the event."""
    idle_with_objects_around_the_gap(story)
    response = story.h.run(event("Update", story.h.server.url, story.properties, physical_id=story.first,
                                 old_properties=story.properties))
    assert response["Status"] == "SUCCESS"


@dataclass
class Row:
    id: str
    given: Callable[[Story], None]
    #: How many state-change events arrive (EventBridge may deliver one twice), and their status.
    events: int = 1
    #: Published between two deliveries of the event (it reaches the running successor directly).
    between: Tuple[str, ...] = ()
    status: str = "Stopped"
    faults: Dict[str, List[Fault]] = field(default_factory=dict)
    #: Whether a successor runs afterwards (exactly one, the next generation).
    renewed: bool = True
    #: What the successor's queue received, by source (each exactly once); "after" is published once it runs.
    received: Tuple[str, ...] = ("after", "gap")
    #: The text of the error the handler raises (Lambda then retries the event), if it must.
    raises: Optional[str] = None
    #: Whether the stopped job's emptied queue is gone.
    old_queue_gone: bool = True
    #: Whether the row's alarm (on the first generation's queue) must watch the successor's queue after.
    alarm_follows: bool = False
    #: Sources published to the input topic again (a successor that existed before the event, so no manifest
    #: could carry them): every subscriber hears these twice, marked streaming-labeling.replayed.
    republished: Tuple[str, ...] = ()


ROWS = [
    Row("idle stop: the next generation runs and gets what was published in the gap, once",
        idle_with_objects_around_the_gap),
    Row("idle stop: the stack's alarm on the stopped job's queue now watches the successor's",
        idle_with_an_alarm_on_its_queue, alarm_follows=True),
    Row("idle stop, the event delivered twice, an object in between: one renewal, nothing twice",
        idle_with_objects_around_the_gap, events=2, between=("later",), received=("after", "gap", "later")),
    Row("idle stop, CreateLabelingJob throttled: retried, then the successor runs", idle_with_objects_around_the_gap,
        faults={"CreateLabelingJob": [THROTTLED, THROTTLED]}),
    Row("idle stop, CreateLabelingJob refused: raised (Lambda retries, the alarm on Stopped reports), no job",
        idle_with_objects_around_the_gap, faults={"CreateLabelingJob": [Error("ValidationException", "bad")]},
        renewed=False, received=(), raises="CreateLabelingJob failed"),
    Row("a deploy renewed it first: the event finds the successor, starts none, and replays the gap",
        renewed_by_a_deploy_first, received=("gap",), republished=("gap",)),
    Row("a stack delete racing the idle stop: not renewed", idle_while_the_stack_is_deleted, renewed=False,
        received=()),
    Row("the stack deleted while the successor was created: the successor is stopped, the event raised",
        idle_then_deleted_while_the_successor_is_created, renewed=False, received=(), raises="was stopped"),
    Row("stopped for CloudFormation (delete, replacement): not renewed", stopped_by_cloudformation, renewed=False,
        received=()),
    Row("stopped with streaming-labeling stop: not renewed", stopped_by_the_cli, renewed=False, received=(),
        old_queue_gone=False),
    Row("stopped by a person while objects were being published: not renewed", stopped_by_a_person_while_busy,
        renewed=False, received=(), old_queue_gone=False),
    Row("stopped while objects waited in its queue: not renewed, the queue kept", stopped_with_objects_queued,
        renewed=False, received=(), old_queue_gone=False),
    Row("renew_after_idle_stop off: not renewed", renewal_off, renewed=False, received=(), old_queue_gone=False),
    Row("a Failed job: not renewed", failed, status="Failed", renewed=False, received=(), old_queue_gone=False),
    Row("a job of another stack: not renewed", another_stack, renewed=False, received=(), old_queue_gone=False),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_renewal(server: ResponseServer, row: Row) -> None:
    h = Harness(server)
    h.world.subscribe_queues = True
    story = Story(h, Cloud.make())
    row.given(story)
    # Published once the successor takes data: it must reach the successor directly, and only that way.
    h.world.on_in_progress = lambda name: story.cloud.publish("after") if name != story.first else None
    for operation, faults in row.faults.items():
        h.world.script(operation, *faults)
    creates_before = len(h.world.requests("CreateLabelingJob"))

    raised: Optional[BaseException] = None
    for delivery in range(row.events):
        if delivery:
            for source in row.between:
                story.cloud.publish(source)
        try:
            h.module.handler(state_change(story.first, row.status), h.context_for(900))
        except Exception as error:  # noqa: BLE001 - the row says whether the handler must raise
            raised = error
    if row.raises is None:
        assert raised is None, raised
    else:
        assert raised is not None and row.raises in str(raised), raised

    running = [name for name in h.world.active_jobs() if name != story.first]
    second = h.module.job_name(event("Create", "", story.properties), story.properties, 1)
    assert running == ([second] if row.renewed else [])
    created = h.world.requests("CreateLabelingJob")[creates_before:]
    assert len({request["LabelingJobName"] for request in created}) <= 1, "one successor at most"
    if running:
        # What the successor got: its input manifest (the objects held while no job listened, given to it
        # alone) and its queue (what reached it through the topic); each object once.
        (request,) = [r for r in h.world.requests("CreateLabelingJob") if r["LabelingJobName"] == running[0]][-1:]
        manifest = request["InputConfig"]["DataSource"].get("S3DataSource", {}).get("ManifestS3Uri")
        held: List[Dict[str, Any]] = []
        if manifest:
            body = h.world.objects[manifest[len("s3://"):]].decode()
            held = [json.loads(line) for line in body.splitlines()]
        assert sorted([str(line["source"]) for line in held] + sources(drain(story.queue_of(running[0])))) == sorted(
            row.received)
        assert h.world.jobs[running[0]]["tags"]["streaming-labeling:resource"] == story.first
    assert drain(story.cloud.holding) == [] or not row.renewed, "the holding queue was replayed and emptied"
    # A plain subscriber of the input topic next to the job hears every object once: the renewal gives the
    # held objects to the successor alone (its input manifest), never to the topic again.
    heard = [json.loads(body)["source"] for body in drain(story.cloud.probe)]
    twice = sorted({source for source in heard if heard.count(source) > 1})
    assert twice == sorted(row.republished), f"another subscriber of the input topic heard {heard}"
    gone = f"GroundTruth-{story.first}" not in moto_client("sqs").list_queues(
        QueueNamePrefix=f"GroundTruth-{story.first}").get("QueueUrls", [""])[0]
    assert gone == row.old_queue_gone
    if row.alarm_follows:
        (alarm,) = moto_client("cloudwatch").describe_alarms(AlarmNames=[f"demo-StalledBacklog-{story.first}"])[
            "MetricAlarms"]
        assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": f"GroundTruth-{second}"}]
        assert alarm["Threshold"] == 21600.0 and alarm["EvaluationPeriods"] == 3

"""Jobs that share an account, a topic or a pipeline stay apart, on the local Ground Truth (EventBridge's own
matching in moto, the real handler, the service's state-change events):

* one app deployed as a ``Dev`` and a ``Prod`` stack, each with ``Animals`` and ``Animals Extra`` (ids that
  share a beginning), and a third stack importing Dev's ``Animals``: each rule hears its own job only;
* a renewal of a single job and of a two-stage pipeline: a plain subscriber next to each job hears each
  object and each label once;
* ``add_alarms`` with one SNS action: the job-ended alert reaches a subscriber of the topic.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List
from urllib.parse import unquote_plus

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from stacks.example_stack import ExampleLabelingStack
from streaming_labeling import StreamingLabelingJob, TaskType, Workforce
from streaming_labeling.encryption import account_key_policy
from streaming_labeling.testing import LocalDeployment, LocalGroundTruth
from streaming_labeling.testing.images import rectangles_png

from . import apps

pytestmark = pytest.mark.slow

WORKTEAM = "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/team"
JOBS = ("Animals", "Animals Extra")


def text_job(scope: cdk.Stack, construct_id: str) -> StreamingLabelingJob:
    return StreamingLabelingJob(scope, construct_id, task_type=TaskType.TEXT_MULTI_CLASS, labels=["a", "b"],
                                workforce=Workforce.private(WORKTEAM), task_title="Pick one",
                                task_description="Pick the label that fits")


class Stage(cdk.Stack):
    """One stage of the app: two jobs whose ids share a beginning, each with a rule into a queue of its own."""

    def __init__(self, scope: cdk.App, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.jobs = {name: text_job(self, name) for name in JOBS}
        self.queues: Dict[str, sqs.Queue] = {}
        for name, job in self.jobs.items():
            queue = sqs.Queue(self, f"{name.replace(' ', '')}Events", enforce_ssl=True)
            job.on_state_change(f"{name.replace(' ', '')}StateChange", target=targets.SqsQueue(queue))
            self.queues[name] = queue
            cdk.CfnOutput(self, f"{name.replace(' ', '')}Queue", value=queue.queue_url)


class Importer(cdk.Stack):
    """Another app's stack: rules on an imported job (by any generation's name)."""

    def __init__(self, scope: cdk.App, construct_id: str, *, job_name: str, topics: Dict[str, str],
                 bucket: str, key_arn: str) -> None:
        super().__init__(scope, construct_id)
        imported = StreamingLabelingJob.from_job_attributes(
            self, "Imported", job_name=job_name,
            input_topic=sns.Topic.from_topic_arn(self, "In", topics["in"]),
            output_topic=sns.Topic.from_topic_arn(self, "Out", topics["out"]),
            output_bucket=cdk.aws_s3.Bucket.from_bucket_name(self, "OutBucket", bucket),
            encryption_key=kms.Key.from_key_arn(self, "Key", key_arn))
        queue = sqs.Queue(self, "ImportedEvents", enforce_ssl=True)
        imported.on_state_change("ImportedStateChange", target=targets.SqsQueue(queue))
        cdk.CfnOutput(self, "ImportedQueue", value=queue.queue_url)


def drain(local: LocalGroundTruth, url: str) -> List[Dict[str, Any]]:
    client, bodies = local.client("sqs"), []
    while True:
        messages = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def subscribe(local: LocalGroundTruth, topic: str, name: str) -> str:
    """A plain raw SQS subscriber of ``topic`` (no filter policy): what any other consumer hears."""
    client = local.client("sqs")
    url = str(client.create_queue(QueueName=name)["QueueUrl"])
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    local.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                                  Attributes={"RawMessageDelivery": "true"})
    return url


@pytest.fixture(scope="module")
def local() -> Iterator[LocalGroundTruth]:
    with LocalGroundTruth() as started:
        yield started


def test_each_rule_hears_its_own_jobs_state_changes_only(local: LocalGroundTruth) -> None:
    app = apps.new_app()
    stages = {name: Stage(app, name) for name in ("Dev", "Prod")}
    deployed: Dict[str, LocalDeployment] = {name: local.deploy(stage) for name, stage in stages.items()}
    names = {(stage, job): deployed[stage].job_name(stages[stage].jobs[job]) for stage in stages for job in JOBS}
    assert len(set(names.values())) == 4
    dev = stages["Dev"].jobs["Animals"]
    account = str(local.job(names[("Dev", "Animals")])["RoleArn"]).split(":")[4]
    importer = Importer(apps.new_app(), "Importer", job_name=names[("Dev", "Animals")],
                        topics={"in": local.job(names[("Dev", "Animals")])["InputConfig"]["DataSource"][
                            "SnsDataSource"]["SnsTopicArn"],
                            "out": local.job(names[("Dev", "Animals")])["OutputConfig"]["SnsTopicArn"]},
                        bucket=deployed["Dev"].physical_id(dev.output_bucket.node.default_child),
                        key_arn=f"arn:aws:kms:us-east-1:{account}:key/"
                                f"{deployed['Dev'].physical_id(dev.encryption_key.node.default_child)}")
    imported = local.deploy(importer)
    sagemaker = local.client("sagemaker")
    for name in names.values():  # every job changes state: each rule must hear exactly its own
        sagemaker.stop_labeling_job(LabelingJobName=name)
        local.wait_for_status(name, "Stopped")
    local.advance(minutes=1)

    def heard(url: str) -> List[str]:
        return sorted({str(event["resources"][0]).rsplit("/", 1)[-1] for event in drain(local, url)})

    for (stage, job), name in names.items():
        url = deployed[stage].outputs[f"{job.replace(' ', '')}Queue"]
        # A job stopped outside CloudFormation after no publishes is idle, so its renewal may start: the
        # successor is the same resource's generation, which the rule must hear too; no other job.
        own = {g["LabelingJobName"] for g in local.generations(deployed[stage].physical_id(stages[stage].jobs[job].resource))}
        got = local.wait(lambda url=url: heard(url), bool, 30, f"{stage}'s {job} events")
        assert name in got and set(got) <= own, f"{stage}'s {job} rule heard other jobs: {got}"
    dev_own = {g["LabelingJobName"] for g in local.generations(deployed["Dev"].physical_id(dev.resource))}
    got = heard(imported.outputs["ImportedQueue"])
    assert names[("Dev", "Animals")] in got and set(got) <= dev_own, got
    for stage in deployed.values():
        local.destroy(stage)
    local.destroy(imported)


def test_a_renewed_pipeline_gives_each_subscriber_each_object_and_label_once(local: LocalGroundTruth) -> None:
    stack = ExampleLabelingStack(apps.new_app(), "IsolationRenewal")
    deployed = local.deploy(stack)
    names = {key: deployed.job_name(job) for key, job in
             (("animals", stack.job), ("boxes", stack.boxes), ("review", stack.review))}
    animals_in = deployed.outputs["InputTopicArn"]
    boxes_in = local.job(names["boxes"])["InputConfig"]["DataSource"]["SnsDataSource"]["SnsTopicArn"]
    boxes_out = local.job(names["boxes"])["OutputConfig"]["SnsTopicArn"]
    plain = {"animals input": subscribe(local, animals_in, "plain-animals-input"),
             "boxes input": subscribe(local, boxes_in, "plain-boxes-input"),
             "boxes output (the review's input)": subscribe(local, boxes_out, "plain-boxes-output"),
             "review output": subscribe(local, deployed.outputs["PipelineOutputTopicArn"], "plain-review-output")}
    local.advance(days=10)  # idle: every job is stopped by the service and renewed by the stack's handler
    for name in names.values():
        assert local.job(name)["LabelingJobStatus"] == "Stopped"
    sns_client = local.client("sns")
    for index in range(3):  # published while no job listens: held, then handed to the successor alone
        sns_client.publish(TopicArn=animals_in, Message=json.dumps({"source": f"held-{index}"}))
    resources = {key: deployed.physical_id(job.resource) for key, job in
                 (("animals", stack.job), ("boxes", stack.boxes), ("review", stack.review))}
    successors = {key: local.wait(lambda r=resource: local.current_generation(r), lambda n, k=key: n != names[k],
                                  60, f"the {key} successor") for key, resource in resources.items()}
    for successor in successors.values():
        local.wait_for_status(successor, "InProgress")
        local.wait(lambda s=successor: local.client("sagemaker").list_tags(
            ResourceArn=local.job(s)["LabelingJobArn"])["Tags"],
            lambda tags: any(tag["Key"] == "streaming-labeling:subscribed-at" for tag in tags), 60, "the renewal")
    # An upload to the boxes job's input bucket: its notification is the pipeline's one object.
    tags = local.client("sagemaker").list_tags(ResourceArn=local.job(successors["boxes"])["LabelingJobArn"])["Tags"]
    image_bucket = next(tag["Value"] for tag in tags if tag["Key"] == "streaming-labeling:input-bucket")
    local.client("s3").put_object(Bucket=image_bucket, Key="cars/car-0.png",
                                  Body=rectangles_png(64, 48, (240, 240, 240), [((90, 60, 40), 8, 8, 30, 20)]))
    local.wait(lambda: local.labels(successors["review"]), lambda lines: len(lines) >= 1, 120, "the review's label")
    local.wait(lambda: local.labels(successors["animals"]), lambda lines: len(lines) >= 3, 120, "the held labels")
    local.advance(minutes=5)
    heard = {key: drain(local, url) for key, url in plain.items()}
    animals = [line["source"] for line in heard["animals input"]]
    assert sorted(animals) == ["held-0", "held-1", "held-2"], "the input topic carried each object once"
    assert sorted(line["source"] for line in local.labels(successors["animals"])) == ["held-0", "held-1", "held-2"]
    uploads = [unquote_plus(record["s3"]["object"]["key"]) for message in heard["boxes input"] for record in message["Records"]]
    assert uploads == ["cars/car-0.png"], "the boxes job's input topic carried the upload once"
    for key in ("boxes output (the review's input)", "review output"):
        refs = [line["source-ref"] for line in heard[key]]
        assert refs == [f"s3://{image_bucket}/cars/car-0.png"], f"{key}: {refs}"
    local.destroy(deployed)


def test_add_alarms_with_one_sns_action_alerts_a_subscriber_when_the_job_ends(local: LocalGroundTruth) -> None:
    stack = cdk.Stack(apps.new_app(), "IsolationAlarms")
    job = text_job(stack, "Alerted")
    key = kms.Key(stack, "AlertKey", enable_key_rotation=True, policy=account_key_policy())
    topic = sns.Topic(stack, "Alerts", master_key=key, enforce_ssl=True)
    job.add_alarms(action=cloudwatch_actions.SnsAction(topic), job_ended_target=targets.SnsTopic(topic))
    cdk.CfnOutput(stack, "AlertTopic", value=topic.topic_arn)
    deployed = local.deploy(stack)
    name = deployed.job_name(job)
    url = subscribe(local, deployed.outputs["AlertTopic"], "plain-alerts")
    local.client("sagemaker").stop_labeling_job(LabelingJobName=name)
    local.wait_for_status(name, "Stopped")
    events = local.wait(lambda: drain(local, url), bool, 30, "the job-ended alert")
    assert [(event["detail-type"], event["detail"]["LabelingJobStatus"], event["resources"]) for event in events] == [
        ("SageMaker Ground Truth Labeling Job State Change", "Stopped", [local.job(name)["LabelingJobArn"]])]
    local.destroy(deployed)

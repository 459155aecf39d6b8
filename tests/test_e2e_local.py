"""End to end on the local Ground Truth: the example app deployed through moto's CloudFormation, fed with
``streaming-labeling send`` as a subprocess, labeled by the simulated workforce, read from the output topics
and the output bucket, operated with ``status``/``stop``, renewed after an idle stop, destroyed.

The real handler (a local process from its deployed asset) creates every job from the real request; the
output lines are compared with AWS's documented examples (tests/fixtures/ground_truth_output) by structure
and types.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from stacks.example_stack import ExampleLabelingStack
from streaming_labeling.testing import LocalDeployment, LocalGroundTruth
from streaming_labeling.testing.images import rectangles_png

from . import apps
from .test_local_ground_truth import example, label_pair, shape

pytestmark = pytest.mark.slow  # the e2e / local-cloud loop: deselect with -m 'not slow'

EXAMPLES = Path(__file__).parent / "fixtures" / "ground_truth_output"


class Example:
    """The example app deployed once for the module, with a queue on each output topic (what a consumer reads)."""

    def __init__(self, local: LocalGroundTruth, stack_name: str) -> None:
        self.local = local
        self.labeled_before: List[Dict[str, Any]] = []
        self.stack = ExampleLabelingStack(apps.new_app(), stack_name)
        self.deployed: LocalDeployment = local.deploy(self.stack)
        self.names = {"animals": self.deployed.job_name(self.stack.job),
                      "vehicles": self.deployed.job_name(self.stack.boxes),
                      "review": self.deployed.job_name(self.stack.review)}
        boxes_output = self.local.job(self.names["vehicles"])["OutputConfig"]["SnsTopicArn"]
        self.queues = {"animals": self.subscribe(self.deployed.outputs["OutputTopicArn"]),
                       "vehicles": self.subscribe(boxes_output),
                       "review": self.subscribe(self.deployed.outputs["PipelineOutputTopicArn"])}

    def subscribe(self, topic: str) -> str:
        sqs, sns = self.local.client("sqs"), self.local.client("sns")
        url = str(sqs.create_queue(QueueName=f"consumer-{len(topic)}-{abs(hash(topic)) % 10**8}")["QueueUrl"])
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        return url

    def consumed(self, key: str, count: int, timeout: float = 60.0) -> List[Dict[str, Any]]:
        """What the consumer's queue on that output topic received, waiting for ``count`` lines."""
        sqs, lines = self.local.client("sqs"), []

        def look() -> List[Dict[str, Any]]:
            for message in sqs.receive_message(QueueUrl=self.queues[key], MaxNumberOfMessages=10).get("Messages", []):
                lines.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queues[key], ReceiptHandle=message["ReceiptHandle"])
            return lines

        result: List[Dict[str, Any]] = self.local.wait(look, lambda found: len(found) >= count, timeout,
                                                       f"{count} lines on the {key} output topic")
        return result

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "streaming_labeling", *args], input=stdin, text=True,
                              capture_output=True, env=self.local.env, timeout=300)


def images(folder: Path, count: int, prefix: str) -> List[Path]:
    paths = []
    for index in range(count):
        path = folder / f"{prefix}-{index}.png"
        path.write_bytes(rectangles_png(64 + 8 * index, 48, (240, 240, 240), [((90, 60, 40), 8, 8, 30, 20)]))
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def local() -> Iterator[LocalGroundTruth]:
    with LocalGroundTruth() as started:
        yield started


@pytest.fixture(scope="module")
def app(local: LocalGroundTruth) -> Example:
    return Example(local, "E2EExample")


def test_the_example_app_deploys_with_every_job_in_progress(app: Example) -> None:
    assert {name: app.local.job(name)["LabelingJobStatus"] for name in app.names.values()} == {
        name: "InProgress" for name in app.names.values()}
    assert app.deployed.outputs["JobName"] == app.names["animals"]
    request = app.local.job(app.names["review"])
    assert request["InputConfig"]["DataSource"]["SnsDataSource"]["SnsTopicArn"] == app.local.job(
        app.names["vehicles"])["OutputConfig"]["SnsTopicArn"], "the review job reads the first job's output topic"


def test_uploads_sent_with_the_cli_are_labeled_on_the_output_topic_and_in_the_bucket(
        app: Example, tmp_path: Path) -> None:
    files = images(tmp_path, 3, "animal")
    sent = app.cli("send", "--job-name", app.names["animals"], *map(str, files))
    assert sent.returncode == 0, sent.stderr
    lines = app.consumed("animals", 3)
    attribute = app.stack.job.label_attribute_name
    assert sorted(line["source-ref"].rsplit("/", 1)[-1] for line in lines) == sorted(f.name for f in files)
    for line in lines:
        assert label_pair(line, attribute) == example("image-classification", "species")
        assert line[f"{attribute}-metadata"]["class-name"] in ("cat", "dog", "bird")
    bucket = app.deployed.outputs["OutputBucketName"]
    s3 = app.local.client("s3")
    prefix = f"labels/{app.names['animals']}/"
    keys = [obj["Key"] for obj in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]]
    assert f"{prefix}manifests/output/output.manifest" in keys
    assert sum(key.startswith(f"{prefix}annotations/worker-response/iteration-1/") for key in keys) == 3
    manifest = s3.get_object(Bucket=bucket, Key=f"{prefix}manifests/output/output.manifest")["Body"].read()
    assert sorted(json.dumps(json.loads(row), sort_keys=True) for row in manifest.decode().splitlines()) == sorted(
        json.dumps(line, sort_keys=True) for line in lines), "the bucket's manifest holds what the topic carried"
    worker_file = next(key for key in keys if "/worker-response/" in key)
    (answer,) = json.loads(s3.get_object(Bucket=bucket, Key=worker_file)["Body"].read())["answers"]
    assert set(answer) >= {"acceptanceTime", "submissionTime", "timeSpentInSeconds", "workerId", "answerContent"}
    assert "crowd-image-classifier" in answer["answerContent"]


def test_the_pipeline_chains_through_the_first_jobs_output_topic(app: Example, tmp_path: Path) -> None:
    files = images(tmp_path, 2, "vehicle")
    sent = app.cli("send", "--job-name", app.names["vehicles"], *map(str, files))
    assert sent.returncode == 0, sent.stderr
    boxes = app.consumed("vehicles", 2)
    reviewed = app.consumed("review", 2)
    first, second = app.stack.boxes.label_attribute_name, app.stack.review.label_attribute_name
    for line in boxes:
        assert label_pair(line, first) == example("bounding-box", "bounding-box")
    by_source = {line["source-ref"]: line for line in boxes}
    for line in reviewed:
        assert line[first] == by_source[line["source-ref"]][first], "the reviewed boxes travel with the object"
        assert shape({"label": line[second], "metadata": line[f"{second}-metadata"]}) == example(
            "bounding-box-adjustment", "adjusted-bounding-box")
        assert line[f"{second}-metadata"]["adjustment-status"] in ("adjusted", "unadjusted")


def test_status_by_job_name_reports_what_was_labeled(app: Example) -> None:
    """status by --job-name of a job the handler created: the counters of what was labeled."""
    state = json.loads(app.cli("status", "--job-name", app.names["animals"], "--json").stdout)
    assert state["status"] == "InProgress" and state["label_counters"]["TotalLabeled"] >= 3
    assert [g["job_name"] for g in state["generations"]] == [app.names["animals"]]


def test_destroy_stops_every_job(local: LocalGroundTruth) -> None:
    other = Example(local, "E2EDestroyed")
    local.destroy(other.deployed)
    for name in other.names.values():
        assert local.wait_for_status(name, "Stopped")["LabelingJobStatus"] == "Stopped"
    queues = local.client("sqs").list_queues(QueueNamePrefix="GroundTruth-").get("QueueUrls", [])
    assert not [url for url in queues if any(name in url for name in other.names.values())], \
        "the emptied queues of the stopped jobs are deleted"


# --- renewal after an idle stop (issue "A streaming job that keeps streaming") ---------------------


def sources(lines: List[Dict[str, Any]]) -> List[str]:
    return sorted(str(line["source"]) for line in lines)


@pytest.fixture(scope="module")
def renewed(local: LocalGroundTruth) -> Tuple[Example, str, str]:
    """The animals job labels "before", idles 10 days, is stopped by the service; "gap" is published while
    no job listens; the stack's handler starts the next generation; "after" goes to it."""
    app = Example(local, "E2ERenewal")
    first = app.names["animals"]
    topic = app.deployed.outputs["InputTopicArn"]
    sns = local.client("sns")
    sns.publish(TopicArn=topic, Message=json.dumps({"source": "before"}))
    app.labeled_before = app.consumed("animals", 1)
    local.advance(days=10)
    assert local.job(first)["LabelingJobStatus"] == "Stopped", "an idle job stops after 10 days"
    sns.publish(TopicArn=topic, Message=json.dumps({"source": "gap"}))
    resource = app.deployed.physical_id(app.stack.job.resource)
    second = local.wait(lambda: local.current_generation(resource), lambda name: name != first, 60,
                        "the renewal's successor")
    local.wait_for_status(second, "InProgress")
    sagemaker = local.client("sagemaker")
    # The renewal is over when the handler has recorded when it saw the successor subscribed.
    local.wait(lambda: sagemaker.list_tags(ResourceArn=local.job(second)["LabelingJobArn"])["Tags"],
               lambda tags: any(tag["Key"] == "streaming-labeling:subscribed-at" for tag in tags), 60,
               "the end of the renewal")
    sns.publish(TopicArn=topic, Message=json.dumps({"source": "after"}))
    return app, first, second


def test_an_idle_stop_is_renewed_and_every_object_is_labeled_exactly_once(
        local: LocalGroundTruth, renewed: Tuple[Example, str, str]) -> None:
    app, first, second = renewed
    lines = app.consumed("animals", 2) + app.labeled_before
    assert sources(lines) == ["after", "before", "gap"], "each object labeled once, across the two generations"
    assert sources(local.labels(first)) == ["before"]
    assert sources(local.labels(second)) == ["after", "gap"]


def test_the_stopped_jobs_queue_is_gone_and_the_cli_follows_the_new_generation(
        local: LocalGroundTruth, renewed: Tuple[Example, str, str]) -> None:
    app, first, second = renewed
    queues = local.client("sqs").list_queues(QueueNamePrefix=f"GroundTruth-{first}").get("QueueUrls", [])
    assert queues == []
    state = json.loads(app.cli("status", "--job-name", first, "--json").stdout)
    assert state["job_name"] == second
    assert [(g["job_name"], g["status"]) for g in state["generations"]] == [(first, "Stopped"), (second, "InProgress")]


def test_a_job_stopped_with_the_cli_stays_stopped_and_destroy_leaves_no_emptied_queue(
        local: LocalGroundTruth, renewed: Tuple[Example, str, str]) -> None:
    app, first, second = renewed
    stopped = app.cli("stop", "--job-name", first, "--yes")  # any generation's name: the running one stops
    assert stopped.returncode == 0, stopped.stderr
    local.wait_for_status(second, "Stopped")
    local.advance(minutes=5)
    resource = app.deployed.physical_id(app.stack.job.resource)
    assert [job["LabelingJobName"] for job in local.generations(resource)] == [first, second], "not renewed"
    local.destroy(app.deployed)
    for name in (second, app.names["vehicles"], app.names["review"]):
        local.wait_for_status(name, "Stopped")
    left = local.client("sqs").list_queues(QueueNamePrefix="GroundTruth-").get("QueueUrls", [])
    assert not [url for url in left if any(name in url for name in (first, second, *app.names.values()))]

"""The local Ground Truth service: its API, its jobs' lifecycle, and what they write and publish.

Each test drives it only through boto3: SageMaker calls to the service, SNS/SQS/S3/IAM/EventBridge
calls to moto. Output lines are compared with AWS's documented examples
(``fixtures/ground_truth_output``) by structure and types.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, List

import pytest
from botocore.exceptions import ClientError

from streaming_labeling import TaskType
from streaming_labeling.testing.model import sagemaker_model, violations

from . import local_gt_harness
from .local_gt_harness import Cloud, Setup, unique, wait_for

# The harness's fixtures, for this module (tests/conftest.py is not ours to change).
moto_endpoints, clock, service, cloud = (local_gt_harness.moto_endpoints, local_gt_harness.clock,
                                         local_gt_harness.service, local_gt_harness.cloud)

pytestmark = pytest.mark.slow  # the e2e / local-cloud loop: deselect with -m 'not slow'

EXAMPLES = Path(__file__).parent / "fixtures" / "ground_truth_output"
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
TEXT = "The quick brown fox jumps over the lazy dog"


def shape(value: Any) -> Any:
    """Structure and types: dict keys with their shapes, list items' shapes, scalar types.

    AWS writes a class index as int or str and a confidence as int or float (runtime facts §4.7 #2, #16):
    both are "number"."""
    if isinstance(value, dict):
        if value and all(key.isdigit() for key in value):  # a map keyed by class id
            return {"<id>": sorted({json.dumps(shape(item), sort_keys=True) for item in value.values()})}
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return sorted({json.dumps(shape(item), sort_keys=True) for item in value})
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        return "number"
    return type(value).__name__


def label_pair(line: Dict[str, Any], attribute: str) -> Any:
    return shape({"label": line[attribute], "metadata": line[f"{attribute}-metadata"]})


def example(name: str, attribute: str) -> Any:
    return label_pair(json.loads((EXAMPLES / f"{name}.json").read_text()), attribute)


def assert_common_metadata(line: Dict[str, Any], attribute: str, job: Setup) -> None:
    metadata = line[f"{attribute}-metadata"]
    assert metadata["human-annotated"] == "yes"
    assert DATE.match(metadata["creation-date"]), metadata["creation-date"]
    assert metadata["job-name"] in (job.name, f"labeling-job/{job.name}")
    assert line["dataset-objectid-attribute-name"] == f"${attribute}-object-id"


# --- every emulated type's output line, against AWS's example ------------------------------------

#: (task type, labels, AWS example, its label attribute, object: "image" or text)
OUTPUT_CASES = [
    (TaskType.IMAGE_MULTI_CLASS, ["cat", "dog"], "image-classification", "species", "image"),
    (TaskType.TEXT_MULTI_CLASS, ["positive", "negative"], "text-classification", "mood", TEXT),
    (TaskType.IMAGE_MULTI_CLASS_MULTI_LABEL, ["cat", "dog", "bird"], "image-classification-multilabel",
     "image-label-attribute-name", "image"),
    (TaskType.TEXT_MULTI_CLASS_MULTI_LABEL, ["sad", "approving", "critical"], "text-classification-multilabel",
     "text-label-attribute-name", TEXT),
    (TaskType.BOUNDING_BOX, ["dog", "bone"], "bounding-box", "bounding-box", "image"),
    (TaskType.NAMED_ENTITY_RECOGNITION, ["Thing", "Verb"], "named-entity-recognition", "example-ner-labeling-job",
     TEXT),
    (TaskType.SEMANTIC_SEGMENTATION, ["buildings", "road"], "semantic-segmentation", "city-streets-ref", "image"),
]


@pytest.mark.parametrize("task_type, labels, name, attribute, obj", OUTPUT_CASES, ids=[c[2] for c in OUTPUT_CASES])
def test_the_output_line_has_the_structure_of_aws_example(
    cloud: Cloud, task_type: TaskType, labels: List[str], name: str, attribute: str, obj: str
) -> None:
    label_file = None
    if task_type.name == "NAMED_ENTITY_RECOGNITION":  # AWS's NER example shows each label's shortDisplayName
        label_file = json.dumps({"document-version": "2018-11-28", "labels": [
            {"label": label, "shortDisplayName": label[:3].lower()} for label in labels],
            "instructions": {"shortInstruction": "Mark", "fullInstruction": "Mark things"}})
    job = cloud.running(task_type, labels, attribute=attribute, label_file=label_file)
    if obj == "image":
        message: Dict[str, Any] = {"source-ref": cloud.image(job.bucket, "in/photo one.png", 80, 60), "extra": 7}
    else:
        message = {"source": obj, "extra": 7}
    cloud.publish(job, message)
    (line,) = cloud.labels_out(job, 1)
    assert label_pair(line, attribute) == example(name, attribute)
    assert line["extra"] == 7, "input keys pass through"
    assert_common_metadata(line, attribute, job)
    if task_type.name == "BOUNDING_BOX":
        assert line[attribute]["image_size"] == [{"width": 80, "height": 60, "depth": 3}], "the image's real size"
        for box in line[attribute]["annotations"]:
            assert 0 <= box["left"] and box["left"] + box["width"] <= 80 and box["top"] + box["height"] <= 60
    if task_type.name == "NAMED_ENTITY_RECOGNITION":
        (entity,) = line[attribute]["annotations"]["entities"]
        span = TEXT[entity["startOffset"]:entity["endOffset"]]
        assert re.fullmatch(r"\w+", span) and span in TEXT.split(), "a word of the real text"
        assert line[f"{attribute}-metadata"]["entities"] == [{"confidence": 0.0}], "one worker: confidence 0"
    if task_type.name == "SEMANTIC_SEGMENTATION":
        bucket, key = line[attribute][5:].split("/", 1)
        mask = cloud.read(bucket, key)
        assert mask.startswith(b"\x89PNG") and mask[16:24] == (80).to_bytes(4, "big") + (60).to_bytes(4, "big")
        colors = line[f"{attribute}-metadata"]["internal-color-map"]
        assert colors["0"]["class-name"] == "BACKGROUND"
    described = cloud.describe(job)
    assert described["LabelCounters"]["TotalLabeled"] == described["LabelCounters"]["HumanLabeled"] == 1
    assert described["LabelingJobOutput"]["OutputDatasetS3Uri"] == (
        f"s3://{job.bucket}/labels/{job.name}/manifests/output/output.manifest")


def test_the_output_layout_in_s3_is_the_documented_one(cloud: Cloud) -> None:
    job = cloud.running(TaskType.TEXT_MULTI_CLASS, ["yes", "no"], workers=2)
    cloud.publish(job, {"source": "one"}, {"source": "two"})
    lines = cloud.labels_out(job, 2)
    prefix = f"labels/{job.name}/"
    def manifest_lines() -> List[str]:
        body = cloud.read(job.bucket, prefix + "manifests/output/output.manifest").decode()
        return body.splitlines() if body.count("\n") == 2 else []

    manifest = wait_for(manifest_lines, what="the output manifest with both lines")
    assert sorted(json.loads(x)["source"] for x in manifest) == ["one", "two"]
    keys = cloud.keys(job.bucket, prefix + "annotations/")
    responses = [k for k in keys if k.startswith(prefix + "annotations/worker-response/iteration-1/")]
    assert len(responses) == 2 and all(re.search(r"/\d+/\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d\.json$", k) for k in responses)
    answers = json.loads(cloud.read(job.bucket, responses[0]))["answers"]
    assert len(answers) == 2
    for answer in answers:
        assert set(answer) == {"acceptanceTime", "submissionTime", "timeSpentInSeconds", "workerId", "answerContent"}
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", answer["submissionTime"])
        assert answer["answerContent"]["crowd-classifier"]["label"] in ("yes", "no")
    consolidation = [k for k in keys if "consolidated-annotation/consolidation-response/iteration-1/" in k]
    entries = [e for k in consolidation for e in json.loads(cloud.read(job.bucket, k))]
    assert {e["consolidatedAnnotation"]["content"]["labels"] for e in entries} == {line["labels"] for line in lines}


# --- chaining: the example app's pipeline ------------------------------------------------------


def test_an_adjustment_job_reads_the_upstream_output_topic_and_keeps_both_labels(cloud: Cloud) -> None:
    boxes = cloud.running(TaskType.BOUNDING_BOX, ["car", "bus"], attribute="bounding-box")
    adjust = cloud.running(TaskType.ADJUSTMENT_BOUNDING_BOX, ["car", "bus"], attribute="adjusted-bounding-box",
                           input_topic=boxes.output_topic, source_attribute="bounding-box")
    verify = cloud.running(TaskType.VERIFICATION_BOUNDING_BOX, ["car", "bus"], attribute="verify-bounding-box",
                           input_topic=boxes.output_topic, source_attribute="bounding-box")
    sources = [cloud.image(boxes.bucket, f"cars/{i}.png", 90 + i, 70) for i in range(9)]
    cloud.publish(boxes, *({"source-ref": s} for s in sources))
    upstream = {line["source-ref"]: line for line in cloud.labels_out(boxes, 9)}
    adjusted = cloud.labels_out(adjust, 9)
    expected = example("bounding-box-adjustment", "adjusted-bounding-box")
    statuses = set()
    for line in adjusted:
        assert label_pair(line, "adjusted-bounding-box") == expected
        assert line["bounding-box"] == upstream[line["source-ref"]]["bounding-box"], "job 1's label kept"
        statuses.add(line["adjusted-bounding-box-metadata"]["adjustment-status"])
        prior = line["bounding-box"]["annotations"]
        assert len(line["adjusted-bounding-box"]["annotations"]) == len(prior)
    assert statuses == {"adjusted", "unadjusted"}
    record = next(r for r in cloud.service.tasks(adjust.name))
    assert "manifestLine" in record.task_input and record.task_input["manifestLine"]["bounding-box"]
    assert "initial-value" in record.rendered and "X-Amz-Signature" in record.rendered, "presigned image URL"
    for line in cloud.labels_out(verify, 9):
        assert label_pair(line, "verify-bounding-box") == shape(
            {"label": 1, "metadata": {k: v for k, v in json.loads((EXAMPLES / "bounding-box-verification.json")
                                                                  .read_text())["verify-bounding-box-metadata"].items()
                                      if k != "worker-feedback"}})
        assert line["verify-bounding-box-metadata"]["class-name"] in ("Correct", "Incorrect")


def test_a_semantic_segmentation_adjustment_starts_from_the_upstream_mask(cloud: Cloud) -> None:
    masks = cloud.running(TaskType.SEMANTIC_SEGMENTATION, ["buildings", "road"], attribute="city-streets-ref")
    adjust = cloud.running(TaskType.ADJUSTMENT_SEMANTIC_SEGMENTATION, ["buildings", "road"],
                           attribute="adjusted-city-streets-ref", input_topic=masks.output_topic,
                           source_attribute="city-streets-ref")
    cloud.publish(masks, *({"source-ref": cloud.image(masks.bucket, f"s/{i}.png", 20, 10)} for i in range(3)))
    for line in cloud.labels_out(adjust, 3):
        assert label_pair(line, "adjusted-city-streets-ref") == example(
            "semantic-segmentation-adjustment", "adjusted-city-streets-ref")
        assert line["adjusted-city-streets-ref"] != line["city-streets-ref"], "its own mask"


# --- duplicates (Duplicate Message Handling, runtime facts §1.4) ---------------------------------

DEDUP_CASES = [
    ("custom key, same id twice", [{"source": "a", "dataset-objectid-attribute-name": "tweet", "tweet": "1"},
                                   {"source": "b", "dataset-objectid-attribute-name": "tweet", "tweet": "1"}], 1),
    ("custom key, two ids", [{"source": "a", "dataset-objectid-attribute-name": "tweet", "tweet": "1"},
                             {"source": "a", "dataset-objectid-attribute-name": "tweet", "tweet": "2"}], 2),
    ("existing key source", [{"source": "same", "dataset-objectid-attribute-name": "source"},
                             {"source": "same", "dataset-objectid-attribute-name": "source"}], 1),
    ("no key: the SNS message id", [{"source": "same"}, {"source": "same"}], 2),
]


@pytest.mark.parametrize("messages, labeled", [c[1:] for c in DEDUP_CASES], ids=[c[0] for c in DEDUP_CASES])
def test_duplicates_are_labeled_once(cloud: Cloud, messages: List[Dict[str, Any]], labeled: int) -> None:
    job = cloud.running(TaskType.TEXT_MULTI_CLASS, ["yes", "no"])
    cloud.publish(job, *messages, {"source": "end marker"})
    lines = cloud.labels_out(job, labeled + 1)
    cloud.service.settle()
    lines = [line for line in cloud.drain(job) if line["source"] != "end marker"]
    assert len(lines) == labeled
    for line in lines:
        if "tweet" in line or messages[0].get("dataset-objectid-attribute-name") == "source":
            assert line["dataset-objectid-attribute-name"] == messages[0]["dataset-objectid-attribute-name"]
            assert "$labels-object-id" not in line
        else:
            assert line["dataset-objectid-attribute-name"] == "$labels-object-id"
            assert re.fullmatch(r"[0-9a-f-]{36}", line["$labels-object-id"]), "the SNS MessageId"
    if "$labels-object-id" in lines[0]:
        assert len({line["$labels-object-id"] for line in lines}) == len(lines), "one id per message"


def test_duplicates_are_per_job(cloud: Cloud) -> None:
    first = cloud.running(TaskType.TEXT_MULTI_CLASS, ["yes", "no"])
    second = cloud.running(TaskType.TEXT_MULTI_CLASS, ["yes", "no"], input_topic=first.input_topic)
    cloud.publish(first, {"source": "x", "dataset-objectid-attribute-name": "source"})
    assert len(cloud.labels_out(first, 1)) == len(cloud.labels_out(second, 1)) == 1


def test_s3_events_of_the_input_bucket_and_the_test_event(cloud: Cloud) -> None:
    job = cloud.running(TaskType.IMAGE_MULTI_CLASS, ["cat", "dog"])
    bucket = cloud.bucket()
    # Configured while the job listens: S3's s3:TestEvent reaches it and is labeled (DG, RT §1.3).
    cloud.s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "TopicConfigurations": [{"TopicArn": job.input_topic, "Events": ["s3:ObjectCreated:*"]}]})
    cloud.image(bucket, "new photos/cat+1 é.png")
    cloud.image(bucket, "new photos/cat+1 é.png")  # a second upload of the key: a new object (new event)
    lines = cloud.labels_out(job, 3)
    refs = sorted(line.get("source-ref", "") for line in lines)
    assert refs == ["", f"s3://{bucket}/new photos/cat+1 é.png", f"s3://{bucket}/new photos/cat+1 é.png"]
    test_event = next(line for line in lines if "source-ref" not in line)
    assert test_event["Event"] == "s3:TestEvent" and test_event["labels-metadata"]["class-name"] in ("cat", "dog")
    for line in lines:
        assert line["dataset-objectid-attribute-name"] == "$labels-object-id"


def test_a_redelivered_s3_event_is_labeled_once(cloud: Cloud) -> None:
    job = cloud.running(TaskType.IMAGE_MULTI_CLASS, ["cat", "dog"])
    source = cloud.image(job.bucket, "photo.png")
    record = {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": job.bucket},
                                                       "object": {"key": "photo.png", "sequencer": "0055AED6DCD90281E5"}}}
    other = json.loads(json.dumps(record))
    other["s3"]["object"]["sequencer"] = "0055AED6DCD90281E6"
    cloud.publish(job, {"Records": [record]}, {"Records": [record]}, {"Records": [other]}, {"source": "end"})
    lines = cloud.labels_out(job, 3)
    cloud.service.settle()
    lines = [line for line in cloud.drain(job) if line.get("source") != "end"]
    assert [line["source-ref"] for line in lines] == [source, source], "URI + sequencer"
    assert sorted(line["$sequencer"] for line in lines) == ["0055AED6DCD90281E5", "0055AED6DCD90281E6"]


def test_messages_that_are_not_data_objects_count_as_failed(cloud: Cloud) -> None:
    job = cloud.running(TaskType.TEXT_MULTI_CLASS, ["yes", "no"])
    cloud.publish(job, "not json", json.dumps(["a list"]), {"text": "no source"}, {"source": "ok"})
    cloud.labels_out(job, 1)
    wait_for(lambda: cloud.counters(job)["FailedNonRetryableError"] == 3, what="three failures")
    assert cloud.counters(job) == {"TotalLabeled": 1, "HumanLabeled": 1, "MachineLabeled": 0,
                                   "FailedNonRetryableError": 3, "Unlabeled": 0}


def test_an_object_whose_template_cannot_render_fails(cloud: Cloud) -> None:
    template = '<crowd-form><crowd-classifier name="c" categories="{{ task.input.labels | to_json }}">' \
               "{{ task.input.taskObject | no_such_filter }}</crowd-classifier></crowd-form>"
    job = cloud.running(TaskType.TEXT_MULTI_CLASS, ["yes", "no"], template=template)  # it parses
    cloud.publish(job, {"source": "rendering fails on the unknown filter"})
    wait_for(lambda: cloud.counters(job)["FailedNonRetryableError"] == 1, what="the object to fail")
    assert cloud.counters(job)["TotalLabeled"] == 0 and cloud.describe(job)["LabelingJobStatus"] == "InProgress"


def test_the_input_manifest_objects_are_labeled_at_start(cloud: Cloud) -> None:
    bucket = cloud.bucket()
    cloud.s3.put_object(Bucket=bucket, Key="m.manifest", Body=b'{"source": "first"}\n\n{"source": "second"}\n')
    job = cloud.running(TaskType.TEXT_MULTI_CLASS, ["yes", "no"], manifest=f"s3://{bucket}/m.manifest")
    assert sorted(line["source"] for line in cloud.labels_out(job, 2)) == ["first", "second"]


# --- workers -----------------------------------------------------------------------------------


def test_disagreeing_workers_show_in_the_consolidated_output(cloud: Cloud) -> None:
    def answer(task: Any) -> Dict[str, Any]:
        if task.task_type == "TEXT_MULTI_CLASS":
            return {task.element_name: {"label": ["yes", "yes", "no"][task.worker]}}
        if task.task_type == "TEXT_MULTI_CLASS_MULTI_LABEL":
            return {task.element_name: {"labels": [["a"], ["a", "b"], ["c"]][task.worker]}}
        size = task.image_size()
        box = {"label": "car", "left": 10 + task.worker, "top": 10, "width": 20, "height": 20}
        boxes = [box] + ([{"label": "bus", "left": 40, "top": 5, "width": 5, "height": 5}] if task.worker == 0 else [])
        return {task.element_name: {"boundingBoxes": boxes,
                                    "inputImageProperties": {"width": size.width, "height": size.height}}}

    cloud.service.workforce = answer
    single = cloud.running(TaskType.TEXT_MULTI_CLASS, ["yes", "no"], workers=3)
    multi = cloud.running(TaskType.TEXT_MULTI_CLASS_MULTI_LABEL, ["a", "b", "c"], workers=3)
    boxes = cloud.running(TaskType.BOUNDING_BOX, ["car", "bus"], workers=3)
    cloud.publish(single, {"source": "s"})
    cloud.publish(multi, {"source": "m"})
    cloud.publish(boxes, {"source-ref": cloud.image(boxes.bucket, "b.png")})
    (line,) = cloud.labels_out(single, 1)
    assert (line["labels"], line["labels-metadata"]["class-name"], line["labels-metadata"]["confidence"]) == (
        0, "yes", 0.67)
    (line,) = cloud.labels_out(multi, 1)
    assert line["labels"] == [0, 1, 2], "the union of every worker's labels"
    assert line["labels-metadata"]["confidence-map"] == {"0": 0.67, "1": 0.33, "2": 0.33}
    (line,) = cloud.labels_out(boxes, 1)
    assert line["labels"]["annotations"] == [{"class_id": 0, "left": 11, "top": 10, "width": 20, "height": 20}]
    assert line["labels-metadata"]["objects"] == [{"confidence": 1.0}], "a box one worker of three drew is dropped"
    record = cloud.service.tasks(single.name)[0]
    assert [a["crowd-classifier"]["label"] for a in record.answers] == ["yes", "yes", "no"]
    assert 'name="crowd-classifier"' in record.rendered and "s" in record.task_input["taskObject"]


def test_answers_from_a_file_keyed_by_data_object(cloud: Cloud, tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"first": {"crowd-classifier": {"label": "no"}},
                                   "second": [{"crowd-classifier": {"label": "yes"}},
                                              {"crowd-classifier": {"label": "no"}}]}))
    cloud.service.workforce = answers
    job = cloud.running(TaskType.TEXT_MULTI_CLASS, ["yes", "no"], workers=2)
    cloud.publish(job, {"source": "first"}, {"source": "second"})
    by_source = {line["source"]: line for line in cloud.labels_out(job, 2)}
    assert by_source["first"]["labels-metadata"]["class-name"] == "no"
    assert by_source["first"]["labels-metadata"]["confidence"] == 1.0
    assert by_source["second"]["labels-metadata"]["confidence"] == 0.5


def test_the_default_workers_are_deterministic(cloud: Cloud) -> None:
    jobs = [cloud.running(TaskType.IMAGE_MULTI_CLASS_MULTI_LABEL, ["a", "b", "c", "d"]) for _ in range(2)]
    for job in jobs:
        cloud.image(job.bucket, "x.png")
        cloud.publish(job, {"source-ref": "s3://shared/x.png"})
    first, second = (cloud.labels_out(job, 1)[0] for job in jobs)
    assert first["labels"] == second["labels"] and first["labels"]


def test_concurrent_tasks_are_capped_and_a_message_older_than_the_retention_is_dropped(cloud: Cloud) -> None:
    from streaming_labeling.testing.workforce import SimulatedWorkforce

    cloud.service.workforce = SimulatedWorkforce(delay_seconds=20 * 86400)  # workers take 20 emulated days
    job = cloud.running(TaskType.TEXT_MULTI_CLASS, ["yes", "no"], max_concurrent=1)
    cloud.publish(job, {"source": "first"}, {"source": "waits in the queue"})
    wait_for(lambda: cloud.counters(job)["Unlabeled"] == 1, what="one task")
    queue = cloud.sqs.get_queue_url(QueueName=f"GroundTruth-{job.name.lower()}")["QueueUrl"]

    def queued() -> int:
        attributes = cloud.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    wait_for(lambda: queued() == 1, what="the second object queued")
    assert cloud.service.clock.now() > 0
    cloud.service.clock.advance(days=15)
    assert queued() == 0, "expired after 14 days"
    cloud.service.clock.advance(days=6)
    assert [line["source"] for line in cloud.labels_out(job, 1)] == ["first"]
    assert cloud.counters(job)["TotalLabeled"] == 1


# --- lifecycle ---------------------------------------------------------------------------------


def subscribed_queues(cloud: Cloud, topic: str) -> List[str]:
    return [s["Endpoint"] for s in cloud.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]]


def test_a_job_creates_its_queue_and_subscribes_it_then_runs(cloud: Cloud) -> None:
    job = cloud.job(TaskType.TEXT_MULTI_CLASS, ["yes", "no"])
    assert cloud.describe(job)["LabelingJobStatus"] == "Initializing"
    described = cloud.wait_status(job, "InProgress")
    queue = cloud.sqs.get_queue_url(QueueName=f"GroundTruth-{job.name.lower()}")["QueueUrl"]
    attributes = cloud.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["MessageRetentionPeriod"] == "1209600"
    assert json.loads(attributes["Policy"])["Statement"][0]["Principal"] == {"Service": "sns.amazonaws.com"}
    assert attributes["QueueArn"] in subscribed_queues(cloud, job.input_topic)
    output = sagemaker_model().operation_model("DescribeLabelingJob").output_shape
    described.pop("ResponseMetadata")
    assert violations(described, output) == [], "the response has every member the model requires"
    assert described["JobReferenceCode"].startswith("123456789012")
    assert described["LabelingJobArn"] == f"arn:aws:sagemaker:us-east-1:123456789012:labeling-job/{job.name}"


def test_an_idle_job_stops_after_ten_days_and_leaves_its_queue(cloud: Cloud) -> None:
    job = cloud.running(TaskType.TEXT_MULTI_CLASS, ["yes", "no"])
    cloud.publish(job, {"source": "one"})
    cloud.labels_out(job, 1)
    queue_arn = f"arn:aws:sqs:us-east-1:123456789012:GroundTruth-{job.name.lower()}"
    cloud.service.clock.advance(days=9)
    assert cloud.describe(job)["LabelingJobStatus"] == "InProgress"
    cloud.publish(job, {"source": "two"})  # activity restarts the 10 days
    cloud.labels_out(job, 2)
    cloud.service.clock.advance(days=9)
    assert cloud.describe(job)["LabelingJobStatus"] == "InProgress"
    cloud.service.clock.advance(days=1)
    assert cloud.describe(job)["LabelingJobStatus"] == "Stopped"
    assert queue_arn not in subscribed_queues(cloud, job.input_topic), "unsubscribed"
    assert cloud.sqs.get_queue_url(QueueName=f"GroundTruth-{job.name.lower()}")["QueueUrl"], "the queue is left"


def test_stop_labeling_job_goes_stopping_then_stopped(cloud: Cloud) -> None:
    job = cloud.running(TaskType.TEXT_MULTI_CLASS, ["yes", "no"])
    cloud.sagemaker.stop_labeling_job(LabelingJobName=job.name.upper())
    assert cloud.describe(job)["LabelingJobStatus"] == "Stopping"
    cloud.wait_status(job, "Stopped")
    assert not [q for q in subscribed_queues(cloud, job.input_topic) if "GroundTruth-" in q]
    with pytest.raises(ClientError) as error:
        cloud.sagemaker.stop_labeling_job(LabelingJobName=job.name)
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert "Stopped" in error.value.response["Error"]["Message"]


def test_state_changes_reach_a_rule_on_the_default_bus(cloud: Cloud) -> None:
    events, sqs = cloud.aws.client("events"), cloud.sqs
    queue = sqs.create_queue(QueueName=unique("events"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    job = cloud.job(TaskType.TEXT_MULTI_CLASS, ["yes", "no"], create=False)
    rule = unique("gt-state")
    events.put_rule(Name=rule, EventPattern=json.dumps({
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Ground Truth Labeling Job State Change"],
        "resources": [f"arn:aws:sagemaker:us-east-1:123456789012:labeling-job/{job.name}"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": queue_arn}])
    cloud.sagemaker.create_labeling_job(**job.request)
    cloud.wait_status(job, "InProgress")
    cloud.sagemaker.stop_labeling_job(LabelingJobName=job.name)
    cloud.wait_status(job, "Stopped")
    seen: List[Dict[str, Any]] = []

    def statuses() -> List[str]:
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            seen.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return [e["detail"]["LabelingJobStatus"] for e in seen]

    wait_for(lambda: len(statuses()) == 4, what="four events")
    assert statuses() == ["Initializing", "InProgress", "Stopping", "Stopped"]
    # moto 5.2.5 delivers no "account" member; the rest is the documented event (runtime facts §5).
    assert {(e["source"], e["detail-type"], e["region"], e["version"]) for e in seen} == {
        ("aws.sagemaker", "SageMaker Ground Truth Labeling Job State Change", "us-east-1", "0")}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e["time"]) for e in seen)


FAILURES = [
    ("missing role", {"role": "arn:aws:iam::123456789012:role/no-such-role"}, "does not exist"),
    ("role that does not trust SageMaker", {"trust": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}},
     "sagemaker.amazonaws.com"),
    ("missing template", {"delete": "worker-template.liquid.html"}, "worker task template"),
    ("missing label file", {"delete": "label-categories.json"}, "label category file"),
    ("template that does not parse", {"template": "<crowd-form>{% if %}</crowd-form>"}, "could not be parsed"),
    ("type not emulated", {"type": TaskType.VIDEO_MULTI_CLASS}, "VideoMultiClass"),
    ("custom type", {"pre": "arn:aws:lambda:us-east-1:123456789012:function:my-pre"}, "custom task types"),
]


@pytest.mark.parametrize("change, reason", [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES])
def test_a_job_the_service_would_refuse_ends_failed_with_a_reason(cloud: Cloud, change: Dict[str, Any],
                                                                  reason: str) -> None:
    role = change.get("role") or cloud.role(change.get("trust"))
    job = cloud.job(change.get("type", TaskType.TEXT_MULTI_CLASS), ["yes", "no"], role=role,
                    template=change.get("template"), create=False)
    if "delete" in change:
        cloud.s3.delete_object(Bucket=job.bucket, Key=f"streaming-labeling/config/{job.name}/{change['delete']}")
    if "pre" in change:
        job.request["HumanTaskConfig"]["PreHumanTaskLambdaArn"] = change["pre"]
    cloud.sagemaker.create_labeling_job(**job.request)
    described = cloud.wait_status(job, "Failed")
    assert reason in described["FailureReason"]
    assert described["FailureReason"].startswith("ClientError: ")
    summary = cloud.sagemaker.list_labeling_jobs(NameContains=job.name)["LabelingJobSummaryList"][0]
    assert summary["FailureReason"] == described["FailureReason"]


# --- the API -----------------------------------------------------------------------------------


def error_of(call: Any, **kwargs: Any) -> Dict[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return dict(raised.value.response["Error"])


def test_requests_are_validated_against_the_model(cloud: Cloud) -> None:
    job = cloud.job(TaskType.TEXT_MULTI_CLASS, ["yes", "no"], create=False)
    bad = json.loads(json.dumps(job.request))
    bad["LabelingJobName"] = "not_valid!"
    bad["HumanTaskConfig"]["NumberOfHumanWorkersPerDataObject"] = 10
    bad["LabelAttributeName"] = "-starts-with-a-dash"  # botocore checks none of these three; the service does
    before = len(cloud.sagemaker.list_labeling_jobs(MaxResults=100)["LabelingJobSummaryList"])
    error = error_of(cloud.sagemaker.create_labeling_job, **bad)
    assert error["Code"] == "ValidationException" and error["Message"].startswith("3 validation errors detected")
    for member in ("LabelingJobName", "NumberOfHumanWorkersPerDataObject", "LabelAttributeName"):
        assert member in error["Message"]
    assert len(cloud.sagemaker.list_labeling_jobs(MaxResults=100)["LabelingJobSummaryList"]) == before, "no job"
    assert error_of(cloud.sagemaker.describe_labeling_job, LabelingJobName="x" * 64)["Code"] == "ValidationException"


def test_names_are_case_insensitive_and_never_reused(cloud: Cloud) -> None:
    job = cloud.running(TaskType.TEXT_MULTI_CLASS, ["yes", "no"])
    again = dict(job.request, LabelingJobName=job.name.upper())
    assert error_of(cloud.sagemaker.create_labeling_job, **again)["Code"] == "ResourceInUse"
    assert cloud.sagemaker.describe_labeling_job(LabelingJobName=job.name.upper())["LabelingJobName"] == job.name


def test_unknown_jobs_and_operations(cloud: Cloud) -> None:
    assert error_of(cloud.sagemaker.describe_labeling_job, LabelingJobName="nope")["Code"] == "ResourceNotFound"
    assert error_of(cloud.sagemaker.stop_labeling_job, LabelingJobName="nope")["Code"] == "ResourceNotFound"
    error = error_of(cloud.sagemaker.list_training_jobs)
    assert "ListTrainingJobs" in error["Message"] and "not emulated" in error["Message"]


def test_list_labeling_jobs_filters_sorts_and_pages(cloud: Cloud) -> None:
    marker = unique("lst")
    names = []
    for suffix in ("b", "a", "c"):
        job = cloud.job(TaskType.TEXT_MULTI_CLASS, ["yes", "no"], create=False)
        name = f"{marker}-{suffix}"
        job.request["LabelingJobName"] = name
        cloud.sagemaker.create_labeling_job(**job.request)
        names.append(name)
    listed = cloud.sagemaker.list_labeling_jobs(NameContains=marker.upper(), SortBy="Name", SortOrder="Descending",
                                                MaxResults=2)
    assert [s["LabelingJobName"] for s in listed["LabelingJobSummaryList"]] == [f"{marker}-c", f"{marker}-b"]
    rest = cloud.sagemaker.list_labeling_jobs(NameContains=marker, SortBy="Name", SortOrder="Descending",
                                              MaxResults=2, NextToken=listed["NextToken"])
    assert [s["LabelingJobName"] for s in rest["LabelingJobSummaryList"]] == [f"{marker}-a"] and "NextToken" not in rest
    by_time = cloud.sagemaker.list_labeling_jobs(NameContains=marker)["LabelingJobSummaryList"]
    assert [s["LabelingJobName"] for s in by_time] == names
    paginated = cloud.sagemaker.get_paginator("list_labeling_jobs").paginate(NameContains=marker,
                                                                             PaginationConfig={"PageSize": 1})
    assert sum(len(page["LabelingJobSummaryList"]) for page in paginated) == 3
    wait_for(lambda: len(cloud.sagemaker.list_labeling_jobs(NameContains=marker, StatusEquals="InProgress")[
        "LabelingJobSummaryList"]) == 3, what="all three running")


def test_tags(cloud: Cloud) -> None:
    job = cloud.job(TaskType.TEXT_MULTI_CLASS, ["yes", "no"])
    assert cloud.sagemaker.list_tags(ResourceArn=job.arn)["Tags"] == job.request["Tags"]
    cloud.sagemaker.add_tags(ResourceArn=job.arn, Tags=[{"Key": "team", "Value": "vision"}])
    cloud.sagemaker.delete_tags(ResourceArn=job.arn, TagKeys=["streaming-labeling:input-bucket"])
    assert cloud.sagemaker.list_tags(ResourceArn=job.arn)["Tags"] == [{"Key": "team", "Value": "vision"}]
    assert cloud.describe(job)["Tags"] == [{"Key": "team", "Value": "vision"}]
    error = error_of(cloud.sagemaker.add_tags, ResourceArn=job.arn,
                     Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error["Code"] == "ValidationException"
    assert error_of(cloud.sagemaker.list_tags, ResourceArn=job.arn + "-gone")["Code"] == "ResourceNotFound"

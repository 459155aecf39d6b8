"""Labels out, end to end on the local Ground Truth: the example pipeline (boxes, then their adjustment)
labels images across a renewal after an idle stop; ``streaming-labeling labels`` (a subprocess) and
``streaming_labeling.read_labels`` give each object once, with both stages' labels, in the documented
output format; the COCO export loads in pycocotools and its boxes are the labels.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from streaming_labeling import LabelsError, read_labels
from streaming_labeling.testing import LocalGroundTruth

from .test_e2e_local import Example, images
from .test_local_ground_truth import example, label_pair

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]

Run = subprocess.CompletedProcess


class Pipeline:
    """The example app with objects labeled before and after both pipeline stages were renewed."""

    def __init__(self, local: LocalGroundTruth, folder: Path) -> None:
        self.local = local
        self.app = Example(local, "LabelsExport")
        self.first_boxes, self.first_review = self.app.names["vehicles"], self.app.names["review"]
        self.before = images(folder, 3, "before")
        self.send(self.before)
        self.again = next(line["source-ref"] for line in self.app.consumed("review", 3)
                          if line["source-ref"].endswith(self.before[0].name))
        local.advance(days=10)  # both stages idle: the service stops them, the stack's handler renews them
        self.boxes = self.successor(self.app.stack.boxes.resource, self.first_boxes)
        self.review = self.successor(self.app.stack.review.resource, self.first_review)
        self.after = images(folder, 2, "after")
        self.send(self.after)
        # One object again (the CLI would not upload the same file twice): labeled a second time by the successors.
        topic = self.app.deployed.outputs["PipelineInputTopicArn"]
        local.client("sns").publish(TopicArn=topic, Message=json.dumps({"source-ref": self.again}))
        self.app.consumed("review", 3)

    def send(self, files: List[Path]) -> None:
        sent = self.app.cli("send", "--job-name", self.app.names["vehicles"], *map(str, files))
        assert sent.returncode == 0, sent.stderr

    def successor(self, resource: Any, first: str) -> str:
        physical = self.app.deployed.physical_id(resource)
        name: str = self.local.wait(lambda: self.local.current_generation(physical), lambda found: found != first,
                                    60, f"the successor of {first}")
        self.local.wait_for_status(name, "InProgress")
        sagemaker = self.local.client("sagemaker")
        self.local.wait(lambda: sagemaker.list_tags(ResourceArn=self.local.job(name)["LabelingJobArn"])["Tags"],
                        lambda tags: any(tag["Key"] == "streaming-labeling:subscribed-at" for tag in tags), 60,
                        f"the end of {first}'s renewal")
        return name

    def bucket(self) -> str:
        return str(self.app.deployed.outputs["OutputBucketName"])

    def cli(self, *args: str) -> Run[str]:
        return self.app.cli("labels", *args)


@pytest.fixture(scope="module")
def local() -> Iterator[LocalGroundTruth]:
    with LocalGroundTruth() as started:
        yield started


@pytest.fixture(scope="module")
def pipeline(local: LocalGroundTruth, tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return Pipeline(local, tmp_path_factory.mktemp("images"))


@contextmanager
def environment(env: Dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``env`` (what the CLI subprocesses get), restored afterwards as it was."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def jsonl(run: Run[str]) -> List[Dict[str, Any]]:
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_each_object_once_with_both_stages_labels_across_the_renewal(pipeline: Pipeline) -> None:
    lines = jsonl(pipeline.cli("--job-name", pipeline.first_review, "--pipeline"))
    files = pipeline.before + pipeline.after
    assert sorted(line["source-ref"].rsplit("/", 1)[-1] for line in lines) == sorted(f.name for f in files), \
        "every object once, across both generations of both stages"
    first, second = pipeline.app.stack.boxes.label_attribute_name, pipeline.app.stack.review.label_attribute_name
    for line in lines:
        assert label_pair(line, first) == example("bounding-box", "bounding-box")
        assert label_pair(line, second) == example("bounding-box-adjustment", "adjusted-bounding-box")
    again = next(line for line in lines if line["source-ref"] == pipeline.again)
    assert again[f"{second}-metadata"]["job-name"] in (pipeline.review, f"labeling-job/{pipeline.review}"), \
        "the object labeled in both generations carries the latest label"
    assert again[f"{first}-metadata"]["job-name"] in (pipeline.boxes, f"labeling-job/{pipeline.boxes}")


def test_the_function_yields_what_the_command_writes(pipeline: Pipeline) -> None:
    with environment(pipeline.local.env):
        records = list(read_labels(pipeline.review, pipeline=True))
    command = jsonl(pipeline.cli("--job-name", pipeline.review, "--pipeline"))
    assert records == command


def test_without_pipeline_the_last_stage_alone_and_since_filters(pipeline: Pipeline) -> None:
    lines = jsonl(pipeline.cli("--job-name", pipeline.review))
    assert len(lines) == 5
    latest = max(line[f"{pipeline.app.stack.review.label_attribute_name}-metadata"]["creation-date"]
                 for line in lines)
    recent = jsonl(pipeline.cli("--job-name", pipeline.review, "--since", latest))
    assert 1 <= len(recent) < len(lines)
    assert jsonl(pipeline.cli("--job-name", pipeline.review, "--since", "2999-01-01")) == []


def test_by_stack_and_construct(pipeline: Pipeline) -> None:
    by_name = jsonl(pipeline.cli("--job-name", pipeline.boxes))
    by_stack = jsonl(pipeline.cli("--stack", "LabelsExport", "--construct", "Vehicles"))
    assert by_stack == by_name
    several = pipeline.cli("--stack", "LabelsExport")
    assert several.returncode == 1 and "--construct" in several.stderr and "Vehicles" in several.stderr


def test_coco_loads_in_pycocotools_and_its_boxes_are_the_labels(pipeline: Pipeline, tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    target = tmp_path / "boxes.json"
    run = pipeline.cli("--job-name", pipeline.review, "--format", "coco", "--output", str(target))
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    coco = COCO(str(target))
    assert [category["name"] for category in coco.loadCats(coco.getCatIds())] == ["car", "truck", "bicycle"]
    attribute = pipeline.app.stack.review.label_attribute_name
    lines = {line["source-ref"]: line for line in jsonl(pipeline.cli("--job-name", pipeline.review))}
    assert sorted(image["file_name"] for image in coco.dataset["images"]) == sorted(lines)
    for image in coco.dataset["images"]:
        label = lines[image["file_name"]][attribute]
        assert [image["width"], image["height"]] == [label["image_size"][0]["width"],
                                                      label["image_size"][0]["height"]]
        boxes = sorted((ann["category_id"] - 1, *ann["bbox"]) for ann in coco.loadAnns(coco.getAnnIds([image["id"]])))
        assert boxes == sorted((box["class_id"], box["left"], box["top"], box["width"], box["height"])
                               for box in label["annotations"])


def test_a_format_that_does_not_fit_the_task_type(pipeline: Pipeline) -> None:
    run = pipeline.cli("--job-name", pipeline.review, "--format", "csv")
    assert run.returncode == 1 and run.stdout == ""
    assert "csv" in run.stderr and pipeline.review in run.stderr and "object-detection" in run.stderr


def test_classification_as_csv(pipeline: Pipeline, tmp_path: Path) -> None:
    animals = pipeline.app.names["animals"]
    sent = pipeline.app.cli("send", "--job-name", animals, *map(str, images(tmp_path, 2, "animal")))
    assert sent.returncode == 0, sent.stderr
    pipeline.app.consumed("animals", 2)
    run = pipeline.cli("--job-name", animals, "--format", "csv")
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    lines = {line["source-ref"]: line for line in jsonl(pipeline.cli("--job-name", animals))}
    attribute = pipeline.app.stack.job.label_attribute_name
    assert sorted(row["object"] for row in rows) == sorted(lines)
    for row in rows:
        metadata = lines[row["object"]][f"{attribute}-metadata"]
        assert row["labels"] == metadata["class-name"] and float(row["confidence"]) == metadata["confidence"]


@pytest.mark.parametrize("args, message", [
    (("--job-name", "no-such-job"), "No labeling job named 'no-such-job'"),
    (("--stack", "NoSuchStack"), "No stack named 'NoSuchStack'"),
    (("--job-name", "x", "--stack", "y"), "--job-name names the job on its own"),
    (("--construct", "Vehicles"), "Name the job"),
    (("--job-name", "x", "--since", "last tuesday"), "since='last tuesday'"),
])
def test_errors_name_what_is_wrong(pipeline: Pipeline, args: Tuple[str, ...], message: str) -> None:
    run = pipeline.cli(*args)
    assert run.returncode in (1, 2) and message in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


def test_a_job_without_labels_yet_and_no_pipeline_upstream(pipeline: Pipeline, local: LocalGroundTruth) -> None:
    quiet = Example(local, "LabelsQuiet")
    run = pipeline.cli("--job-name", quiet.names["animals"])
    assert run.returncode == 1 and "has no labels yet" in run.stderr and quiet.names["animals"] in run.stderr
    run = pipeline.cli("--job-name", quiet.names["vehicles"], "--pipeline")
    assert run.returncode == 1 and "has no upstream job" in run.stderr
    with pytest.raises(LabelsError, match="has no labels yet"), environment(local.env):
        list(read_labels(quiet.names["animals"]))
    local.destroy(quiet.deployed)


def test_semantic_segmentation_masks_as_coco_rle_that_pycocotools_decodes_to_the_masks(
        local: LocalGroundTruth, tmp_path: Path) -> None:
    """A semantic-segmentation job of the local Ground Truth (its simulated workers paint the image's
    rectangles): each class's COCO mask is that class's pixels in the PNG mask Ground Truth wrote."""
    import aws_cdk as cdk
    from pycocotools.coco import COCO

    from streaming_labeling import StreamingLabelingJob, TaskType, Workforce
    from streaming_labeling.imaging import parse_hex, read_png

    from . import apps

    stack = cdk.Stack(apps.new_app(), "LabelsMasks")
    job = StreamingLabelingJob(
        stack, "Masks", task_type=TaskType.SEMANTIC_SEGMENTATION, labels=["road", "car", "sky"],
        workforce=Workforce.private("arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/team"),
        task_title="Paint the scene", task_description="Paint each class", job_name_prefix="masks")
    deployed = local.deploy(stack)
    name = deployed.job_name(job)
    files = images(tmp_path, 2, "scene")
    sent = subprocess.run([sys.executable, "-m", "streaming_labeling", "send", "--job-name", name, *map(str, files)],
                          env=local.env, capture_output=True, text=True, timeout=120)
    assert sent.returncode == 0, sent.stderr
    local.wait_for_labels(name, count=2, timeout=120)
    target = tmp_path / "masks.json"
    run = subprocess.run([sys.executable, "-m", "streaming_labeling", "labels", "--job-name", name, "--format",
                          "coco", "--output", str(target)], env=local.env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    coco = COCO(str(target))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["road", "car", "sky"]
    s3 = local.client("s3")
    lines = {line["source-ref"]: line for line in jsonl(subprocess.run(
        [sys.executable, "-m", "streaming_labeling", "labels", "--job-name", name], env=local.env,
        capture_output=True, text=True, timeout=120))}
    attribute = job.label_attribute_name
    annotated = 0
    for image in coco.dataset["images"]:
        line = lines[image["file_name"]]
        bucket, key = line[attribute][len("s3://"):].split("/", 1)
        width, height, rows = read_png(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        assert (image["width"], image["height"]) == (width, height)
        for entry in line[f"{attribute}-metadata"]["internal-color-map"].values():
            if entry["class-name"] == "BACKGROUND":
                continue
            color = bytes(parse_hex(entry["hex-color"]))
            expected = [[1 if rows[y][3 * x: 3 * x + 3] == color else 0 for x in range(width)] for y in range(height)]
            category = ["road", "car", "sky"].index(entry["class-name"]) + 1
            anns = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]], catIds=[category]))
            if not any(any(row) for row in expected):
                assert anns == []
                continue
            (ann,) = anns
            assert coco.annToMask(ann).tolist() == expected
            annotated += 1
    assert annotated >= 1, "the simulated workers painted at least one class"
    local.destroy(deployed)

"""`make demo`: the whole loop of the example app on the local Ground Truth, with no AWS account.

Starts the local cloud (a moto server and the local Ground Truth), deploys the example app
(``stacks/example_stack.py``) through moto's CloudFormation, makes images here, sends them with
``streaming-labeling send`` to the animals job and to the vehicle pipeline, lets the simulated
workforce label them, reads the labels from each output topic (a queue subscribed to it, as a
consumer would), writes each labeled vehicle image with its boxes drawn, destroys the stack and
shows the jobs stopped. The example app has no text job, so no text lines are sent.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parent
os.environ["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"  # Node 22 for jsii

from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn  # noqa: E402
from rich.table import Table  # noqa: E402

console = Console()
OUT = ROOT / "demo-output"
ANIMALS = [("cat", (222, 140, 60)), ("dog", (120, 90, 60)), ("bird", (70, 140, 220)), ("cat", (240, 200, 90))]
VEHICLES = [("car", 96, 64, [(10, 20, 40, 24)]), ("truck", 128, 80, [(8, 16, 90, 50)]),
            ("bicycle", 80, 80, [(20, 30, 30, 30)]), ("street", 120, 72, [(5, 30, 40, 22), (60, 28, 50, 30)])]
RGB = Tuple[int, int, int]


def image(width: int, height: int, background: RGB, shapes: Sequence[Tuple[RGB, int, int, int, int]]) -> bytes:
    from streaming_labeling.testing.images import rectangles_png

    return rectangles_png(width, height, background, list(shapes))


def draw_boxes(png: bytes, boxes: Sequence[Dict[str, Any]], color: RGB) -> bytes:
    """The image with each box's outline drawn (2 px)."""
    from streaming_labeling.testing.images import read_png, write_png

    width, height, rows = read_png(png)
    pixels = [bytearray(row) for row in rows]

    def dot(x: int, y: int) -> None:
        if 0 <= x < width and 0 <= y < height:
            pixels[y][3 * x : 3 * x + 3] = bytes(color)

    for box in boxes:
        left, top, right, bottom = box["left"], box["top"], box["left"] + box["width"], box["top"] + box["height"]
        for x in range(left, right + 1):
            for y in (top, top + 1, bottom - 1, bottom):
                dot(x, y)
        for y in range(top, bottom + 1):
            for x in (left, left + 1, right - 1, right):
                dot(x, y)
    return write_png(width, height, [bytes(row) for row in pixels])


def subscribe(local: Any, topic: str, name: str) -> str:
    """A queue on a topic (raw delivery): what a consumer of the labels would read."""
    sqs, sns = local.client("sqs"), local.client("sns")
    url = sqs.create_queue(QueueName=f"demo-{name}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return str(url)


def receive(local: Any, url: str) -> List[Dict[str, Any]]:
    sqs, lines = local.client("sqs"), []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return lines
        for message in messages:
            lines.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def send(local: Any, job: str, files: Sequence[Path]) -> None:
    done = subprocess.run([sys.executable, "-m", "streaming_labeling", "send", "--job-name", job, *map(str, files)],
                          env=local.env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"streaming-labeling send failed:\n{done.stderr}")
    console.print(f"  [dim]{done.stderr.strip().splitlines()[-1]}[/dim]")


def quiet() -> None:
    """moto's own notes (resource types it has no model for, such as CDK's metadata) are not the demo's."""
    logging.basicConfig(level=logging.ERROR)
    warnings.simplefilter("ignore")


def main() -> None:
    import aws_cdk as cdk

    quiet()

    from stacks.example_stack import ExampleLabelingStack
    from streaming_labeling.testing import LocalGroundTruth

    started = time.monotonic()
    OUT.mkdir(exist_ok=True)
    with LocalGroundTruth() as local, tempfile.TemporaryDirectory() as work:
        console.rule("Deploy the example app into the local cloud")
        stack = ExampleLabelingStack(cdk.App(context=json.loads((ROOT / "cdk.json").read_text())["context"]),
                                     "StreamingLabelingExample")
        cdk.Annotations.of(stack).acknowledge_warning(  # the local Ground Truth is open to everyone
            "streaming-labeling:GroundTruthClosedToNewCustomers", "The demo runs on the local Ground Truth")
        deployed = local.deploy(stack)
        names = {"animals": deployed.job_name(stack.job), "vehicles": deployed.job_name(stack.boxes),
                 "review": deployed.job_name(stack.review)}
        console.print(f"deployed in {deployed.stack.seconds:.1f} s: " + ", ".join(
            f"{key} [bold]{name}[/bold] ({local.job(name)['LabelingJobStatus']})" for key, name in names.items()))
        outputs = deployed.outputs
        boxes_output = str(local.job(names["vehicles"])["OutputConfig"]["SnsTopicArn"])  # the review's input
        queues = {"animals": subscribe(local, outputs["OutputTopicArn"], "animals"),
                  "vehicles": subscribe(local, boxes_output, "vehicles"),
                  "review": subscribe(local, outputs["PipelineOutputTopicArn"], "review")}

        console.rule("Make images and send them")
        folder = Path(work)
        animal_files, vehicle_files, sources = [], [], {}
        for index, (label, color) in enumerate(ANIMALS):
            path = folder / f"animal-{index}-{label}.png"
            path.write_bytes(image(64, 48, (245, 245, 240), [(color, 12 + 4 * index, 10, 30, 24)]))
            animal_files.append(path)
        for label, width, height, shapes in VEHICLES:
            path = folder / f"vehicle-{label}.png"
            path.write_bytes(image(width, height, (200, 210, 220), [((60, 60, 70), *shape) for shape in shapes]))
            vehicle_files.append(path)
            sources[path.name] = path.read_bytes()
        console.print(f"{len(animal_files)} animal images -> {names['animals']}")
        send(local, names["animals"], animal_files)
        console.print(f"{len(vehicle_files)} vehicle images -> {names['vehicles']} (then {names['review']})")
        send(local, names["vehicles"], vehicle_files)

        console.rule("Labels arriving from the output topics")
        expected = {"animals": len(animal_files), "vehicles": len(vehicle_files), "review": len(vehicle_files)}
        received: Dict[str, List[Dict[str, Any]]] = {key: [] for key in expected}
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console) as bars:
            tasks = {key: bars.add_task(f"{key:9}", total=count) for key, count in expected.items()}
            deadline = time.monotonic() + 90
            while any(len(received[key]) < expected[key] for key in expected) and time.monotonic() < deadline:
                for key, url in queues.items():
                    received[key] += receive(local, url)
                    bars.update(tasks[key], completed=len(received[key]))
                time.sleep(0.2)
        show_tables(received, stack)

        console.rule(f"Labeled vehicle images with their boxes, in {OUT.name}/")
        s3 = local.client("s3")
        attribute = stack.review.label_attribute_name
        for line in received["review"]:
            bucket, _, key = line["source-ref"][len("s3://"):].partition("/")
            original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            drawn = draw_boxes(original, line[attribute]["annotations"], (230, 30, 30))
            target = OUT / f"{Path(key).stem}-boxes.png"
            target.write_bytes(drawn)
            console.print(f"  {target.relative_to(ROOT)}")

        console.rule("Destroy the stack")
        local.destroy(deployed)
        for key, name in names.items():
            console.print(f"{key:9} {name}: [bold]{local.job(name)['LabelingJobStatus']}[/bold]")
    console.print(f"\nThe whole loop took {time.monotonic() - started:.0f} s.")


def show_tables(received: Dict[str, List[Dict[str, Any]]], stack: Any) -> None:
    animals = Table(title="animals: image classification")
    for column in ("object", "label", "confidence"):
        animals.add_column(column)
    attribute = stack.job.label_attribute_name
    for line in received["animals"]:
        meta = line[f"{attribute}-metadata"]
        animals.add_row(line["source-ref"].rsplit("/", 1)[-1], meta["class-name"], f"{meta['confidence']:.2f}")
    console.print(animals)
    review = Table(title="vehicle pipeline: boxes drawn, then adjusted")
    for column in ("object", "boxes received", "boxes returned", "adjustment"):
        review.add_column(column)
    first, second = stack.boxes.label_attribute_name, stack.review.label_attribute_name

    def boxes(label: Dict[str, Any], meta: Dict[str, Any]) -> str:
        names = meta.get("class-map", {})
        return "\n".join(
            f"{names.get(str(a['class_id']), a['class_id'])} {a['left']},{a['top']} {a['width']}x{a['height']}"
            for a in label["annotations"])

    for line in received["review"]:
        review.add_row(line["source-ref"].rsplit("/", 1)[-1], boxes(line[first], line[f"{first}-metadata"]),
                       boxes(line[second], line[f"{second}-metadata"]),
                       str(line[f"{second}-metadata"].get("adjustment-status", "")))
    console.print(review)


if __name__ == "__main__":
    main()

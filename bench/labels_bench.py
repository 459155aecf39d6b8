"""Benchmark of the labels export (`make bench-labels`): `streaming-labeling labels` over N labeled objects.

A bounding-box job with two generations (the first stopped, as after an idle stop, the second
running; both tagged with one resource, as the stack's handler tags them) on the local Ground Truth.
Their output manifests (``<S3OutputPath><job name>/manifests/output/output.manifest``) are written
straight into the local S3 with generated bounding-box lines: objects 0 .. 60 % in the first
generation, 40 % .. N in the second, so a fifth of the objects are labeled in both and the export
keeps their second label. ``streaming-labeling labels --job-name <first generation> --format F
--output FILE`` runs as a subprocess; wall time and peak resident memory of its process tree
(sampled from /proc every 20 ms, as bench/run.py does) are taken for ``--format manifest`` and
``--format coco``, median over ``--repeats`` runs, for each ``--objects`` size, so that the memory at
10,000 and 100,000 objects shows whether it stays flat. Each output is checked: every object once,
the latest label, the boxes.

Usage: ``make bench-labels`` or ``python bench/labels_bench.py --objects 10000 100000 --repeats 3``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"

REGION, ACCOUNT = "us-east-1", "123456789012"
BUILT_IN_ACCOUNT = "432418664414"  # us-east-1's PRE-/ACS- Lambdas
WORKTEAM = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:workteam/private-crowd/team"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
LABELS = ["car", "truck", "bicycle", "person"]
ATTRIBUTE = "vehicles"
BOXES_PER_OBJECT = 2
FIRST_SHARE, SECOND_FROM = 0.6, 0.4  # generation 1 labels [0, 60 %), generation 2 [40 %, 100 %)

from run import run_measured  # noqa: E402 - bench/run.py's timing and memory sampling of a subprocess


def box_line(bucket: str, index: int, job: str, month: int) -> str:
    boxes = [{"class_id": (index + k) % len(LABELS), "left": 10 + k * 50 + index % 7, "top": 20 + k * 30,
              "width": 40 + index % 13, "height": 30 + k} for k in range(BOXES_PER_OBJECT)]
    line = {
        "source-ref": f"s3://{bucket}/images/object-{index:07d}.jpg",
        ATTRIBUTE: {"image_size": [{"width": 640, "height": 480, "depth": 3}], "annotations": boxes},
        f"{ATTRIBUTE}-metadata": {
            "objects": [{"confidence": 0.0} for _ in boxes],
            "class-map": {str(box["class_id"]): LABELS[box["class_id"]] for box in boxes},
            "type": "groundtruth/object-detection", "human-annotated": "yes",
            "creation-date": f"2026-{month:02d}-01T{index // 3600 % 24:02d}:{index // 60 % 60:02d}:{index % 60:02d}."
                             f"{index % 1000000:06d}",
            "job-name": f"labeling-job/{job}"},
    }
    return json.dumps(line, separators=(",", ":"))


class BoxesJob:
    """Two generations of one resource on the local Ground Truth, with their output manifests in S3."""

    def __init__(self, local: Any, objects: int) -> None:
        from streaming_labeling import TaskType
        from streaming_labeling.worker_ui import label_category_config, worker_template

        self.local, self.objects = local, objects
        s3, iam, sns = local.client("s3"), local.client("iam"), local.client("sns")
        self.bucket = f"bench-labels-{objects}"
        s3.create_bucket(Bucket=self.bucket)
        role = iam.create_role(RoleName=f"bench-labels-{objects}",
                               AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
        input_topic = sns.create_topic(Name=f"bench-labels-in-{objects}")["TopicArn"]
        output_topic = sns.create_topic(Name=f"bench-labels-out-{objects}")["TopicArn"]
        task = TaskType.BOUNDING_BOX
        config = f"streaming-labeling/config/bench{objects}/"
        s3.put_object(Bucket=self.bucket, Key=config + "label-categories.json",
                      Body=label_category_config(task, LABELS, header="Box the vehicles").encode())
        s3.put_object(Bucket=self.bucket, Key=config + "worker-template.liquid.html",
                      Body=str(worker_template(task, header="Box the vehicles")).encode())
        resource = f"bench{objects}-{'a' * 12}"  # the resource's physical id: its generation-0 name
        self.names = [resource, f"bench{objects}-{'b' * 12}"]
        # Generation 0 was ended by an idle stop; generation 1 is its renewal.
        local.start_generations(dict(
            LabelAttributeName=ATTRIBUTE,
            InputConfig={"DataSource": {"SnsDataSource": {"SnsTopicArn": input_topic}}},
            OutputConfig={"S3OutputPath": f"s3://{self.bucket}/labels/", "SnsTopicArn": output_topic},
            RoleArn=role, LabelCategoryConfigS3Uri=f"s3://{self.bucket}/{config}label-categories.json",
            HumanTaskConfig={
                "WorkteamArn": WORKTEAM, "TaskTitle": "Box the vehicles", "TaskDescription": "Box them",
                "PreHumanTaskLambdaArn": f"arn:aws:lambda:{REGION}:{BUILT_IN_ACCOUNT}:function:PRE-BoundingBox",
                "NumberOfHumanWorkersPerDataObject": 1, "TaskTimeLimitInSeconds": 300,
                "UiConfig": {"UiTemplateS3Uri": f"s3://{self.bucket}/{config}worker-template.liquid.html"},
                "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn":
                                                  f"arn:aws:lambda:{REGION}:{BUILT_IN_ACCOUNT}:function:ACS-BoundingBox"}},
        ), self.names)
        first = range(0, int(objects * FIRST_SHARE))
        second = range(int(objects * SECOND_FROM), objects)
        self.twice = len(range(second.start, first.stop))
        for name, indices, month in ((self.names[0], first, 1), (self.names[1], second, 2)):
            with tempfile.TemporaryFile("w+b") as body:
                for index in indices:
                    body.write(box_line(self.bucket, index, name, month).encode() + b"\n")
                body.seek(0)
                s3.upload_fileobj(body, self.bucket, f"labels/{name}/manifests/output/output.manifest")

    def check(self, fmt: str, path: Path) -> None:
        """Every object once, with the label of the newest generation that labeled it."""
        newest = lambda index: self.names[1] if index >= int(self.objects * SECOND_FROM) else self.names[0]  # noqa: E731
        if fmt == "manifest":
            seen = set()
            with path.open(encoding="utf-8") as lines:
                for line in lines:
                    record = json.loads(line)
                    index = int(record["source-ref"][-11:-4])
                    assert index not in seen, f"object {index} twice"
                    seen.add(index)
                    assert record[f"{ATTRIBUTE}-metadata"]["job-name"] == f"labeling-job/{newest(index)}", index
            assert len(seen) == self.objects, f"{len(seen)} of {self.objects} objects"
            return
        document = json.loads(path.read_text(encoding="utf-8"))
        assert [c["name"] for c in document["categories"]] == LABELS
        files = {image["file_name"] for image in document["images"]}
        assert len(files) == len(document["images"]) == self.objects, f"{len(files)} of {self.objects} images"
        assert len(document["annotations"]) == self.objects * BOXES_PER_OBJECT
        width = {image["id"]: image["width"] for image in document["images"]}
        assert all(width[a["image_id"]] == 640 for a in document["annotations"])


def export(local: Any, job: BoxesJob, fmt: str, output: Path) -> Tuple[float, int]:
    """Wall seconds and peak tree memory (MiB) of one ``streaming-labeling labels`` run."""
    command = [sys.executable, "-m", "streaming_labeling", "labels", "--job-name", job.names[0], "--format", fmt,
               "--output", str(output)]
    elapsed, peak, code, errors = run_measured(command, local.env)
    if code != 0:
        raise SystemExit(f"{' '.join(command[2:])} failed ({code}): {errors}")
    return elapsed, peak


def main() -> None:
    from streaming_labeling.testing import LocalGroundTruth

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--formats", nargs="+", default=["manifest", "coco"])
    args = parser.parse_args()
    rows: List[Dict[str, Any]] = []
    work = Path(tempfile.mkdtemp(prefix="labels-bench-"))
    with LocalGroundTruth() as local:
        for objects in args.objects:
            started = time.monotonic()
            job = BoxesJob(local, objects)
            print(f"{objects:,} objects: 2 generations, {job.twice:,} objects labeled in both; manifests written in "
                  f"{time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
            for fmt in args.formats:
                runs = []
                for repeat in range(args.repeats):
                    output = work / f"labels-{objects}.{fmt}"
                    runs.append(export(local, job, fmt, output))
                    print(f"  {fmt}: run {repeat + 1}/{args.repeats} {runs[-1][0]:.2f} s, {runs[-1][1]} MiB",
                          file=sys.stderr, flush=True)
                job.check(fmt, output)
                rows.append({"objects": objects, "format": fmt, "seconds": statistics.median(r[0] for r in runs),
                             "peak_mib": int(statistics.median(r[1] for r in runs)),
                             "output_mib": output.stat().st_size / 2**20})
                output.unlink()
    print(f"| objects (2 generations) | --format | wall (median of {args.repeats}) | objects/s "
          "| peak memory of the process tree | output |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['objects']:,} | {row['format']} | {row['seconds']:.2f} s | "
              f"{row['objects'] / row['seconds']:,.0f} | {row['peak_mib']} MiB | {row['output_mib']:.1f} MiB |")
    for fmt in args.formats:
        peaks = [f"{row['peak_mib']} MiB at {row['objects']:,}" for row in rows if row["format"] == fmt]
        print(f"peak memory, {fmt}: " + ", ".join(peaks))


if __name__ == "__main__":
    main()

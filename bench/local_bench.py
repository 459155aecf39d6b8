"""Benchmark of the local Ground Truth (`make bench-local`): deploy, and objects from `send` to their labels.

1. The example app (``stacks/example_stack.py``) deployed into the local cloud: seconds from
   ``LocalGroundTruth.deploy`` to CREATE_COMPLETE (synthesis, assets, moto's CloudFormation, the
   handler's three jobs), median over ``--repeats`` stacks.
2. ``--objects`` text objects (default 1,000) sent with ``streaming-labeling send`` (a subprocess) to
   a text job, until every label has arrived on the output topic (read by a queue subscribed to it,
   as a consumer would): seconds and objects per second. The same with ten times as many objects for
   the peak resident memory of this process (the local cloud runs in it) to show whether memory stays
   flat as the number of objects grows.

Usage: ``make bench-local`` or ``python bench/local_bench.py --objects 1000 --repeats 3``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"


def app() -> Any:
    import aws_cdk as cdk

    return cdk.App(context=json.loads((ROOT / "cdk.json").read_text())["context"])


def text_stack(name: str) -> Any:
    import aws_cdk as cdk

    from streaming_labeling import StreamingLabelingJob, TaskType, Workforce

    stack = cdk.Stack(app(), name)
    job = StreamingLabelingJob(
        stack, "Sentiment", task_type=TaskType.TEXT_MULTI_CLASS, labels=["positive", "negative"],
        workforce=Workforce.private("arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/team"),
        task_title="Positive or negative?", task_description="Pick the sentiment",
    )  # the default configuration: the service's MaxConcurrentTaskCount (1,000)
    cdk.CfnOutput(stack, "InputTopic", value=job.input_topic.topic_arn)
    cdk.CfnOutput(stack, "OutputTopic", value=job.output_topic.topic_arn)
    stack.job = job  # type: ignore[attr-defined]
    return stack


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def labels_round_trip(local: Any, objects: int, name: str) -> Dict[str, float]:
    stack = text_stack(name)
    deployed = local.deploy(stack)
    sqs, sns = local.client("sqs"), local.client("sns")
    url = sqs.create_queue(QueueName=f"{name}-consumer")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=deployed.outputs["OutputTopic"], Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true"})
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as lines:
        for index in range(objects):
            lines.write(f"sentence number {index} of the benchmark\n")
    started = time.monotonic()
    sent = subprocess.run([sys.executable, "-m", "streaming_labeling", "send", "--job-name",
                           deployed.job_name(stack.job), "--text-file", lines.name],
                          env=local.env, capture_output=True, text=True, timeout=3600)
    if sent.returncode != 0:
        raise SystemExit(sent.stderr)
    sent_at = time.monotonic()
    received = 0
    while received < objects:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        received += len(batch)
        if time.monotonic() - started > 1800:
            raise SystemExit(f"only {received} of {objects} labels after 30 minutes")
        if not batch:
            time.sleep(0.05)
    done = time.monotonic()
    local.destroy(deployed)
    os.unlink(lines.name)
    return {"objects": objects, "send_s": sent_at - started, "labels_s": done - started,
            "per_s": objects / (done - started), "peak_mib": peak_rss_mib()}


def main() -> None:
    from stacks.example_stack import ExampleLabelingStack
    from streaming_labeling.testing import LocalGroundTruth

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=int, default=10, help="the memory run sends this many times --objects")
    args = parser.parse_args()
    with LocalGroundTruth() as local:
        deploys: List[float] = []
        for index in range(args.repeats):
            stack = ExampleLabelingStack(app(), f"BenchExample{index}")
            deployed = local.deploy(stack)
            deploys.append(deployed.stack.seconds)
            local.destroy(deployed)
        print("deploys: " + ", ".join(f"{s:.1f} s" for s in deploys), flush=True)
        small = [labels_round_trip(local, args.objects, f"BenchText{index}") for index in range(args.repeats)]
        print(f"{args.objects:,} objects: " + ", ".join(f"{run['labels_s']:.1f} s" for run in small), flush=True)
        large = labels_round_trip(local, args.objects * args.scale, "BenchTextLarge")
    median = statistics.median(run["labels_s"] for run in small)
    print(f"example app deployed: median {statistics.median(deploys):.1f} s over {len(deploys)} "
          f"({', '.join(f'{s:.1f}' for s in deploys)}) [target: under 30 s]")
    print(f"{args.objects:,} text objects from send to their labels on the output topic: median {median:.1f} s, "
          f"{args.objects / median:,.0f} objects/s (send alone: "
          f"{statistics.median(run['send_s'] for run in small):.1f} s) [target: under 60 s]")
    print(f"{large['objects']:,.0f} objects: {large['labels_s']:.1f} s, {large['per_s']:,.0f} objects/s")
    print(f"peak memory of the local cloud's process: {small[0]['peak_mib']:.0f} MiB after {args.objects:,} "
          f"objects, {large['peak_mib']:.0f} MiB after {large['objects']:,.0f}")


if __name__ == "__main__":
    main()

"""A moto server, the local Ground Truth on it, and jobs set up the way the construct's handler sets them up.

Everything goes through the public surface: boto3 clients of moto and of the service. The label
file and the worker template are the library's own (``label_category_config``, ``worker_template``),
written where the handler writes them (``<ConfigS3Prefix><job>/label-categories.json`` and
``worker-template.liquid.html``); every request is checked against botocore's model first.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
from moto.server import ThreadedMotoServer

from streaming_labeling import TaskType
from streaming_labeling.testing.aws import AwsEndpoints
from streaming_labeling.testing.clock import Clock
from streaming_labeling.testing.images import rectangles_png
from streaming_labeling.testing.model import request_violations
from streaming_labeling.testing.service import GroundTruthService
from streaming_labeling.worker_ui import label_category_config, worker_template

REGION, ACCOUNT = "us-east-1", "123456789012"
BUILT_IN_ACCOUNT = "432418664414"  # us-east-1's PRE-/ACS- Lambdas
WORKTEAM = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:workteam/private-crowd/team"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
_names = itertools.count()


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}-{int(time.time() * 1000) % 100000}"


@pytest.fixture(scope="session")
def moto_endpoints() -> Iterator[AwsEndpoints]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield AwsEndpoints(f"http://{host}:{port}", REGION, ACCOUNT)
    server.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(moto_endpoints: AwsEndpoints, clock: Clock) -> Iterator[GroundTruthService]:
    with GroundTruthService(moto_endpoints, clock) as running:
        yield running
        assert running.engine.errors == [], "the engine thread had no unexpected errors"


@pytest.fixture
def cloud(moto_endpoints: AwsEndpoints, service: GroundTruthService) -> Cloud:
    return Cloud(moto_endpoints, service)


@dataclass
class Setup:
    name: str
    request: Dict[str, Any]
    input_topic: str
    output_topic: str
    probe: str
    bucket: str
    labels: List[str]
    arn: str = ""
    received: List[Dict[str, Any]] = field(default_factory=list)


class Cloud:
    """Helpers for one test: resources in moto and jobs on the local Ground Truth."""

    def __init__(self, aws: AwsEndpoints, service: GroundTruthService) -> None:
        self.aws, self.service = aws, service
        self.sagemaker = service.client()
        self.sns, self.sqs, self.s3, self.iam = (aws.client(s) for s in ("sns", "sqs", "s3", "iam"))

    def role(self, trust: Optional[Dict[str, Any]] = None) -> str:
        name = unique("gt-role")
        return str(self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust or TRUST))["Role"]["Arn"])

    def bucket(self) -> str:
        name = unique("gt-bucket").lower()
        self.s3.create_bucket(Bucket=name)
        return name

    def topic_with_probe(self, name: str) -> tuple[str, str]:
        """A topic and a queue subscribed to it with raw delivery: what arrives is the message itself."""
        topic = self.sns.create_topic(Name=name)["TopicArn"]
        queue = self.sqs.create_queue(QueueName=f"{name}-probe")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        return topic, queue

    def image(self, bucket: str, key: str, width: int = 64, height: int = 48) -> str:
        self.s3.put_object(Bucket=bucket, Key=key, Body=rectangles_png(width, height, (10, 20, 30), []))
        return f"s3://{bucket}/{key}"

    def job(
        self,
        task_type: TaskType,
        labels: List[str],
        *,
        workers: int = 1,
        attribute: str = "labels",
        input_topic: Optional[str] = None,
        source_attribute: Optional[str] = None,
        template: Optional[str] = None,
        role: Optional[str] = None,
        create: bool = True,
        max_concurrent: Optional[int] = None,
        manifest: Optional[str] = None,
        label_file: Optional[str] = None,
    ) -> Setup:
        name = unique("job")
        bucket = self.bucket()
        if input_topic is None:
            input_topic = self.sns.create_topic(Name=unique("GroundTruth-in"))["TopicArn"]
        output_topic, probe = self.topic_with_probe(unique("GroundTruth-out"))
        prefix = f"s3://{bucket}/streaming-labeling/config/{name}/"
        label_uri = prefix + "label-categories.json"
        self.s3.put_object(Bucket=bucket, Key=label_uri.split("/", 3)[3],
                           Body=(label_file or label_category_config(task_type, labels, header="Label it")).encode())
        human: Dict[str, Any] = {
            "WorkteamArn": WORKTEAM,
            "PreHumanTaskLambdaArn": f"arn:aws:lambda:{REGION}:{BUILT_IN_ACCOUNT}:function:PRE-{task_type.lambda_suffix}",
            "TaskTitle": "Label it", "TaskDescription": "Label the object",
            "NumberOfHumanWorkersPerDataObject": workers, "TaskTimeLimitInSeconds": 300,
            "AnnotationConsolidationConfig": {
                "AnnotationConsolidationLambdaArn":
                    f"arn:aws:lambda:{REGION}:{BUILT_IN_ACCOUNT}:function:ACS-{task_type.lambda_suffix}"},
        }
        if max_concurrent is not None:
            human["MaxConcurrentTaskCount"] = max_concurrent
        if task_type.uses_built_in_ui:
            human["UiConfig"] = {"HumanTaskUiArn": f"arn:aws:sagemaker:{REGION}:394669845002:human-task-ui/"
                                                   f"{task_type.human_task_ui_name}"}
        else:
            body = template if template is not None else worker_template(
                task_type, header="Label it", source_label_attribute_name=source_attribute)
            assert body is not None
            self.s3.put_object(Bucket=bucket, Key=(prefix + "worker-template.liquid.html").split("/", 3)[3],
                               Body=body.encode())
            human["UiConfig"] = {"UiTemplateS3Uri": prefix + "worker-template.liquid.html"}
        data_source: Dict[str, Any] = {"SnsDataSource": {"SnsTopicArn": input_topic}}
        if manifest:
            data_source["S3DataSource"] = {"ManifestS3Uri": manifest}
        request = {
            "LabelingJobName": name, "LabelAttributeName": attribute,
            "InputConfig": {"DataSource": data_source},
            "OutputConfig": {"S3OutputPath": f"s3://{bucket}/labels/", "SnsTopicArn": output_topic},
            "RoleArn": role or self.role(), "LabelCategoryConfigS3Uri": label_uri, "HumanTaskConfig": human,
            "Tags": [{"Key": "streaming-labeling:input-bucket", "Value": bucket}],
        }
        assert request_violations("CreateLabelingJob", request) == []
        setup = Setup(name, request, input_topic, output_topic, probe, bucket, labels)
        if create:
            setup.arn = self.sagemaker.create_labeling_job(**request)["LabelingJobArn"]
        return setup

    def describe(self, setup: Setup) -> Dict[str, Any]:
        answer: Dict[str, Any] = self.sagemaker.describe_labeling_job(LabelingJobName=setup.name)
        return answer

    def wait_status(self, setup: Setup, *statuses: str, timeout: float = 30.0) -> Dict[str, Any]:
        def reached() -> Optional[Dict[str, Any]]:
            described = self.describe(setup)
            return described if described["LabelingJobStatus"] in statuses else None

        return dict(wait_for(reached, timeout, f"{setup.name} to be {'/'.join(statuses)}"))

    def running(self, *args: Any, **kwargs: Any) -> Setup:
        setup = self.job(*args, **kwargs)
        self.wait_status(setup, "InProgress")
        return setup

    def publish(self, setup: Setup, *messages: Any) -> None:
        for message in messages:
            self.sns.publish(TopicArn=setup.input_topic,
                             Message=message if isinstance(message, str) else json.dumps(message))

    def drain(self, setup: Setup) -> List[Dict[str, Any]]:
        while True:
            messages = self.sqs.receive_message(QueueUrl=setup.probe, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return setup.received
            for message in messages:
                setup.received.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=setup.probe, ReceiptHandle=message["ReceiptHandle"])

    def labels_out(self, setup: Setup, count: int, timeout: float = 30.0) -> List[Dict[str, Any]]:
        """At least ``count`` output lines from the output topic."""
        def enough() -> Optional[List[Dict[str, Any]]]:
            received = self.drain(setup)
            return received if len(received) >= count else None

        return list(wait_for(enough, timeout, f"{count} labels from {setup.name}"))

    def counters(self, setup: Setup) -> Dict[str, int]:
        return dict(self.describe(setup)["LabelCounters"])

    def keys(self, bucket: str, prefix: str) -> List[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def read(self, bucket: str, key: str) -> bytes:
        body: bytes = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

"""A real local AWS endpoint for the command line: moto's server (SNS, SQS, S3) and a scripted SageMaker.

moto does not emulate labeling jobs, so SageMaker is a small HTTP server on loopback that
answers the JSON protocol botocore speaks (``X-Amz-Target: SageMaker.<Operation>``) from a
dict of jobs. The command line runs as a subprocess pointed at both with the SDK's own
``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_SAGEMAKER``.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import boto3
import pytest
from moto.server import ThreadedMotoServer

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

ROOT = Path(__file__).resolve().parent.parent

REGION = "us-east-1"
ACCOUNT = "123456789012"


class FakeSageMaker:
    """DescribeLabelingJob, ListTags and StopLabelingJob over HTTP, from ``jobs``."""

    def __init__(self) -> None:
        self.jobs: Dict[str, Dict[str, Any]] = {}
        self.tags: Dict[str, List[Dict[str, str]]] = {}
        self.calls: List[tuple[str, Dict[str, Any]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                operation = self.headers.get("X-Amz-Target", "").split(".")[-1]
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                outer.calls.append((operation, body))
                status, answer = outer.answer(operation, body)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def add_job(self, name: str, status: str, topic_arn: str, *, input_bucket: Optional[str] = None,
                failure: Optional[str] = None) -> None:
        arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:labeling-job/{name}"
        job: Dict[str, Any] = {
            "LabelingJobName": name, "LabelingJobArn": arn, "LabelingJobStatus": status,
            "LabelCounters": {"TotalLabeled": 7, "HumanLabeled": 7, "MachineLabeled": 0,
                              "FailedNonRetryableError": 1, "Unlabeled": 3},
            "CreationTime": 1795000000, "LastModifiedTime": 1795000000, "JobReferenceCode": "ref",
            "LabelAttributeName": "animals", "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/gt",
            "InputConfig": {"DataSource": {"SnsDataSource": {"SnsTopicArn": topic_arn}}},
            "OutputConfig": {"S3OutputPath": "s3://out/labels/"},
            "HumanTaskConfig": {"WorkteamArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:workteam/private-crowd/t",
                                "UiConfig": {"UiTemplateS3Uri": "s3://out/t.html"}, "TaskTitle": "t",
                                "TaskDescription": "d", "NumberOfHumanWorkersPerDataObject": 1,
                                "TaskTimeLimitInSeconds": 300},
        }
        if failure:
            job["FailureReason"] = failure
        self.jobs[name] = job
        self.tags[arn] = [{"Key": "streaming-labeling:input-bucket", "Value": input_bucket}] if input_bucket else []

    def answer(self, operation: str, body: Dict[str, Any]) -> tuple[int, Dict[str, Any]]:
        if operation == "ListTags":
            return 200, {"Tags": self.tags.get(body["ResourceArn"], [])}
        job = self.jobs.get(body.get("LabelingJobName", ""))
        if job is None:
            return 400, {"__type": "ResourceNotFound", "message": "Could not find requested job"}
        if operation == "DescribeLabelingJob":
            return 200, job
        if operation == "StopLabelingJob":
            job["LabelingJobStatus"] = "Stopping"
            return 200, {}
        return 400, {"__type": "UnknownOperationException", "message": operation}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class LocalAws:
    """moto's server and the fake SageMaker, with clients and the environment for a subprocess."""

    def __init__(self) -> None:
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.sagemaker = FakeSageMaker()

    def client(self, service: str) -> Any:
        factory: Any = boto3.client
        return factory(service, region_name=REGION, endpoint_url=self.endpoint,
                       aws_access_key_id="testing", aws_secret_access_key="testing")

    def env(self, **overrides: str) -> Dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        env.update(AWS_ENDPOINT_URL=self.endpoint, AWS_ENDPOINT_URL_SAGEMAKER=self.sagemaker.url,
                   AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION=REGION,
                   AWS_CONFIG_FILE="/nonexistent", AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
                   AWS_EC2_METADATA_DISABLED="true", PYTHONPATH=str(ROOT / "constructs"),
                   COLUMNS="200")
        env.update(overrides)
        return env

    def run(self, *args: str, stdin: Optional[str] = None, cwd: Optional[Path] = None,
            **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "streaming_labeling", *args], input=stdin, text=True,
                              capture_output=True, env=self.env(**env), cwd=cwd, timeout=300)

    def topic_with_queue(self, name: str) -> tuple[str, str]:
        """A topic and a queue subscribed to it with raw delivery: what arrives is the message itself."""
        sns, sqs = self.client("sns"), self.client("sqs")
        topic = sns.create_topic(Name=name)["TopicArn"]
        queue = sqs.create_queue(QueueName=f"{name}-probe")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                      Attributes={"RawMessageDelivery": "true"})
        return topic, queue

    def drain(self, queue: str) -> List[bytes]:
        sqs, bodies = self.client("sqs"), []
        while True:
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(message["Body"].encode("utf-8"))
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])

    def close(self) -> None:
        self.sagemaker.close()
        self.moto.stop()


@pytest.fixture(scope="module")
def local_aws() -> Iterator[LocalAws]:
    aws = LocalAws()
    yield aws
    aws.close()

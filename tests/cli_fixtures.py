"""A real local AWS endpoint for the command line: moto's server (SNS, SQS, S3) and a scripted SageMaker.

moto does not emulate labeling jobs, so SageMaker is a small HTTP server on loopback that
answers the JSON protocol botocore speaks (``X-Amz-Target: SageMaker.<Operation>``) from a
dict of jobs. The command line runs as a subprocess pointed at both with the SDK's own
``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_SAGEMAKER``.

Where moto cannot be made to misbehave (throttling, a slow or hanging answer) or to count calls,
``ScriptedSns`` answers SNS's query protocol (GetTopicAttributes, PublishBatch) on loopback and
records every message it accepted; ``AWS_ENDPOINT_URL_SNS`` points the command line at it.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional
from urllib.parse import parse_qs

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
        self.tags_denied: set[str] = set()
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
                failure: Optional[str] = None, resource: Optional[str] = None, created: int = 1795000000) -> None:
        arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:labeling-job/{name}"
        job: Dict[str, Any] = {
            "LabelingJobName": name, "LabelingJobArn": arn, "LabelingJobStatus": status,
            "LabelCounters": {"TotalLabeled": 7, "HumanLabeled": 7, "MachineLabeled": 0,
                              "FailedNonRetryableError": 1, "Unlabeled": 3},
            "CreationTime": created, "LastModifiedTime": created, "JobReferenceCode": "ref",
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
        if resource:  # the handler tags each generation of a resource with it
            self.tags[arn].append({"Key": "streaming-labeling:resource", "Value": resource})

    def answer(self, operation: str, body: Dict[str, Any]) -> tuple[int, Dict[str, Any]]:
        if operation == "ListTags":
            if body["ResourceArn"] in self.tags_denied:
                return 400, {"__type": "AccessDeniedException", "message": "not authorized to perform: ListTags"}
            return 200, {"Tags": self.tags.get(body["ResourceArn"], [])}
        if operation == "ListLabelingJobs":
            summaries = [
                {key: job[key] for key in ("LabelingJobName", "LabelingJobArn", "CreationTime", "LastModifiedTime",
                                           "LabelingJobStatus", "LabelCounters")}
                | {"WorkteamArn": job["HumanTaskConfig"]["WorkteamArn"]}
                for name, job in sorted(self.jobs.items()) if body.get("NameContains", "") in name
            ]
            return 200, {"LabelingJobSummaryList": summaries}
        if operation == "AddTags":
            kept = [tag for tag in self.tags.get(body["ResourceArn"], []) if tag["Key"] not in
                    {new["Key"] for new in body["Tags"]}]
            self.tags[body["ResourceArn"]] = kept + body["Tags"]
            return 200, {"Tags": body["Tags"]}
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


class ScriptedSns:
    """SNS's query protocol on loopback: GetTopicAttributes and PublishBatch, scripted and recorded.

    ``latency`` delays every PublishBatch answer; ``throttle`` answers every PublishBatch with
    Throttling, ``deny`` every call with AuthorizationError. ``calls`` lists each call that reached
    it, ``messages`` what it accepted. ``reset()`` starts afresh: a call still sleeping from
    before records nothing.
    """

    XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"

    def __init__(self) -> None:
        self.latency = 0.0
        self.throttle = False
        self.deny = False
        self.generation = 0
        self.calls: List[str] = []
        self.messages: List[str] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
                status, body = outer.answer(form)
                payload = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def reset(self) -> None:
        with self.lock:
            self.latency, self.throttle, self.deny = 0.0, False, False
            self.generation += 1
            self.calls.clear()
            self.messages.clear()

    def answer(self, form: Dict[str, List[str]]) -> tuple[int, str]:
        action = form["Action"][0]
        with self.lock:
            self.calls.append(action)
            generation = self.generation
        if self.deny:
            return 403, (f'<ErrorResponse xmlns="{self.XMLNS}"><Error><Type>Sender</Type>'
                         "<Code>AuthorizationError</Code><Message>not authorized</Message></Error>"
                         "<RequestId>r</RequestId></ErrorResponse>")
        if action == "GetTopicAttributes":
            result = ("<Attributes><entry><key>TopicArn</key><value>" + form["TopicArn"][0] +
                      "</value></entry></Attributes>")
        elif action == "PublishBatch":
            if self.latency:
                time.sleep(self.latency)
            if self.throttle:
                return 400, (f'<ErrorResponse xmlns="{self.XMLNS}"><Error><Type>Sender</Type><Code>Throttling</Code>'
                             "<Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>")
            entries = {}
            for key, value in form.items():
                if key.startswith("PublishBatchRequestEntries.member."):
                    _, _, number, field = key.split(".", 3)
                    entries.setdefault(number, {})[field] = value[0]
            with self.lock:
                if generation != self.generation:
                    return 500, "stale"
                self.messages.extend(entry["Message"] for entry in entries.values())
            members = "".join(f"<member><Id>{entry['Id']}</Id><MessageId>m</MessageId></member>"
                              for entry in entries.values())
            result = f"<Successful>{members}</Successful><Failed/>"
        else:
            return 400, (f'<ErrorResponse xmlns="{self.XMLNS}"><Error><Type>Sender</Type><Code>InvalidAction</Code>'
                         f"<Message>{action}</Message></Error><RequestId>r</RequestId></ErrorResponse>")
        return 200, (f'<{action}Response xmlns="{self.XMLNS}"><{action}Result>{result}</{action}Result>'
                     f"<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{action}Response>")

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
        self.sns = ScriptedSns()

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

    def start(self, *args: str, **env: str) -> subprocess.Popen[str]:
        """The command line running, its standard input a pipe (to feed it, or to Ctrl-C it mid-way)."""
        return subprocess.Popen([sys.executable, "-m", "streaming_labeling", *args], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env(**env))

    def scripted_sns(self) -> Dict[str, str]:
        """The environment that sends SNS calls to ``self.sns`` instead of moto."""
        self.sns.reset()
        return {"AWS_ENDPOINT_URL_SNS": self.sns.url}

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
        self.sns.close()
        self.moto.stop()


@pytest.fixture(scope="module")
def local_aws() -> Iterator[LocalAws]:
    aws = LocalAws()
    yield aws
    aws.close()

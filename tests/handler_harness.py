"""Drive the Lambda handler as Lambda and CloudFormation would, with botocore's Stubber for AWS.

The handler is loaded from its asset folder, as Lambda loads it. Its SageMaker
and S3 clients are real botocore clients whose HTTP layer is replaced by
Stubber, which checks every call's parameters against the service model; the
CloudFormation response goes over real HTTP to a local server; time is a fake
clock that ``sleep`` advances, so waits of minutes take no time.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import ModuleType
from typing import Any, Dict, List, Optional

import boto3
from botocore.stub import Stubber

from .conftest import ROOT

HANDLER_FILE = ROOT / "constructs" / "streaming_labeling" / "handler" / "index.py"
STACK_ID = "arn:aws:cloudformation:us-east-1:111122223333:stack/demo/5b4f0c90-aaaa-bbbb-cccc-0123456789ab"
ROLE_ARN = "arn:aws:iam::111122223333:role/gt-role"
TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:input"


def load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("labeling_job_handler", HANDLER_FILE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: List[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeContext:
    """A Lambda context whose remaining time follows the fake clock."""

    log_stream_name = "2026/11/23/[$LATEST]0123456789abcdef"

    def __init__(self, clock: FakeClock, timeout_seconds: float = 900.0) -> None:
        self._clock = clock
        self._end = clock.now + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._end - self._clock.now) * 1000)


class ResponseServer:
    """A local stand-in for CloudFormation's pre-signed response URL."""

    def __init__(self) -> None:
        self.bodies: List[Dict[str, Any]] = []
        self.fail_next = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers["Content-Length"])
                body = self.rfile.read(length)
                if outer.fail_next > 0:
                    outer.fail_next -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                outer.bodies.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/response"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def base_properties(**overrides: Any) -> Dict[str, Any]:
    """ResourceProperties as CloudFormation delivers them: every scalar a string."""
    properties: Dict[str, Any] = {
        "ServiceToken": "arn:aws:lambda:us-east-1:111122223333:function:handler",
        "ServiceTimeout": "1200",
        "JobNamePrefix": "animals",
        "ConfigS3Prefix": "s3://output-bucket/labeling-job-config/",
        "ConfigKmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "WaitForStoppedOnDelete": "false",
        "LabelCategoryConfig": json.dumps({"document-version": "2018-11-28", "labels": [{"label": "cat"}]}),
        "UiTemplate": "<crowd-form></crowd-form>",
        "Request": {
            "LabelAttributeName": "animals",
            "InputConfig": {"DataSource": {"SnsDataSource": {"SnsTopicArn": TOPIC_ARN}}},
            "OutputConfig": {
                "S3OutputPath": "s3://output-bucket/labels/",
                "SnsTopicArn": "arn:aws:sns:us-east-1:111122223333:output",
                "KmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            },
            "RoleArn": ROLE_ARN,
            "HumanTaskConfig": {
                "WorkteamArn": "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/team",
                "PreHumanTaskLambdaArn": "arn:aws:lambda:us-east-1:432418664414:function:PRE-ImageMultiClass",
                "TaskTitle": "Which animal?",
                "TaskDescription": "Pick one",
                "NumberOfHumanWorkersPerDataObject": "1",
                "TaskTimeLimitInSeconds": "300",
                "AnnotationConsolidationConfig": {
                    "AnnotationConsolidationLambdaArn": "arn:aws:lambda:us-east-1:432418664414:function:ACS-ImageMultiClass"
                },
            },
        },
    }
    properties.update(overrides)
    return properties


def event(
    request_type: str,
    response_url: str,
    properties: Optional[Dict[str, Any]] = None,
    physical_id: Optional[str] = None,
    old_properties: Optional[Dict[str, Any]] = None,
    stack_id: str = STACK_ID,
) -> Dict[str, Any]:
    body: Dict[str, Any] = {
        "RequestType": request_type,
        "ResponseURL": response_url,
        "StackId": stack_id,
        "RequestId": "req-0001",
        "ResourceType": "Custom::SageMakerStreamingLabelingJob",
        "LogicalResourceId": "Animals6F4865E6",
        "ResourceProperties": properties if properties is not None else base_properties(),
    }
    if physical_id is not None:
        body["PhysicalResourceId"] = physical_id
    if old_properties is not None:
        body["OldResourceProperties"] = old_properties
    return body


def create_response(name: str) -> Dict[str, Any]:
    return {"LabelingJobArn": f"arn:aws:sagemaker:us-east-1:111122223333:labeling-job/{name}"}


def describe_response(name: str, status: str, *, role_arn: str = ROLE_ARN, topic_arn: str = TOPIC_ARN,
                      attribute: str = "animals", failure: Optional[str] = None) -> Dict[str, Any]:
    when = datetime.datetime(2026, 11, 23, tzinfo=datetime.UTC)
    response: Dict[str, Any] = {
        "LabelingJobStatus": status,
        "LabelCounters": {"TotalLabeled": 0, "HumanLabeled": 0, "MachineLabeled": 0,
                          "FailedNonRetryableError": 0, "Unlabeled": 0},
        "CreationTime": when,
        "LastModifiedTime": when,
        "JobReferenceCode": "abc123",
        "LabelingJobName": name,
        "LabelingJobArn": f"arn:aws:sagemaker:us-east-1:111122223333:labeling-job/{name}",
        "LabelAttributeName": attribute,
        "InputConfig": {"DataSource": {"SnsDataSource": {"SnsTopicArn": topic_arn}}},
        "OutputConfig": {"S3OutputPath": "s3://output-bucket/labels/"},
        "RoleArn": role_arn,
        "HumanTaskConfig": {
            "WorkteamArn": "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/team",
            "UiConfig": {"UiTemplateS3Uri": "s3://output-bucket/t.html"},
            "TaskTitle": "t",
            "TaskDescription": "d",
            "NumberOfHumanWorkersPerDataObject": 1,
            "TaskTimeLimitInSeconds": 300,
        },
    }
    if failure:
        response["FailureReason"] = failure
    return response


class Harness:
    """A loaded handler with stubbed clients, a fake clock and a response server."""

    def __init__(self, server: ResponseServer) -> None:
        self.module = load_handler()
        self.clock = FakeClock()
        self.module.clock = self.clock
        self.module.sleep = self.clock.sleep
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        self.sagemaker = session.client("sagemaker")
        self.s3 = session.client("s3")
        self.sagemaker_stub = Stubber(self.sagemaker)
        self.s3_stub = Stubber(self.s3)
        self.module._clients.update({"sagemaker": self.sagemaker, "s3": self.s3})
        self.server = server
        self.server.bodies.clear()
        self.server.fail_next = 0
        self.calls: List[tuple[str, float, Dict[str, Any]]] = []
        self.sagemaker.meta.events.register("provide-client-params.sagemaker.*", self._record)

    def _record(self, params: Dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, self.clock.now, dict(params)))

    def requests(self, operation: str) -> List[Dict[str, Any]]:
        return [params for name, _, params in self.calls if name == operation]

    def times(self, operation: str) -> List[float]:
        return [when for name, when, _ in self.calls if name == operation]

    def run(self, evt: Dict[str, Any], timeout_seconds: float = 900.0) -> Dict[str, Any]:
        self.sagemaker_stub.activate()
        self.s3_stub.activate()
        try:
            self.module.handler(evt, FakeContext(self.clock, timeout_seconds))
        finally:
            self.sagemaker_stub.deactivate()
            self.s3_stub.deactivate()
        assert len(self.server.bodies) == 1, self.server.bodies
        return self.server.bodies[0]

    def expect_config_uploads(self, count: int = 2) -> None:
        for _ in range(count):
            self.s3_stub.add_response("put_object", {})

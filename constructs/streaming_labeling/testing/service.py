"""The labeling-job part of SageMaker's API on loopback, in botocore's JSON 1.1 protocol.

``X-Amz-Target: SageMaker.<Operation>``; errors are ``{"__type": code, "message": ...}`` with
HTTP 400, as botocore parses them. Every request is validated against botocore's model
(``model.py``) first, as the service validates its input. SigV4 is not checked. The jobs and
their work are the engine's (``engine.py``).

Error choices where AWS documents none (RT §2.2, §2.5): an unknown job is ``ResourceNotFound``
(the modelled error); ``StopLabelingJob`` on a job that is not ``InProgress`` is a
``ValidationException`` naming its status; the tag calls on an unknown ARN are
``ResourceNotFound``; ``ListLabelingJobs`` without ``MaxResults`` returns 10.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple

from .aws import AwsEndpoints
from .clock import Clock
from .engine import Engine, Job, TaskRecord
from .model import request_violations
from .workforce import SimulatedWorkforce, WorkforceLike, workforce_of

OPERATIONS = ("CreateLabelingJob", "DescribeLabelingJob", "StopLabelingJob", "ListLabelingJobs", "AddTags",
              "ListTags", "DeleteTags")
MAX_TAGS = 50
#: Describe members copied from the request as it was made.
REQUEST_MEMBERS = ("LabelingJobName", "LabelAttributeName", "InputConfig", "OutputConfig", "RoleArn",
                   "LabelCategoryConfigS3Uri", "StoppingConditions", "LabelingJobAlgorithmsConfig",
                   "HumanTaskConfig")


class ServiceError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class GroundTruthService:
    """The local Ground Truth: ``start()``, ``endpoint_url``, ``stop()``; a context manager."""

    def __init__(self, aws: AwsEndpoints, clock: Optional[Clock] = None, workforce: WorkforceLike = None) -> None:
        self.aws = aws
        self.clock = clock or Clock()
        self.engine = Engine(aws, self.clock, workforce)
        self._httpd: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> GroundTruthService:
        if self._httpd is not None:
            return self
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                target = self.headers.get("X-Amz-Target", "")
                status, answer = service.handle(target, self.rfile.read(length))
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("x-amzn-RequestId", "local-ground-truth")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="local-ground-truth-http",
                                        daemon=True)
        self._thread.start()
        self.engine.start()
        return self

    def stop(self) -> None:
        self.engine.stop()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> GroundTruthService:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the local Ground Truth is not started")
        return f"http://127.0.0.1:{self._httpd.server_port}"

    def client(self) -> Any:
        """A boto3 SageMaker client of this service."""
        factory: Any = __import__("boto3").client
        return factory("sagemaker", region_name=self.aws.region, endpoint_url=self.endpoint_url,
                       aws_access_key_id="testing", aws_secret_access_key="testing")

    # --- for tests and the facade -----------------------------------------------------------

    @property
    def workforce(self) -> SimulatedWorkforce:
        return self.engine.workforce

    @workforce.setter
    def workforce(self, value: WorkforceLike) -> None:
        """None (the default workers), a ``SimulatedWorkforce``, ``answer(task)``, or an answers file."""
        self.engine.workforce = workforce_of(value)

    def tasks(self, job_name: str) -> List[TaskRecord]:
        """Each data object the job took, with its task input, rendered page, answers and output line."""
        return self.engine.tasks(job_name)

    def settle(self) -> None:
        """Run the engine until nothing changes (what ``clock.advance`` does)."""
        self.engine.settle()

    # --- protocol --------------------------------------------------------------------------

    def handle(self, target: str, body: bytes) -> Tuple[int, Dict[str, Any]]:
        prefix, _, operation = target.partition(".")
        try:
            if prefix != "SageMaker" or operation not in OPERATIONS:
                raise ServiceError("UnknownOperationException",
                                   f"{operation or target!r} is not emulated by the local Ground Truth; it emulates "
                                   + ", ".join(OPERATIONS))
            try:
                request = json.loads(body or b"{}")
            except ValueError as error:
                raise ServiceError("SerializationException", f"the body is not JSON: {error}") from error
            problems = request_violations(operation, request)
            if problems:
                count = len(problems)
                raise ServiceError("ValidationException", f"{count} validation error{'s' if count > 1 else ''} "
                                   f"detected: " + "; ".join(problems))
            handler: Callable[[Dict[str, Any]], Dict[str, Any]] = getattr(self, "_" + operation)
            with self.engine.lock:
                return 200, handler(request)
        except ServiceError as error:
            return error.status, {"__type": error.code, "message": error.message}

    # --- operations ------------------------------------------------------------------------

    def _job(self, name: str) -> Job:
        job = self.engine.find(name)
        if job is None:
            raise ServiceError("ResourceNotFound", f"Could not find labeling job {name!r}.")
        return job

    def _CreateLabelingJob(self, request: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N802
        name = str(request["LabelingJobName"])
        if self.engine.find(name) is not None:  # names are case-insensitive and never reused (GT §4, §6)
            raise ServiceError("ResourceInUse", f"Labeling job {name} already exists.")
        attribute = str(request["LabelAttributeName"])
        if attribute.endswith("-metadata"):
            raise ServiceError("ValidationException", "LabelAttributeName must not end with -metadata.")
        if len(request.get("Tags", [])) > MAX_TAGS:
            raise ServiceError("ValidationException", f"A resource can have at most {MAX_TAGS} tags.")
        data_source = request["InputConfig"]["DataSource"]
        if "SnsDataSource" not in data_source:
            raise ServiceError("ValidationException", "The local Ground Truth emulates streaming jobs only: "
                               "InputConfig.DataSource.SnsDataSource is required.")
        if "LabelingJobAlgorithmsConfig" in request:  # streaming has no automated labeling (GT §4)
            raise ServiceError("ValidationException",
                               "Automated data labeling is not supported for streaming labeling jobs.")
        ui = request["HumanTaskConfig"]["UiConfig"]
        if ("UiTemplateS3Uri" in ui) == ("HumanTaskUiArn" in ui):
            raise ServiceError("ValidationException",
                               "UiConfig needs exactly one of UiTemplateS3Uri or HumanTaskUiArn.")
        job = self.engine.create(request)
        return {"LabelingJobArn": job.arn}

    def _describe(self, job: Job) -> Dict[str, Any]:
        answer: Dict[str, Any] = {key: job.request[key] for key in REQUEST_MEMBERS if key in job.request}
        answer["OutputConfig"] = dict(answer["OutputConfig"])
        answer["OutputConfig"].setdefault("KmsKeyId", "")  # as observed (RT §2.5)
        answer.update({
            "LabelingJobStatus": job.status,
            "LabelCounters": dict(job.counters),
            "CreationTime": job.creation_time,
            "LastModifiedTime": job.last_modified,
            "JobReferenceCode": job.reference_code,
            "LabelingJobArn": job.arn,
        })
        if job.tags:
            answer["Tags"] = list(job.tags)
        if job.status == "Failed" and job.failure_reason:
            answer["FailureReason"] = job.failure_reason
        if job.output_dataset_uri:
            answer["LabelingJobOutput"] = {"OutputDatasetS3Uri": job.output_dataset_uri}
        return answer

    def _DescribeLabelingJob(self, request: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N802
        return self._describe(self._job(str(request["LabelingJobName"])))

    def _StopLabelingJob(self, request: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N802
        job = self._job(str(request["LabelingJobName"]))
        if job.status != "InProgress":
            raise ServiceError("ValidationException", f"The labeling job {job.name} is {job.status}; only a job that "
                               "is InProgress can be stopped.")
        self.engine.request_stop(job)
        return {}

    def _ListLabelingJobs(self, request: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N802
        jobs = list(self.engine.jobs.values())

        def keep(job: Job) -> bool:
            checks: List[Tuple[str, Callable[[float], bool]]] = [
                ("CreationTimeAfter", lambda t: job.creation_time > t),
                ("CreationTimeBefore", lambda t: job.creation_time < t),
                ("LastModifiedTimeAfter", lambda t: job.last_modified > t),
                ("LastModifiedTimeBefore", lambda t: job.last_modified < t),
            ]
            if any(key in request and not test(float(request[key])) for key, test in checks):
                return False
            if "NameContains" in request and str(request["NameContains"]).lower() not in job.name.lower():
                return False
            return "StatusEquals" not in request or job.status == request["StatusEquals"]

        jobs = [job for job in jobs if keep(job)]
        sort_by = request.get("SortBy", "CreationTime")
        sort_key: Callable[[Job], Any] = {
            "Name": lambda job: job.name, "Status": lambda job: job.status,
        }.get(sort_by, lambda job: job.creation_time)
        jobs.sort(key=sort_key, reverse=request.get("SortOrder", "Ascending") == "Descending")
        start = _offset(request.get("NextToken"))
        size = int(request.get("MaxResults", 10))
        page = jobs[start:start + size]
        answer: Dict[str, Any] = {"LabelingJobSummaryList": [self._summary(job) for job in page]}
        if start + size < len(jobs):
            answer["NextToken"] = base64.urlsafe_b64encode(json.dumps({"offset": start + size}).encode()).decode()
        return answer

    def _summary(self, job: Job) -> Dict[str, Any]:
        human = job.request["HumanTaskConfig"]
        summary: Dict[str, Any] = {
            "LabelingJobName": job.name, "LabelingJobArn": job.arn, "CreationTime": job.creation_time,
            "LastModifiedTime": job.last_modified, "LabelingJobStatus": job.status,
            "LabelCounters": dict(job.counters), "WorkteamArn": human["WorkteamArn"],
            "InputConfig": job.request["InputConfig"],
        }
        if "PreHumanTaskLambdaArn" in human:
            summary["PreHumanTaskLambdaArn"] = human["PreHumanTaskLambdaArn"]
        acs = human.get("AnnotationConsolidationConfig", {}).get("AnnotationConsolidationLambdaArn")
        if acs:
            summary["AnnotationConsolidationLambdaArn"] = acs
        if job.status == "Failed" and job.failure_reason:
            summary["FailureReason"] = job.failure_reason
        if job.output_dataset_uri:
            summary["LabelingJobOutput"] = {"OutputDatasetS3Uri": job.output_dataset_uri}
        return summary

    def _tagged(self, arn: str) -> Job:
        job = next((job for job in self.engine.jobs.values() if job.arn == arn), None)
        if job is None:
            raise ServiceError("ResourceNotFound", f"Could not find resource {arn}; the local Ground Truth "
                               "tags labeling jobs only.")
        return job

    def _AddTags(self, request: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N802
        job = self._tagged(str(request["ResourceArn"]))
        merged = {tag["Key"]: tag.get("Value", "") for tag in job.tags}
        merged.update({tag["Key"]: tag.get("Value", "") for tag in request["Tags"]})
        if len(merged) > MAX_TAGS:
            raise ServiceError("ValidationException", f"A resource can have at most {MAX_TAGS} tags.")
        job.tags = [{"Key": key, "Value": value} for key, value in merged.items()]
        return {"Tags": list(request["Tags"])}

    def _ListTags(self, request: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N802
        job = self._tagged(str(request["ResourceArn"]))
        start, size = _offset(request.get("NextToken")), int(request.get("MaxResults", 50))
        answer: Dict[str, Any] = {"Tags": job.tags[start:start + size]}
        if start + size < len(job.tags):
            answer["NextToken"] = base64.urlsafe_b64encode(json.dumps({"offset": start + size}).encode()).decode()
        return answer

    def _DeleteTags(self, request: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N802
        job = self._tagged(str(request["ResourceArn"]))
        keys = set(request["TagKeys"])
        job.tags = [tag for tag in job.tags if tag["Key"] not in keys]
        return {}


def _offset(token: Any) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(str(token).encode()))["offset"])
    except (ValueError, KeyError, TypeError) as error:
        raise ServiceError("ValidationException", "NextToken is not valid.") from error

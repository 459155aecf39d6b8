"""The labeling jobs: their state machine and the background thread that does their work.

Each behaviour names its source in ground-truth-runtime-facts.md (RT §n) or
ground-truth-facts.md (GT §n). One thread ticks every ``TICK_SECONDS``; ``Clock.advance``
runs ticks in the caller's thread until nothing changes, so a test that moves the clock sees
the jobs act on the new time when ``advance`` returns.
"""

from __future__ import annotations

import copy
import datetime
import json
import logging
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import unquote_plus

from botocore.exceptions import BotoCoreError, ClientError
from liquid import BoundTemplate

from . import liquid_filters
from .aws import AwsEndpoints
from .clock import Clock
from .consolidation import ConsolidationError, Context, consolidate
from .task_kinds import Emulated, Kind, NotEmulated, emulated_type
from .workforce import SimulatedWorkforce, Task, WorkforceLike, crowd_element, worker_id, workforce_of

LOG = logging.getLogger(__name__)

TICK_SECONDS = 0.05
#: Idle this long (nothing arrived, nothing queued, everything labeled) and a job stops (RT §1.2).
IDLE_STOP_SECONDS = 10 * 86400
#: The queue keeps a message this long (RT §1.1: 14 days, the SQS maximum).
QUEUE_RETENTION_SECONDS = 1209600
#: Ticks a job spends in Initializing and in Stopping: not instant, as on the service (RT §2.1).
INITIALIZING_TICKS = 2
STOPPING_TICKS = 3
#: MaxConcurrentTaskCount when the request has none (GT §4: default 1000).
DEFAULT_MAX_CONCURRENT_TASKS = 1000
#: Messages taken from a queue per job per tick, so that one busy job does not hold the others.
MESSAGES_PER_TICK = 200
EVENT_DETAIL_TYPE = "SageMaker Ground Truth Labeling Job State Change"
ACTIVE = ("Initializing", "InProgress", "Stopping")


def iso_date(epoch: float) -> str:
    """``creation-date``: microseconds, no zone (RT §4.2)."""
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def worker_time(epoch: float) -> str:
    """Worker-response times: milliseconds and ``Z`` (RT §4.5)."""
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def file_time(epoch: float) -> str:
    """``YYYY-MM-DD_HH:MM:SS``, the worker-response and consolidation-response file names (RT §3, §4.6)."""
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%d_%H:%M:%S")


def split_s3(uri: str) -> Tuple[str, str]:
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


#: Manifests of up to this many lines are rewritten on every tick that labels something; larger ones
#: every MANIFEST_PERIOD_SECONDS, since each rewrite is the whole file (O(n) per write).
MANIFEST_EVERY_TICK_UP_TO = 200
MANIFEST_PERIOD_SECONDS = 2.0


@dataclass
class TaskRecord:
    """One data object's trip through a job, kept for tests: what workers saw and what came out."""

    dataset_object_id: int
    data_object: Dict[str, Any]
    task_input: Dict[str, Any]
    rendered: str
    dedup_id: str
    started: float
    answers: List[Dict[str, Any]] = field(default_factory=list)
    output_line: Optional[Dict[str, Any]] = None
    failure: Optional[str] = None
    accepted: List[float] = field(default_factory=list)


@dataclass
class Job:
    """A labeling job as the service keeps it."""

    request: Dict[str, Any]
    arn: str
    creation_time: float
    reference_code: str
    tags: List[Dict[str, str]]
    status: str = "Initializing"
    last_modified: float = 0.0
    failure_reason: Optional[str] = None
    counters: Dict[str, int] = field(default_factory=lambda: {
        "TotalLabeled": 0, "HumanLabeled": 0, "MachineLabeled": 0, "FailedNonRetryableError": 0, "Unlabeled": 0})
    countdown: int = INITIALIZING_TICKS
    emulated: Optional[Emulated] = None
    labels: List[str] = field(default_factory=list)
    label_config: Dict[str, Any] = field(default_factory=dict)
    template: Optional[BoundTemplate] = None
    queue_url: Optional[str] = None
    subscription_arn: Optional[str] = None
    seen: set[str] = field(default_factory=set)
    pending: List[TaskRecord] = field(default_factory=list)
    records: List[TaskRecord] = field(default_factory=list)
    output_lines: List[str] = field(default_factory=list)
    manifest_dirty: bool = False
    manifest_written: float = 0.0
    consolidation_responses: Dict[str, List[Dict[str, Any]]] = field(default_factory=dict)
    last_activity: float = 0.0
    output_dataset_uri: Optional[str] = None
    stop_reason: str = ""

    @property
    def name(self) -> str:
        return str(self.request["LabelingJobName"])

    @property
    def attribute(self) -> str:
        return str(self.request["LabelAttributeName"])

    @property
    def human_task(self) -> Dict[str, Any]:
        config: Dict[str, Any] = self.request["HumanTaskConfig"]
        return config

    @property
    def output_prefix(self) -> str:
        """``<S3OutputPath>/<job name>/``: the path is a folder prefix (RT §3)."""
        path = str(self.request["OutputConfig"]["S3OutputPath"])
        return (path if path.endswith("/") else path + "/") + self.name + "/"


class Engine:
    """Jobs by lower-cased name (names are case-insensitive, GT §4) and the thread that runs them."""

    def __init__(self, aws: AwsEndpoints, clock: Clock, workforce: WorkforceLike = None) -> None:
        self.aws = aws
        self.clock = clock
        self.workforce: SimulatedWorkforce = workforce_of(workforce)
        self.jobs: Dict[str, Job] = {}
        self.lock = threading.RLock()
        self._tick_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._clients: Dict[str, Any] = {}
        self._swept_offset = clock.offset
        self.errors: List[str] = []
        """Unexpected errors of the engine thread (a test can assert there are none)."""

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self.clock.add_listener(self._on_advance)
        self._thread = threading.Thread(target=self._run, name="local-ground-truth-engine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.clock.remove_listener(self._on_advance)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            with self._tick_lock:
                self._tick_all()

    def _on_advance(self, _now: float) -> None:
        self.settle()

    def settle(self, max_ticks: int = 50) -> None:
        """Tick until no job changes: every timer due at ``clock.now()`` has fired."""
        with self._tick_lock:
            for _ in range(max_ticks):
                if not self._tick_all():
                    break
            for job in list(self.jobs.values()):  # what a settled job wrote is all there
                self._write_manifest(job, now=True)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.aws.client(service)
        return self._clients[service]

    # --- API-facing ----------------------------------------------------------------------

    def create(self, request: Dict[str, Any]) -> Job:
        """Records the job as ``Initializing``; the checks the service makes happen in the first ticks."""
        now = self.clock.now()
        name = str(request["LabelingJobName"])
        arn = f"arn:aws:sagemaker:{self.aws.region}:{self.aws.account}:labeling-job/{name.lower()}"
        job = Job(
            request=copy.deepcopy(request), arn=arn, creation_time=now, last_modified=now,
            reference_code=self.aws.account + uuid.uuid4().hex[:16], tags=list(request.get("Tags", [])),
            last_activity=now,
        )
        self.jobs[name.lower()] = job
        self._emit(job)
        return job

    def find(self, name: str) -> Optional[Job]:
        return self.jobs.get(name.lower())

    def request_stop(self, job: Job) -> None:
        job.stop_reason = "StopLabelingJob"
        self._to_stopping(job)

    # --- ticks ---------------------------------------------------------------------------

    def _tick_all(self) -> bool:
        changed = False
        for job in list(self.jobs.values()):
            try:
                changed = self._tick(job) or changed
            except Exception as error:  # noqa: BLE001 - one job's trouble must not stop the others
                LOG.exception("local Ground Truth: job %s", job.name)
                self.errors.append(f"{job.name}: {type(error).__name__}: {error}")
        self._swept_offset = self.clock.offset
        return changed

    def _tick(self, job: Job) -> bool:
        if job.status == "Initializing":
            job.countdown -= 1
            if job.countdown > 0:
                return True
            self._initialize(job)
            return True
        if job.status == "Stopping":
            job.countdown -= 1
            if job.countdown <= 0:
                self._write_manifest(job, now=True)
                self._set_status(job, "Stopped")
            return True
        if job.status != "InProgress":
            return False
        changed = self._finish_tasks(job)
        changed = self._take_messages(job) or changed
        changed = self._finish_tasks(job) or changed
        self._write_manifest(job)
        if self._idle_for_long(job):
            job.stop_reason = "idle"
            self._to_stopping(job)
            changed = True
        return changed

    # --- status -----------------------------------------------------------------------------

    def _set_status(self, job: Job, status: str, reason: Optional[str] = None) -> None:
        with self.lock:
            job.status = status
            job.last_modified = self.clock.now()
            if reason is not None:
                job.failure_reason = reason[:1024]
        self._emit(job)

    def _emit(self, job: Job) -> None:
        """Every status change as an EventBridge event on the default bus (RT §5; AWS documents only
        Completed, Failed and Stopped as values to filter on, the emulation sends them all)."""
        entry = {
            "Source": "aws.sagemaker",
            "DetailType": EVENT_DETAIL_TYPE,
            "Resources": [job.arn],
            "Detail": json.dumps({"LabelingJobStatus": job.status}),
            "Time": datetime.datetime.fromtimestamp(self.clock.now(), datetime.UTC),
        }
        try:
            self.client("events").put_events(Entries=[entry])
        except (ClientError, BotoCoreError) as error:  # best effort, as on AWS (RT §5)
            LOG.warning("local Ground Truth: event for %s not sent: %s", job.name, error)

    def _fail(self, job: Job, reason: str) -> None:
        self._set_status(job, "Failed", reason)

    def _to_stopping(self, job: Job) -> None:
        """Stopping: unsubscribe the queue from the input topic, leave the queue (RT §1.1, §2.2)."""
        job.countdown = STOPPING_TICKS
        self._set_status(job, "Stopping")
        if job.subscription_arn:
            try:
                self.client("sns").unsubscribe(SubscriptionArn=job.subscription_arn)
            except (ClientError, BotoCoreError) as error:
                LOG.warning("local Ground Truth: unsubscribe of %s failed: %s", job.name, error)
            job.subscription_arn = None

    # --- Initializing -------------------------------------------------------------------------

    def _initialize(self, job: Job) -> None:
        """What the service checks before InProgress; each refusal ends the job Failed (RT §2.1)."""
        try:
            job.emulated = emulated_type(job.human_task, self.aws.region)
        except NotEmulated as error:
            self._fail(job, f"ClientError: {error}")
            return
        failure = self._check_role(job) or self._read_labels(job) or self._read_template(job)
        if failure:
            self._fail(job, failure)
            return
        failure = self._create_queue(job)
        if failure:
            self._fail(job, failure)
            return
        manifest = job.request["InputConfig"]["DataSource"].get("S3DataSource", {}).get("ManifestS3Uri")
        lines: List[str] = []
        if manifest:
            try:
                lines = self._read(manifest).decode("utf-8").splitlines()
            except (ClientError, BotoCoreError, UnicodeDecodeError) as error:
                self._fail(job, f"ClientError: Failed to read the input manifest {manifest}: {error}")
                return
        self._set_status(job, "InProgress")
        job.last_activity = self.clock.now()
        for index, line in enumerate(lines):  # objects to label at start (GT §3, DG sms-streaming-manifest)
            if line.strip():
                self._intake(job, line, f"{manifest}#{index}", sns_message_id=None)

    def _check_role(self, job: Job) -> Optional[str]:
        """The role must exist and trust sagemaker.amazonaws.com (GT §1.1)."""
        role_arn = str(job.request["RoleArn"])
        role_name = role_arn.rsplit("/", 1)[-1]
        try:
            role = self.client("iam").get_role(RoleName=role_name)["Role"]
        except ClientError:
            return f"ClientError: Could not assume role {role_arn}: the role does not exist."
        trust = role.get("AssumeRolePolicyDocument") or {}
        if isinstance(trust, str):
            trust = json.loads(unquote_plus(trust))
        for statement in trust.get("Statement", []):
            principal = statement.get("Principal", {})
            services = principal.get("Service", []) if isinstance(principal, dict) else []
            services = [services] if isinstance(services, str) else services
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if (statement.get("Effect") == "Allow" and "sagemaker.amazonaws.com" in services
                    and any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions)):
                return None
        return (f"ClientError: Could not assume role {role_arn}. Please ensure that the role exists and allows "
                "principal sagemaker.amazonaws.com to assume the role.")

    def _read_labels(self, job: Job) -> Optional[str]:
        uri = job.request.get("LabelCategoryConfigS3Uri")
        if not uri:
            return "ClientError: LabelCategoryConfigS3Uri is required for built-in task types."
        try:
            document = json.loads(self._read(str(uri)))
            job.labels = [str(entry["label"]) for entry in document["labels"]]
        except (ClientError, BotoCoreError) as error:
            return f"ClientError: Failed to download the label category file {uri}: {error}"
        except (ValueError, KeyError, TypeError) as error:
            return f"ClientError: The label category file {uri} is not valid: {type(error).__name__}: {error}"
        job.label_config = document
        return None

    def _read_template(self, job: Job) -> Optional[str]:
        """The worker template must exist and parse; built-in UIs (``HumanTaskUiArn``) have none."""
        uri = job.human_task.get("UiConfig", {}).get("UiTemplateS3Uri")
        if not uri:
            return None
        try:
            source = self._read(str(uri)).decode("utf-8")
        except (ClientError, BotoCoreError, UnicodeDecodeError) as error:
            return f"ClientError: Failed to download the worker task template {uri}: {error}"
        try:
            job.template = liquid_filters.parse(self._liquid(), source)
        except liquid_filters.TemplateError as error:
            return f"ClientError: The worker task template {uri} could not be parsed: {error}"
        return None

    def _create_queue(self, job: Job) -> Optional[str]:
        """``GroundTruth-<name in lowercase>``, 14-day retention, subscribed to the input topic (RT §1.1)."""
        topic = str(job.request["InputConfig"]["DataSource"]["SnsDataSource"]["SnsTopicArn"])
        sqs, sns = self.client("sqs"), self.client("sns")
        try:
            sns.get_topic_attributes(TopicArn=topic)
        except ClientError as error:
            return f"ClientError: Failed to subscribe to the input topic {topic}: {error}"
        queue_name = f"GroundTruth-{job.name.lower()}"
        queue_arn = f"arn:aws:sqs:{self.aws.region}:{self.aws.account}:{queue_name}"
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": queue_arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]}
        job.queue_url = sqs.create_queue(QueueName=queue_name, Attributes={
            "MessageRetentionPeriod": str(QUEUE_RETENTION_SECONDS), "Policy": json.dumps(policy)})["QueueUrl"]
        job.subscription_arn = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                                             ReturnSubscriptionArn=True)["SubscriptionArn"]
        return None

    # --- intake ----------------------------------------------------------------------------

    def _take_messages(self, job: Job) -> bool:
        """Messages from the queue while tasks are below MaxConcurrentTaskCount (RT §1.1); older than the
        retention by the emulated clock, a message is dropped as SQS would."""
        if job.queue_url is None:
            return False
        limit = int(job.human_task.get("MaxConcurrentTaskCount", DEFAULT_MAX_CONCURRENT_TASKS))
        sqs = self.client("sqs")
        taken = 0
        changed = False
        if len(job.pending) >= limit and self.clock.offset != self._swept_offset:
            changed = self._sweep_expired(job)
        while len(job.pending) < limit and taken < MESSAGES_PER_TICK:
            batch = min(10, limit - len(job.pending))
            messages = sqs.receive_message(QueueUrl=job.queue_url, MaxNumberOfMessages=batch,
                                           AttributeNames=["SentTimestamp"]).get("Messages", [])
            if not messages:
                break
            done: List[Dict[str, str]] = []
            for message in messages:
                taken += 1
                done.append({"Id": str(len(done)), "ReceiptHandle": message["ReceiptHandle"]})
                if self._expired(message):
                    continue
                self._from_queue(job, message)
            sqs.delete_message_batch(QueueUrl=job.queue_url, Entries=done)
            changed = True
        return changed

    def _expired(self, message: Dict[str, Any]) -> bool:
        sent = int(message.get("Attributes", {}).get("SentTimestamp", "0")) / 1000
        return bool(sent) and self.clock.now() - sent > QUEUE_RETENTION_SECONDS

    def _sweep_expired(self, job: Job) -> bool:
        """With every task slot taken, only expiry removes messages: look at all of them after the clock moved."""
        sqs, seen, kept, dropped = self.client("sqs"), 0, [], False
        while True:
            messages = sqs.receive_message(QueueUrl=job.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30,
                                           AttributeNames=["SentTimestamp"]).get("Messages", [])
            if not messages:
                break
            for message in messages:
                seen += 1
                if self._expired(message):
                    sqs.delete_message(QueueUrl=job.queue_url, ReceiptHandle=message["ReceiptHandle"])
                    dropped = True
                else:
                    kept.append(message["ReceiptHandle"])
        for handle in kept:
            sqs.change_message_visibility(QueueUrl=job.queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
        return dropped

    def _from_queue(self, job: Job, message: Dict[str, Any]) -> None:
        """The SNS envelope's ``Message`` (or the raw body, with raw delivery) and its MessageId."""
        body = str(message.get("Body", ""))
        message_id = str(message.get("MessageId"))
        try:
            envelope = json.loads(body)
        except ValueError:
            envelope = None
        if isinstance(envelope, dict) and envelope.get("Type") == "Notification" and "Message" in envelope:
            body, message_id = str(envelope["Message"]), str(envelope.get("MessageId", message_id))
        job.last_activity = self.clock.now()
        self._intake(job, body, message_id, sns_message_id=message_id)

    def _intake(self, job: Job, text: str, fallback_id: str, sns_message_id: Optional[str]) -> None:
        """One message: S3 event records, the S3 test event, or a manifest line (RT §1.3)."""
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            self._count_failure(job, "not a JSON object")  # documented: FailedNonRetryableError
            return
        if isinstance(document.get("Records"), list):
            for record in document["Records"]:
                s3 = record.get("s3") if isinstance(record, dict) else None
                if not isinstance(s3, dict) or not str(record.get("eventName", "")).startswith("ObjectCreated"):
                    continue  # not an object-created notification: nothing to label
                uri = f"s3://{s3['bucket']['name']}/{unquote_plus(str(s3['object']['key']))}"
                sequencer = s3["object"].get("sequencer")
                # S3 events: object URI + sequencer (RT §1.4). moto's events carry no sequencer; then the
                # SNS MessageId stands in, so that each upload is its own object.
                dedup = f"s3:{uri}#{sequencer if sequencer else fallback_id}"
                object_id = str(uuid.uuid5(uuid.NAMESPACE_URL, dedup))
                line: Dict[str, Any] = {"source-ref": uri,
                                        "dataset-objectid-attribute-name": f"${job.attribute}-object-id",
                                        f"${job.attribute}-object-id": object_id}
                if sequencer:
                    line["$sequencer"] = str(sequencer)
                self._admit(job, line, dedup)
            return
        if document.get("Event") == "s3:TestEvent":
            # AWS: a test event sent while a job listens "may be taken as a data object and labeled"
            # (RT §1.3); the emulation labels it, with the message itself as the object.
            event = dict(document)
            event.setdefault("source", text)  # the object workers see is the message itself
            self._admit(job, self._with_dedup(job, event, fallback_id), self._dedup_id(event, fallback_id))
            return
        if "source" not in document and "source-ref" not in document:
            self._count_failure(job, "neither source nor source-ref")  # documented: FailedNonRetryableError
            return
        self._admit(job, self._with_dedup(job, document, fallback_id), self._dedup_id(document, fallback_id))

    @staticmethod
    def _dedup_id(line: Dict[str, Any], fallback: str) -> str:
        """``dataset-objectid-attribute-name`` names the key (custom or existing) whose value is the ID;
        without it the SNS MessageId (RT §1.4)."""
        key = line.get("dataset-objectid-attribute-name")
        if isinstance(key, str) and key in line:
            return "key:" + json.dumps(line[key], sort_keys=True)
        return "id:" + fallback

    def _with_dedup(self, job: Job, line: Dict[str, Any], fallback: str) -> Dict[str, Any]:
        """Without a dedup key the output carries the service's: ``$<attr>-object-id`` (RT §1.4)."""
        key = line.get("dataset-objectid-attribute-name")
        if isinstance(key, str) and key in line:
            return line
        line = dict(line)
        line["dataset-objectid-attribute-name"] = f"${job.attribute}-object-id"
        line[f"${job.attribute}-object-id"] = fallback
        return line

    def _count_failure(self, job: Job, why: str) -> None:
        LOG.info("local Ground Truth: %s: a message with %s counts as FailedNonRetryableError", job.name, why)
        with self.lock:
            job.counters["FailedNonRetryableError"] += 1
            job.last_modified = self.clock.now()

    def _admit(self, job: Job, line: Dict[str, Any], dedup: str) -> None:
        """A new object becomes a task; one already seen by this job is dropped (RT §1.4, within one job)."""
        if dedup in job.seen:
            return
        job.seen.add(dedup)
        assert job.emulated is not None
        object_id = len(job.records)
        source = line.get("source-ref", line.get("source"))
        task_input: Dict[str, Any] = {"taskObject": source, "labels": list(job.labels)}
        if job.emulated.task_type.is_adjustment_or_verification:
            task_input["manifestLine"] = copy.deepcopy(line)
        record = TaskRecord(object_id, line, task_input, "", dedup, self.clock.now())
        with self.lock:
            job.records.append(record)
        if job.template is not None:
            try:
                record.rendered = liquid_filters.render(job.template, task_input)
            except liquid_filters.TemplateError as error:
                # The worker page cannot be built: the object fails as on the service (documented).
                record.failure = f"the worker task template could not be rendered: {error}"
                self._count_failure(job, record.failure)
                return
        with self.lock:
            job.pending.append(record)
            job.counters["Unlabeled"] += 1
            job.last_modified = self.clock.now()

    # --- workers and consolidation -----------------------------------------------------------

    def _finish_tasks(self, job: Job) -> bool:
        if not job.pending:
            return False
        now, delay = self.clock.now(), self.workforce.delay_seconds
        ready = [r for r in job.pending if now - r.started >= delay]
        if not ready:
            return False
        published = []
        for record in ready:
            line = self._label(job, record)
            with self.lock:
                job.pending.remove(record)
                job.counters["Unlabeled"] -= 1
                if line is None:
                    job.counters["FailedNonRetryableError"] += 1
                else:
                    job.counters["TotalLabeled"] += 1
                    job.counters["HumanLabeled"] += 1
                    job.output_lines.append(json.dumps(line))
                    job.manifest_dirty = True
                    job.output_dataset_uri = job.output_prefix + "manifests/output/output.manifest"
                job.last_modified = now
                job.last_activity = now
            if line is not None:
                published.append(line)
        topic = job.request["OutputConfig"].get("SnsTopicArn")
        if topic:  # each labeled object's output line on the output topic (RT §1.5)
            for line in published:
                self.client("sns").publish(TopicArn=topic, Message=json.dumps(line))
        return True

    def _task(self, job: Job, record: TaskRecord, worker: int) -> Task:
        assert job.emulated is not None
        tag, attributes = crowd_element(record.rendered)
        name = attributes.get("name") or job.emulated.default_element_name
        return Task(job_name=job.name, task_type=job.emulated.task_type.name, input=record.task_input,
                    labels=list(job.labels), data_object=record.data_object, worker=worker,
                    rendered=record.rendered, element_name=name, element=attributes, read=self._read,
                    emulated=job.emulated)

    def _label(self, job: Job, record: TaskRecord) -> Optional[Dict[str, Any]]:
        """Every worker's answer, the consolidated label, and the files of the documented layout (RT §3)."""
        assert job.emulated is not None
        workers = int(job.human_task["NumberOfHumanWorkersPerDataObject"])
        tasks = [self._task(job, record, worker) for worker in range(workers)]
        try:
            record.answers = [self.workforce.answer(task) for task in tasks]
        except Exception as error:  # noqa: BLE001 - a test's answer function failing fails the object
            record.failure = f"the workforce raised {type(error).__name__}: {error}"
            LOG.warning("local Ground Truth: %s object %s: %s", job.name, record.dataset_object_id, record.failure)
            return None
        now = self.clock.now()
        depth = 3
        if job.emulated.kind is Kind.BOUNDING_BOX:
            depth = tasks[0].image_size().depth
        context = Context(
            emulated=job.emulated, job_name=job.name, labels=list(job.labels), element_name=tasks[0].element_name,
            creation_date=iso_date(now), element=tasks[0].element, image_depth=depth, label_config=job.label_config,
            mask_uri=(job.output_prefix + "annotations/consolidated-annotation/output/"
                      f"{record.dataset_object_id}_{iso_date(now)}.png"),
        )
        try:
            result = consolidate(context, record.answers)
        except ConsolidationError as error:
            record.failure = f"consolidation failed: {error}"
            LOG.warning("local Ground Truth: %s object %s: %s", job.name, record.dataset_object_id, record.failure)
            return None
        s3 = self.client("s3")
        bucket, prefix = split_s3(job.output_prefix)
        answers = [{
            "acceptanceTime": worker_time(record.started),
            "submissionTime": worker_time(now),
            "timeSpentInSeconds": round(now - record.started, 3),
            "workerId": worker_id(self.aws.region, job.name, worker),
            "answerContent": answer,
        } for worker, answer in enumerate(record.answers)]
        s3.put_object(Bucket=bucket, Key=f"{prefix}annotations/worker-response/iteration-1/"
                      f"{record.dataset_object_id}/{file_time(now)}.json",
                      Body=json.dumps({"answers": answers}).encode())
        if result.mask_png is not None:
            mask_bucket, mask_key = split_s3(context.mask_uri)
            s3.put_object(Bucket=mask_bucket, Key=mask_key, Body=result.mask_png, ContentType="image/png")
        line = dict(record.data_object)
        line[job.attribute] = result.label
        line[f"{job.attribute}-metadata"] = result.metadata
        record.output_line = line
        stamp = file_time(now)
        responses = job.consolidation_responses.setdefault(stamp, [])
        responses.append({"datasetObjectId": str(record.dataset_object_id), "consolidatedAnnotation": {
            "content": {job.attribute: result.label, f"{job.attribute}-metadata": result.metadata}}})
        s3.put_object(Bucket=bucket, Key=f"{prefix}annotations/consolidated-annotation/consolidation-response/"
                      f"iteration-1/{stamp}.json", Body=json.dumps(responses).encode())
        return line

    def _write_manifest(self, job: Job, *, now: bool = False) -> None:
        """``manifests/output/output.manifest``: every labeled line so far, rewritten as the job goes (RT §3:
        "periodically"). A large manifest is rewritten at most every MANIFEST_PERIOD_SECONDS (each rewrite is
        the whole file); ``now``: at once (a job that stops, ``settle``)."""
        if not job.manifest_dirty:
            return
        if not now and len(job.output_lines) > MANIFEST_EVERY_TICK_UP_TO and \
                time.monotonic() - job.manifest_written < MANIFEST_PERIOD_SECONDS:
            return
        job.manifest_written = time.monotonic()
        bucket, prefix = split_s3(job.output_prefix)
        with self.lock:
            body = "".join(line + "\n" for line in job.output_lines)
            job.manifest_dirty = False
        self.client("s3").put_object(Bucket=bucket, Key=prefix + "manifests/output/output.manifest",
                                     Body=body.encode("utf-8"))

    def _idle_for_long(self, job: Job) -> bool:
        """Idle: nothing arriving, nothing queued, everything labeled, for 10 days (RT §1.2)."""
        if job.pending or self.clock.now() - job.last_activity < IDLE_STOP_SECONDS or job.queue_url is None:
            return False
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=job.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return all(int(attributes.get(name, "0")) == 0 for name in
                   ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"))

    # --- S3 and Liquid ------------------------------------------------------------------------

    def _read(self, uri: str) -> bytes:
        if uri.startswith("s3://"):
            bucket, key = split_s3(uri)
            body: bytes = self.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
            return body
        if uri.startswith(self.aws.endpoint_url):  # a presigned URL of the local S3, as a browser loads it
            with urllib.request.urlopen(uri, timeout=30) as response:  # noqa: S310 - loopback only
                data: bytes = response.read()
                return data
        raise ValueError(f"cannot read {uri[:100]!r}: not s3:// or the local cloud")

    def _presign(self, uri: str) -> str:
        bucket, key = split_s3(uri)
        url: str = self.client("s3").generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600)
        return url

    def _liquid(self) -> Any:
        return liquid_filters.environment(self._presign)

    def tasks(self, name: str) -> List[TaskRecord]:
        job = self.find(name)
        return list(job.records) if job else []

"""The handler's lifecycle under faults, as a table: events in, scripted AWS, responses out.

Each row tells a story through events only: ``given`` runs earlier, fault-free
events (a create, an update, CloudFormation's cleanup delete) against the
stateful World and names the jobs they reported; then the row's ``event``
runs with scripted AWS faults and a scripted ResponseURL. Expectations are on
what CloudFormation receives (status, physical id, body size, reason) and on
the World afterwards (which jobs run, how many creates were attempted, which
jobs were stopped), plus two rules checked on every row: the answer arrives
before the Lambda's end, and no running job is left that CloudFormation does
not know by name (no orphan).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

import pytest

from .api_contract import request_violations
from .cfn import STACK_ID
from .handler_harness import (
    ACCESS_DENIED,
    ANSWER,
    INTERNAL,
    ROLE_NOT_YET_ASSUMABLE,
    THROTTLED,
    Error,
    Fault,
    Forever,
    Garbage,
    Hang,
    Harness,
    ResponseServer,
    Unreachable,
    base_properties,
    changed_properties,
    event,
)
from .handler_policy import handler_policy

A = base_properties()
B = changed_properties()
#: The same job under another job_name_prefix (a renamed prefix or construct).
P = base_properties(JobNamePrefix="pets")
PETS = "Pets1A2B3C4D"
#: What CloudFormation makes up as the physical id of a create it cancelled.
MADE_UP_ID = "demo-Animals6F4865E6-1Q2W3E4R5T6Y7"
FOREIGN_ROLE = "arn:aws:iam::111122223333:role/someone-else"
BAD_REQUEST = Error("ValidationException", "TaskKeywords: bad keyword '!!'")
#: The message that, matched by a loose "role" regex, used to be retried for 120 s.
ROLE_CONSTRAINT = Error(
    "ValidationException",
    "1 validation error detected: Value 'x' at 'roleArn' failed to satisfy constraint: "
    "Member must satisfy regular expression pattern: ^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$",
)
STOP_REJECTED = Error("ValidationException", "The labeling job cannot be stopped right now.")
JAPANESE_REASON = "作業チームが見つかりません。" * 110  # 1,540 characters, 4,620 bytes in UTF-8


class Story:
    """Earlier events of a resource, run fault-free; ``names`` holds the physical ids they reported."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        self.names: Dict[str, str] = {}  # the job each labelled step ran (or the physical id of a failure)
        self.ids: Dict[str, str] = {}  # the physical id each labelled step reported
        self.state = ""  # the physical id CloudFormation holds now

    def run(self, evt: Dict[str, Any], expect: str = "SUCCESS") -> str:
        """Run an event; CloudFormation now holds its physical id (``state``); the job it names is returned."""
        response = self.h.run(evt)
        assert response["Status"] == expect, response
        self.state = str(response["PhysicalResourceId"])
        return str(response["Data"].get("JobName", self.state))

    def deploy(self, *prefixes: str) -> None:
        """From now on the handler has the permissions of a template with jobs of these prefixes."""
        self.h.world.policy = handler_policy(*prefixes)

    def create(self, label: str, props: Dict[str, Any], logical_id: str = "Animals6F4865E6") -> None:
        self.names[label] = self.run(event("Create", self.h.server.url, props, logical_id=logical_id))
        self.ids[label] = self.state

    def update(self, label: str, new: Dict[str, Any], old: Dict[str, Any], expect: str = "SUCCESS") -> None:
        self.names[label] = self.run(
            event("Update", self.h.server.url, new, physical_id=self.state, old_properties=old), expect
        )
        self.ids[label] = self.state

    def delete(self, label: str, props: Dict[str, Any] = A, logical_id: str = "Animals6F4865E6") -> None:
        self.run(event("Delete", self.h.server.url, props, physical_id=self.ids[label], logical_id=logical_id))

    def status(self, label: str, status: str) -> None:
        """The job changes status outside CloudFormation (a person stops it, it idles out)."""
        self.h.world.jobs[self.names[label]]["status"] = status


def nothing(story: Story) -> None:
    pass


def a_running(story: Story) -> None:
    story.create("A0", A)


def a_initializing(story: Story) -> None:
    story.create("A0", A)
    story.status("A0", "Initializing")


def a_replaced_by_b(story: Story) -> None:
    """A0 ran, an update made B0; CloudFormation's cleanup stopped A0."""
    story.create("A0", A)
    story.update("B0", B, A)
    story.delete("A0")


def b_failed_and_rolled_back(story: Story) -> None:
    """An update A -> B failed (B0 Failed), the rollback kept A0, the cleanup deleted B0."""
    story.create("A0", A)
    story.h.world.ends_as = "Failed"
    story.update("B0", B, A, expect="FAILED")
    story.h.world.ends_as = "InProgress"
    story.update("A0", A, B)
    story.delete("B0", B)


def a_removed(story: Story) -> None:
    """A0 ran and was deleted with its resource."""
    story.create("A0", A)
    story.delete("A0")


def a_taken_by_someone_else(story: Story) -> None:
    """A job of another owner carries the name this resource computes."""
    story.create("A0", A)
    story.h.world.jobs[story.names["A0"]]["request"]["RoleArn"] = FOREIGN_ROLE


def renamed(story: Story) -> None:
    """A0 ran with prefix animals; an update renamed the prefix to pets and made P0 (cleanup pending)."""
    story.deploy("animals")
    story.create("A0", A)
    story.deploy("pets")
    story.update("P0", P, A)


def renamed_then_rolled_back(story: Story) -> None:
    """The rename made P0, another resource failed; the rollback's template is the old one, A0 adopted."""
    renamed(story)
    story.deploy("animals")
    story.update("A0", A, P)


def two_jobs_one_removed(story: Story) -> None:
    """A stack with two jobs (animals, pets); an update removed the pets construct (its Delete pending)."""
    story.deploy("animals", "pets")
    story.create("P0", P, logical_id=PETS)
    story.create("A0", A)
    story.deploy("animals")


def untagged_then_renamed(story: Story) -> None:
    """A0 was made by a version that did not tag jobs, and was never updated since; then a rename."""
    story.deploy("animals")
    story.create("A0", A)
    story.h.world.jobs[story.names["A0"]]["tags"].clear()
    story.deploy("pets")
    story.update("P0", P, A)


def untagged_upgraded_then_renamed(story: Story) -> None:
    """As above, but the library upgrade's Update (Protocol 2, job unchanged) reached A0 first."""
    story.deploy("animals")
    story.create("A0", A)
    story.h.world.jobs[story.names["A0"]]["tags"].clear()
    story.update("A0", A, base_properties(Protocol="1"))
    story.deploy("pets")
    story.update("P0", P, A)


def legacy_running(story: Story) -> None:
    """A0 was created before protocol 3, under the unscoped name ``<prefix>-<12 hex>`` it gave generation 0."""
    story.create("A0", A)
    legacy = story.h.module.legacy_name_of(STACK_ID, "Animals6F4865E6", A, 0)
    job = story.h.world.jobs.pop(story.names["A0"])
    job["name"] = legacy
    story.h.world.jobs[legacy] = job
    story.names["A0"] = story.ids["A0"] = story.state = legacy


def legacy_stopped(story: Story) -> None:
    legacy_running(story)
    story.status("A0", "Stopped")


def a_stopped_then_renewed_by_update(story: Story) -> None:
    """A0 stopped outside CloudFormation; an update that changed no job property moved on to A1."""
    story.create("A0", A)
    story.status("A0", "Stopped")
    story.update("A1", DESTROY, A)


def b_created_by_a_failed_update(story: Story) -> None:
    """A0 runs; an update created B0, which is running, but the update was reported FAILED."""
    story.create("A0", A)
    story.update("B0", B, A)


@dataclass
class Row:
    id: str
    given: Callable[[Story], None]
    #: The event under test, from the story's physical id and names.
    event: Callable[[Story, str], Dict[str, Any]]
    faults: Dict[str, List[Fault]] = field(default_factory=dict)
    response_url: List[int] = field(default_factory=list)
    world: Dict[str, Any] = field(default_factory=dict)
    timeout: float = 900.0
    status: str = "SUCCESS"
    #: A label from the story, "created" (the job this event created), "first" (generation 0 of the event's
    #: resource, its id once a job exists) or "fallback".
    physical: str = "first"
    #: The job the answer names in Data.JobName (a label as for ``physical``); None: not checked.
    job: Optional[str] = None
    creates: Optional[int] = None
    #: Labels of the jobs that run afterwards.
    running: Tuple[str, ...] = ("created",)
    #: Labels of the jobs StopLabelingJob was called for.
    stopped: Tuple[str, ...] = ()
    reason: Optional[str] = None
    max_seconds: Optional[float] = None
    #: False: the handler must not answer (a stale event, or no ResponseURL to answer to).
    answered: bool = True
    #: Operations that must not reach AWS at all.
    no_calls: bool = False


def create_event(props: Dict[str, Any] = A) -> Callable[[Story, str], Dict[str, Any]]:
    return lambda story, url: event("Create", url, props)


def update_event(new: Dict[str, Any], old: Dict[str, Any]) -> Callable[[Story, str], Dict[str, Any]]:
    return lambda story, url: event("Update", url, new, physical_id=story.state, old_properties=old)


def delete_event(props: Dict[str, Any] = A, physical: Optional[str] = None,
                 logical_id: str = "Animals6F4865E6") -> Callable[[Story, str], Dict[str, Any]]:
    return lambda story, url: event("Delete", url, props, physical_id=story.state if physical is None else physical,
                                    logical_id=logical_id)


def delete_of(label: str, props: Dict[str, Any], logical_id: str = "Animals6F4865E6") -> Callable[[Story, str], Dict[str, Any]]:
    """CloudFormation's Delete of the resource whose physical id the story's step ``label`` reported."""
    return lambda story, url: event("Delete", url, props, physical_id=story.ids[label], logical_id=logical_id)


def without_response_url(url_value: Any) -> Callable[[Story, str], Dict[str, Any]]:
    def make(story: Story, url: str) -> Dict[str, Any]:
        evt = event("Create", url)
        if url_value is None:
            del evt["ResponseURL"]
        else:
            evt["ResponseURL"] = url_value
        return evt

    return make


DESTROY = base_properties(WaitForStoppedOnDelete="true")

ROWS = [
    # --- create ----------------------------------------------------------------------------------------
    Row("create: happy path", nothing, create_event(), creates=1),
    Row("create: CloudFormation's DescribeStackResource answer cannot be parsed: its status is unknown, the "
        "create goes on", nothing, create_event(), faults={"DescribeStackResource": [Forever(Garbage())]},
        creates=1),
    Row("create: a retried create adopts its own running job", a_running, create_event(),
        physical="A0", creates=0, running=("A0",)),
    Row("create: a retried create adopts its own initializing job", a_initializing, create_event(),
        physical="A0", creates=0, running=("A0",)),
    Row("create: the job fails, reported with its reason and its name", nothing, create_event(),
        world={"ends_as": "Failed"}, status="FAILED", creates=1, running=(),
        reason="Workteam not found in this region"),
    Row("orphan: DescribeLabelingJob denied after the create", nothing, create_event(),
        faults={"DescribeLabelingJob": [ANSWER, Forever(ACCESS_DENIED)]}, status="FAILED", creates=1,
        reason="AccessDeniedException"),
    Row("orphan: DescribeLabelingJob throttled until the deadline", nothing, create_event(),
        faults={"DescribeLabelingJob": [ANSWER, Forever(THROTTLED)]}, status="FAILED", creates=1,
        reason="ThrottlingException"),
    Row("orphan: DescribeLabelingJob read timeouts until the deadline", nothing, create_event(),
        faults={"DescribeLabelingJob": [ANSWER, Forever(Hang())]}, status="FAILED", creates=1),
    Row("orphan: a short Lambda whose calls hang still answers in time", nothing, create_event(),
        faults={"DescribeLabelingJob": [ANSWER, Forever(Hang())]}, timeout=45, status="FAILED", creates=1),
    Row("create: the answer to CreateLabelingJob is lost, the retry adopts the job", nothing, create_event(),
        faults={"CreateLabelingJob": [Hang(effect=True)]}, creates=2),
    Row("orphan: the answer to CreateLabelingJob is lost and the job cannot be described", nothing, create_event(),
        faults={"CreateLabelingJob": [Hang(effect=True)], "DescribeLabelingJob": [ANSWER, Forever(ACCESS_DENIED)]},
        status="FAILED", creates=2, reason="AccessDeniedException"),
    Row("orphan: CreateLabelingJob took effect, then every call hangs", nothing, create_event(),
        faults={"CreateLabelingJob": [Hang(effect=True), Forever(Hang())],
                "DescribeLabelingJob": [ANSWER, Forever(Hang())]}, status="FAILED"),
    Row("create: an unreachable endpoint is retried", nothing, create_event(),
        faults={"CreateLabelingJob": [Unreachable()], "DescribeLabelingJob": [Unreachable()]}, creates=2),
    Row("create: an internal failure is retried", nothing, create_event(),
        faults={"CreateLabelingJob": [INTERNAL]}, creates=2),
    Row("create: throttling is retried", nothing, create_event(),
        faults={"CreateLabelingJob": [THROTTLED, THROTTLED]}, creates=3),
    Row("create: S3 SlowDown on the config upload is retried", nothing, create_event(),
        faults={"PutObject": [Error("SlowDown", "Please reduce your request rate.", 503)]}, creates=1),
    Row("create: a role still propagating is retried", nothing, create_event(),
        faults={"CreateLabelingJob": [ROLE_NOT_YET_ASSUMABLE, ROLE_NOT_YET_ASSUMABLE]}, creates=3),
    Row("create: role propagation retries are bounded", nothing, create_event(),
        faults={"CreateLabelingJob": [Forever(ROLE_NOT_YET_ASSUMABLE)]}, status="FAILED", physical="fallback",
        running=(), reason="Could not assume role", max_seconds=130),
    Row("create: a bad request that mentions roleArn fails at once", nothing, create_event(),
        faults={"CreateLabelingJob": [ROLE_CONSTRAINT]}, status="FAILED", physical="fallback", creates=1,
        running=(), reason="failed to satisfy constraint", max_seconds=5),
    Row("create: a bad request fails at once with SageMaker's message", nothing, create_event(),
        faults={"CreateLabelingJob": [BAD_REQUEST]}, status="FAILED", physical="fallback", creates=1,
        running=(), reason="CreateLabelingJob failed: ValidationException: TaskKeywords: bad keyword '!!'",
        max_seconds=5),
    Row("create: a name held by another owner's job fails and is never claimed", a_taken_by_someone_else,
        create_event(), status="FAILED", physical="fallback", creates=0, running=("A0",),
        reason="job_name_prefix"),
    Row("create: a re-added resource gets the next name, under the resource's same id", a_removed, create_event(),
        creates=1, physical="A0", job="created"),
    Row("create: Initializing until the deadline fails with the job's name", nothing, create_event(),
        world={"initializing_looks": 10**6}, timeout=300, status="FAILED", creates=1,
        reason="did not reach InProgress"),
    Row("response: a PUT failing five times delivers the same SUCCESS", nothing, create_event(),
        response_url=[503] * 5, creates=1),
    Row("response: a 1,540-character Japanese reason fits in 4,096 bytes", nothing, create_event(),
        world={"ends_as": "Failed", "failure_reason": JAPANESE_REASON}, status="FAILED", running=(),
        reason="作業チーム"),
    Row("create: a malformed request still gets an answer", nothing,
        create_event(base_properties(Request="not a dict")), status="FAILED", physical="fallback", running=(),
        reason="log stream"),
    # --- update ----------------------------------------------------------------------------------------
    Row("update: unchanged job properties keep the job", a_running,
        lambda story, url: event("Update", url, DESTROY, physical_id=story.state, old_properties=A),
        physical="A0", creates=0, running=("A0",)),
    Row("update: changed properties create a new job", a_running, update_event(B, A),
        creates=1, running=("A0", "created")),
    Row("orphan on update: the new job's Describe is denied; its name, not the old, is reported", a_running,
        update_event(B, A), faults={"DescribeLabelingJob": [ANSWER, ANSWER, Forever(ACCESS_DENIED)]},
        status="FAILED", creates=1, running=("A0", "created")),
    Row("update: a rejected request keeps the old id", a_running, update_event(B, A),
        faults={"CreateLabelingJob": [BAD_REQUEST]}, status="FAILED", physical="A0", running=("A0",)),
    Row("rollback: the still-running old job is adopted", b_created_by_a_failed_update, update_event(A, B),
        physical="A0", creates=0, running=("A0", "B0")),
    Row("revert: A -> B -> A after the cleanup stopped A gets a fresh job", a_replaced_by_b, update_event(A, B),
        creates=1, running=("B0", "created"), physical="A0", job="created"),
    Row("redeploy: an update that failed and rolled back can be deployed again", b_failed_and_rolled_back,
        update_event(B, A), creates=1, running=("A0", "created"), physical="B0", job="created"),
    # --- delete ----------------------------------------------------------------------------------------
    Row("delete: a running job is stopped", a_running, delete_event(), physical="A0", running=(),
        stopped=("A0",)),
    Row("delete: Initializing is waited out before stopping", a_initializing, delete_event(),
        physical="A0", running=(), stopped=("A0",)),
    *[
        Row(f"delete: a {status} job succeeds without a stop", a_running, delete_event(), physical="A0",
            running=(), world={"preset_status": status})
        for status in ("Stopping", "Stopped", "Completed", "Failed")
    ],
    Row("delete: a job that is gone succeeds", nothing, delete_event(physical="animals-0123456789ab"),
        physical="animals-0123456789ab", running=()),
    *[
        Row(f"delete: garbage physical id {garbage!r}", nothing, delete_event(physical=garbage),
            physical=garbage, running=(), max_seconds=0)
        for garbage in ("CREATE_FAILED:req-0001", "2026/11/23/[$LATEST]0123456789abcdef", "x" * 70)
    ],
    Row("delete: an empty physical id is answered with a non-empty one", nothing, delete_event(physical=""),
        physical="fallback", running=(), max_seconds=0),
    Row("delete: a Stop the service keeps rejecting fails, it is not reported stopped", a_running,
        delete_event(), faults={"StopLabelingJob": [Forever(STOP_REJECTED)]}, status="FAILED", physical="A0",
        running=("A0",), stopped=("A0",), reason="StopLabelingJob failed"),
    Row("delete: a Stop rejected once is tried again", a_running, delete_event(),
        faults={"StopLabelingJob": [STOP_REJECTED]}, physical="A0", running=(), stopped=("A0",)),
    Row("delete: one InternalFailure on Stop is retried", a_running, delete_event(),
        faults={"StopLabelingJob": [INTERNAL]}, physical="A0", running=(), stopped=("A0",)),
    Row("delete: an unreachable endpoint on Describe is retried", a_running, delete_event(),
        faults={"DescribeLabelingJob": [Unreachable(), Unreachable()]}, physical="A0", running=(),
        stopped=("A0",)),
    Row("delete: DESTROY waits for Stopped", a_running, delete_event(DESTROY), physical="A0", running=(),
        stopped=("A0",)),
    Row("delete: DESTROY fails rather than lose labels when Stopping outlasts the Lambda", a_running,
        delete_event(DESTROY), world={"stop_stays_stopping": True}, timeout=120, status="FAILED",
        physical="A0", running=(), stopped=("A0",), reason="still Stopping"),
    Row("delete: the response PUT failing twice still delivers SUCCESS", a_running, delete_event(),
        response_url=[500, 502], physical="A0", running=(), stopped=("A0",)),
    # --- every job of the stack can be stopped, whatever the current props (issue 14.1) ---------------
    Row("rename: the cleanup Delete of the old job runs under the new template and stops it", renamed,
        delete_of("A0", A), physical="A0", running=("P0",), stopped=("A0",)),
    Row("rename rolled back: the cleanup of the new job runs under the old template and stops it",
        renamed_then_rolled_back, delete_of("P0", P), physical="P0", running=("A0",), stopped=("P0",)),
    Row("removal: one of two jobs removed; its Delete runs without its statements and stops it",
        two_jobs_one_removed, delete_of("P0", P, logical_id=PETS), physical="P0", running=("A0",), stopped=("P0",)),
    Row("stack delete: the current template stops the job", two_jobs_one_removed, delete_of("A0", A),
        physical="A0", running=("P0",), stopped=("A0",)),
    Row("upgrade: a job of an earlier version is tagged by the upgrade's Update, so a later rename stops it",
        untagged_upgraded_then_renamed, delete_of("A0", A), physical="A0", running=("P0",), stopped=("A0",)),
    Row("upgrade: the Update of protocol 3 keeps a running job named before it (no new job, same id)",
        legacy_running, update_event(A, base_properties(Protocol="2")), creates=0, running=("A0",),
        physical="A0", job="A0"),
    Row("upgrade: the Delete of a resource whose job was named before protocol 3 stops it", legacy_running,
        delete_event(), physical="A0", running=(), stopped=("A0",)),
    Row("upgrade: a stopped job named before protocol 3 moves on to a scoped name, keeping the id",
        legacy_stopped, update_event(DESTROY, A), creates=1, running=("created",), physical="A0", job="created"),
    Row("limit: an untagged job of an earlier version renamed before any Update reached it is reported, not "
        "claimed stopped", untagged_then_renamed, delete_of("A0", A), status="FAILED", physical="A0",
        running=("A0", "P0"), reason="AccessDeniedException"),
    # --- a cancelled create leaves no job (issue 14.2) --------------------------------------------------
    Row("cancelled create: a Delete with CloudFormation's made-up id stops the job the Create made", a_running,
        delete_event(physical=MADE_UP_ID), physical=MADE_UP_ID, running=(), stopped=("A0",)),
    Row("cancelled create: a Delete with the fallback id stops the job of an unanswered Create", a_initializing,
        delete_event(physical="CREATE_FAILED:req-0001"), physical="CREATE_FAILED:req-0001", running=(),
        stopped=("A0",)),
    Row("cancelled create: a made-up id never stops another resource's job", a_running,
        delete_event(physical=MADE_UP_ID, logical_id=PETS), physical=MADE_UP_ID, running=("A0",)),
    Row("cancelled create: the Delete ran before CreateLabelingJob; the Create stops its own job", nothing,
        create_event(), world={"resource_statuses": ["CREATE_IN_PROGRESS", "CREATE_FAILED"]}, status="FAILED",
        creates=1, running=(), stopped=("created",), reason="was stopped"),
    Row("cancelled create: the resource was deleted while the job initialized; the Create stops it", nothing,
        create_event(), world={"resource_statuses": ["CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "DELETE_COMPLETE"]},
        status="FAILED", creates=1, running=(), stopped=("created",), reason="DELETE_COMPLETE"),
    Row("cancelled update: the resource was deleted while the new job was made; the Update stops it", a_running,
        update_event(B, A), world={"resource_statuses": ["UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS"]},
        status="FAILED", creates=1, running=("A0",), stopped=("created",)),
    Row("delete: after an update moved on from a dead job, the resource's Delete stops the generation that runs",
        a_stopped_then_renewed_by_update, delete_event(), physical="A0", running=(), stopped=("A1",)),
    Row("delete: every running generation of the resource is stopped", a_stopped_then_renewed_by_update,
        delete_event(), world={"restart": "A0"}, physical="A0", running=(), stopped=("A0", "A1")),
    # --- a deploy completes only with a running job (issue 14.3) ---------------------------------------
    *[
        Row(f"update: unchanged properties on a {status} job move on to the next generation", a_running,
            lambda story, url: event("Update", url, DESTROY, physical_id=story.state, old_properties=A),
            world={"preset_status": status}, creates=1, running=("created",), physical="A0", job="created")
        for status in ("Stopped", "Completed", "Failed")
    ],
    Row("update: unchanged properties on an Initializing job wait for InProgress", a_initializing,
        lambda story, url: event("Update", url, DESTROY, physical_id=story.state, old_properties=A),
        physical="A0", creates=0, running=("A0",)),
    # --- the same request never makes two jobs (issue 14.4) ---------------------------------------------
    Row("late duplicate: a Create after its resource was rolled back makes no job and sends no answer", a_removed,
        create_event(), world={"resource_statuses": ["DELETE_COMPLETE"]}, answered=False, creates=0, running=()),
    Row("late duplicate: a Create after CREATE_COMPLETE whose job has since stopped makes no job", a_running,
        create_event(), world={"preset_status": "Stopped", "resource_statuses": ["CREATE_COMPLETE"]},
        answered=False, creates=0, running=()),
    Row("late duplicate: a Create retried while still CREATE_IN_PROGRESS adopts its job", a_running,
        create_event(), world={"resource_statuses": ["CREATE_IN_PROGRESS"]}, physical="A0", creates=0,
        running=("A0",)),
    Row("late duplicate: an Update after the resource was deleted makes no job", a_removed, update_event(B, A),
        world={"resource_statuses": ["DELETE_COMPLETE"]}, answered=False, creates=0, running=()),
    # --- no usable ResponseURL: logged, nothing done (issue 14.5) ----------------------------------------
    *[
        Row(f"response URL {label}: nothing is done and nothing raises", nothing, without_response_url(value),
            answered=False, creates=0, running=(), no_calls=True)
        for label, value in (("missing", None), ("not a URL", "not a url"), ("a number", 12345),
                             ("without a host", "https:///path"), ("of another scheme", "ftp://example.com/x"))
    ],
]


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_fault_matrix(server: ResponseServer, row: Row) -> None:
    h = Harness(server)
    story = Story(h)
    row.given(story)
    world = h.world
    settings = dict(row.world)
    preset = settings.pop("preset_status", None)
    if preset is not None:
        story.status("A0", preset)
    restart = settings.pop("restart", None)
    if restart is not None:  # an earlier generation found running again (as after an unknown-outcome create)
        story.status(restart, "InProgress")
    for key, value in settings.items():
        setattr(world, key, value if not isinstance(value, list) else list(value))
    for operation, faults in row.faults.items():
        world.script(operation, *faults)
    server.answers.extend(row.response_url)
    calls_before = len(world.calls)
    started = h.clock.now
    evt = row.event(story, server.url)

    response = h.run(evt, timeout_seconds=row.timeout, answered=row.answered)

    calls = world.calls[calls_before:]
    if row.no_calls:
        assert calls == [], calls
    created = [params["LabelingJobName"] for name, _, params in calls if name == "CreateLabelingJob"]
    names = dict(story.names)
    if created:
        names["created"] = created[-1]
    names["fallback"] = "CREATE_FAILED:req-0001"
    try:
        names["first"] = h.module.job_name(evt, evt["ResourceProperties"], 0)
    except (KeyError, TypeError, AttributeError):
        pass
    if not row.answered:
        assert world.active_jobs() == sorted(names[label] for label in row.running), (world.active_jobs(), names)
        if row.creates is not None:
            assert len(created) == row.creates, created
        assert set(world.active_jobs()) <= stoppable(h, set(story.ids.values())), "no orphan"
        return
    assert response["Status"] == row.status, response["Reason"]
    assert response["PhysicalResourceId"] == names.get(row.physical, row.physical), (response, names)
    assert response["PhysicalResourceId"], "CloudFormation requires a physical id"
    if row.job is not None:
        assert response["Data"].get("JobName") == names[row.job], (response["Data"], names)
    assert len(response["raw"]) <= 4096
    if row.reason is not None:
        assert row.reason in response["Reason"], response["Reason"]
    if row.creates is not None:
        assert len(created) == row.creates, created
    if row.max_seconds is not None:
        assert h.clock.now - started <= row.max_seconds
    assert h.context is not None and h.clock.now <= h.context.end, "answered before the Lambda's end"
    assert world.active_jobs() == sorted(names[label] for label in row.running), (world.active_jobs(), names)
    stops = [params["LabelingJobName"] for name, _, params in calls if name == "StopLabelingJob"]
    assert set(stops) == {names[label] for label in row.stopped}
    # Whatever happened, every running job is one a Delete of a physical id CloudFormation holds would stop.
    assert set(world.active_jobs()) <= stoppable(h, set(story.ids.values()) | {response["PhysicalResourceId"]})


def stoppable(h: Harness, physical_ids: Set[str]) -> Set[str]:
    """Every job name of the resources (of the rows' properties) whose physical id CloudFormation holds."""
    names = set(physical_ids)
    for props in (A, B, P, DESTROY):
        for logical_id in ("Animals6F4865E6", PETS):
            evt = event("Delete", "", props, logical_id=logical_id)
            sequence = h.module.name_sequence(evt["StackId"], logical_id, props)  # legacy names, then scoped ones
            if {sequence[0], sequence[h.module.MAX_GENERATIONS]} & physical_ids:
                names.update(sequence)
    return names


def test_every_create_request_satisfies_the_api_model(server: ResponseServer) -> None:
    h = Harness(server)
    response = h.run(event("Create", server.url))
    assert response["Status"] == "SUCCESS"
    (request,) = h.world.requests("CreateLabelingJob")
    assert request_violations("CreateLabelingJob", request) == []
    assert request["HumanTaskConfig"]["NumberOfHumanWorkersPerDataObject"] == 1
    name = response["PhysicalResourceId"]
    assert request["LabelCategoryConfigS3Uri"] == f"s3://output-bucket/labeling-job-config/{name}/label-categories.json"
    assert h.world.objects[f"output-bucket/labeling-job-config/{name}/label-categories.json"]
    uploads = h.world.requests("PutObject")
    assert [u["Key"].rsplit("/", 1)[-1] for u in uploads] == [
        "label-categories.json", "worker-template.liquid.html", "resource.json"]
    assert all(u["ServerSideEncryption"] == "aws:kms" and u["SSEKMSKeyId"].startswith("arn:aws:kms:") for u in uploads)
    record = json.loads(h.world.objects[f"output-bucket/labeling-job-config/{name}/resource.json"])
    assert record["ResourceProperties"] == base_properties() and record["PhysicalResourceId"] == name
    tags = {tag["Key"]: tag["Value"] for tag in request["Tags"]}
    assert tags == {"streaming-labeling:stack": STACK_ID, "streaming-labeling:resource": name}
    arn = f"arn:aws:sagemaker:us-east-1:111122223333:labeling-job/{name}"
    assert response["Data"] == {"JobName": name, "JobArn": arn, "GenerationArnPrefix": arn[:-6]}, \
        "every generation's ARN starts with the scoped prefix: the name less its last 6 hex"
    created_at, first_look = h.world.times("CreateLabelingJob")[0], h.world.times("DescribeLabelingJob")[1]
    assert first_look - created_at <= 5, "the first status check comes within ~5 s"


def test_throttling_backs_off_exponentially(server: ResponseServer) -> None:
    h = Harness(server)
    h.world.script("CreateLabelingJob", THROTTLED, THROTTLED, THROTTLED)
    assert h.run(event("Create", server.url))["Status"] == "SUCCESS"
    assert h.clock.sleeps[:3] == [1.0, 2.0, 4.0]


def test_every_call_and_retry_fits_in_the_time_left(server: ResponseServer) -> None:
    """Hangs cost the client's full timeouts; with 40 s left they must be fitted, not botocore's 60 s."""
    h = Harness(server)
    h.world.script("DescribeLabelingJob", ANSWER, Forever(Hang()))
    response = h.run(event("Create", server.url), timeout_seconds=40)
    assert response["Status"] == "FAILED"
    assert h.context is not None and h.clock.now <= h.context.end
    assert all(connect + read <= 30 for connect, read in h.world.timeouts_seen)
    # Each attempt, a hang included, ends before the Lambda must have answered (its safety margin left).
    assert len(h.world.attempts) > 3
    assert all(start + connect + read <= h.context.end - 20 for start, connect, read in h.world.attempts)


def test_an_undeliverable_response_is_given_up_before_the_lambda_ends(server: ResponseServer) -> None:
    h = Harness(server)
    server.answers.extend([503] * 1000)
    h.context = None
    from .handler_harness import FakeContext

    context = FakeContext(h.clock, 60)
    h.module.handler(event("Delete", server.url, physical_id="CREATE_FAILED:req-0001"), context)
    assert server.bodies == []
    assert server.attempts > 3, "the same body was retried"
    assert h.clock.now <= context.end

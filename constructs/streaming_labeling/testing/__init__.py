"""The local Ground Truth: deploy, feed, label and consume a streaming labeling job on one machine.

``LocalGroundTruth`` starts a moto server (S3, SNS, SQS, KMS, IAM, EventBridge, CloudFormation, Lambda,
with the adapters of ``moto_adapter``) and the local Ground Truth service (``service``: the labeling-job
part of SageMaker, with a simulated workforce), both on free loopback ports, and deploys CDK stacks into
them through moto's CloudFormation. The stack's own Lambdas run as local processes, so the library's real
handler creates the real request's job, and a stack delete stops it::

    from streaming_labeling.testing import LocalGroundTruth

    with LocalGroundTruth() as local:
        deployed = local.deploy(stack)
        name = deployed.job_name(stack.job)
        local.client("sns").publish(TopicArn=deployed.outputs["InputTopicArn"], Message='{"source": "a cat"}')
        lines = local.wait_for_labels(name, count=1)
        local.destroy(deployed)

The package registers a pytest plugin with the fixture ``local_ground_truth``. Nothing here is imported
by the construct: moto and python-liquid are needed only by who uses this (the ``testing`` extra).
"""

from __future__ import annotations

import json
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Type

from ..conventions import RESOURCE_TAG

if TYPE_CHECKING:
    from .clock import Clock
    from .cloud import LocalCloud
    from .deploy import DeployedStack, Deployer
    from .service import GroundTruthService
    from .workforce import WorkforceLike

__all__ = ["LocalGroundTruth", "LocalDeployment"]

#: How often the waits of the facade look again.
POLL_SECONDS = 0.1
ACTIVE = ("Initializing", "InProgress")


def _expire_queue_messages(now: float) -> None:
    from . import moto_adapter

    moto_adapter.expire_messages()


class LocalDeployment:
    """A stack deployed into the local cloud: its outputs, its resources, its jobs."""

    def __init__(self, local: LocalGroundTruth, stack: DeployedStack) -> None:
        self._local = local
        self.stack = stack

    @property
    def stack_name(self) -> str:
        return self.stack.stack_name

    @property
    def outputs(self) -> Dict[str, str]:
        """Its ``CfnOutput`` values, by output id."""
        return self.stack.outputs

    def physical_id(self, construct: Any) -> str:
        return self.stack.physical_id(construct)

    def job_name(self, job: Any) -> str:
        """The generation of a ``StreamingLabelingJob`` of this stack that runs now (the newest when none does)."""
        return self._local.current_generation(self.stack.physical_id(job.resource))


class LocalGroundTruth:
    """A moto server and the local Ground Truth on free loopback ports; see the module docstring."""

    def __init__(self, *, workforce: WorkforceLike = None) -> None:
        self._initial_workforce = workforce
        self._cloud: Optional[LocalCloud] = None
        self._service: Optional[GroundTruthService] = None
        self._deployer: Optional[Deployer] = None
        self.clock: Optional[Clock] = None

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> LocalGroundTruth:
        if self._cloud is not None:
            return self
        from .clock import Clock
        from .cloud import LocalCloud
        from .deploy import Deployer
        from .service import GroundTruthService

        cloud = LocalCloud()
        try:
            self.clock = Clock()
            service = GroundTruthService(cloud.endpoints, self.clock, self._initial_workforce).start()
        except Exception:
            cloud.stop()
            raise
        cloud.set_sagemaker_endpoint(service.endpoint_url)
        cloud.clock = self.clock  # queues keep messages for their retention by the emulated clock
        self.clock.add_listener(_expire_queue_messages)
        self._cloud, self._service, self._deployer = cloud, service, Deployer(cloud)
        return self

    def stop(self) -> None:
        if self._service is not None:
            self._service.stop()
        if self._cloud is not None:
            self._cloud.stop()
        self._cloud = self._service = self._deployer = None

    def __enter__(self) -> LocalGroundTruth:
        return self.start()

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        self.stop()

    @property
    def cloud(self) -> LocalCloud:
        if self._cloud is None:
            raise RuntimeError("the local Ground Truth is not started (use it as a context manager, or start())")
        return self._cloud

    @property
    def service(self) -> GroundTruthService:
        if self._service is None:
            raise RuntimeError("the local Ground Truth is not started (use it as a context manager, or start())")
        return self._service

    # --- what a test uses ------------------------------------------------------------------------

    @property
    def env(self) -> Dict[str, str]:
        """This process's environment with the local cloud's endpoints, dummy credentials and region, for
        subprocesses (``streaming-labeling``, your producers); merge ``cloud.env`` for boto3 in this process."""
        return self.cloud.subprocess_env()

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client of the local cloud; "sagemaker" is the local Ground Truth."""
        return self.cloud.client(service, **kwargs)

    @property
    def workforce(self) -> Any:
        return self.service.workforce

    @workforce.setter
    def workforce(self, answer: WorkforceLike) -> None:
        """``answer(task)`` returns a worker's answer as a worker-response file records it (``answerContent``,
        keyed by the crowd element's ``name``); a path: a JSON file of answers keyed by data object; None:
        the default, deterministic workers."""
        self.service.workforce = answer

    def deploy(self, stack: Any) -> LocalDeployment:
        """Synthesize the stack's app and create the stack under its own ``stack_name``; raises with
        CloudFormation's reason if the deploy fails."""
        assert self._deployer is not None or self.cloud  # started
        assert self._deployer is not None
        return LocalDeployment(self, self._deployer.deploy(stack))

    def update(self, deployment: LocalDeployment, stack: Any) -> LocalDeployment:
        """Deploy a changed version of a deployed stack (CloudFormation's Update, then its cleanup)."""
        assert self._deployer is not None
        return LocalDeployment(self, self._deployer.update(stack))

    def destroy(self, deployment: LocalDeployment) -> None:
        """Delete the stack: the handler stops its jobs (and deletes their emptied queues)."""
        assert self._deployer is not None
        self._deployer.destroy(deployment.stack)

    def advance(self, *, days: float = 0.0, hours: float = 0.0, minutes: float = 0.0, seconds: float = 0.0) -> None:
        """Move the emulated clock; the service has acted on the new time when this returns (a job idle
        for 10 days is Stopped; queues drop what outlived their retention)."""
        assert self.clock is not None
        self.clock.advance(seconds, minutes=minutes, hours=hours, days=days)

    def job(self, name: str) -> Dict[str, Any]:
        """DescribeLabelingJob."""
        described: Dict[str, Any] = self.client("sagemaker").describe_labeling_job(LabelingJobName=name)
        return described

    def generations(self, resource: str) -> List[Dict[str, Any]]:
        """The jobs of a resource (its physical id), oldest first: what a renewal adds to."""
        sagemaker = self.client("sagemaker")
        found = []
        prefix = resource.rsplit("-", 1)[0]
        for page in sagemaker.get_paginator("list_labeling_jobs").paginate(NameContains=prefix,
                                                                           SortBy="CreationTime"):
            for summary in page["LabelingJobSummaryList"]:
                tags = sagemaker.list_tags(ResourceArn=summary["LabelingJobArn"]).get("Tags", [])
                if {"Key": RESOURCE_TAG, "Value": resource} in tags:
                    found.append(summary)
        return found

    def start_generations(self, request: Mapping[str, Any], names: Sequence[str]) -> List[str]:
        """Start ``request`` (a CreateLabelingJob request) as the generations ``names`` of one resource, oldest
        first, each tagged with the resource as the handler tags a renewal, every one but the newest stopped.

        What a resource looks like after renewals, without deploying a stack or waiting for idle stops.
        The resource (its physical id) is ``names[0]``, the name of its first generation.
        """
        sagemaker = self.client("sagemaker")
        tags = [*request.get("Tags", []), {"Key": RESOURCE_TAG, "Value": names[0]}]
        for index, name in enumerate(names):
            sagemaker.create_labeling_job(**{**request, "LabelingJobName": name, "Tags": tags})
            self.wait_for_status(name, "InProgress")
            if index < len(names) - 1:
                sagemaker.stop_labeling_job(LabelingJobName=name)
                self.wait_for_status(name, "Stopped")
        return list(names)

    def current_generation(self, resource: str) -> str:
        """The running generation of a resource (its physical id), or the newest when none runs."""
        family = self.generations(resource)
        if not family:
            return resource
        running = [job for job in family if job["LabelingJobStatus"] in ACTIVE]
        return str((running or family)[-1]["LabelingJobName"])

    def labels(self, name: str) -> List[Dict[str, Any]]:
        """Every output-manifest line the job published to its output topic since it started, in order."""
        job = self.service.engine.jobs.get(name.lower())
        return [json.loads(line) for line in (job.output_lines if job is not None else [])]

    def wait_for_labels(self, name: str, *, count: int = 1, timeout: float = 60.0) -> List[Dict[str, Any]]:
        """At least ``count`` of the lines the job published (all of them, also those before the call)."""
        lines: List[Dict[str, Any]] = self.wait(lambda: self.labels(name), lambda found: len(found) >= count,
                                                timeout, f"{count} labels from {name}")
        return lines

    def wait_for_status(self, name: str, status: str, *, timeout: float = 60.0) -> Dict[str, Any]:
        job: Dict[str, Any] = self.wait(lambda: self.job(name), lambda job: job["LabelingJobStatus"] == status,
                                        timeout, f"{name} {status}")
        return job

    def wait(self, look: Callable[[], Any], done: Callable[[Any], bool], timeout: float, what: str) -> Any:
        """Look until ``done(look())``, or raise TimeoutError naming ``what`` and the last look."""
        deadline = time.monotonic() + timeout
        while True:
            seen = look()
            if done(seen):
                return seen
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:.0f} s for {what}; last seen: {str(seen)[:500]}")
            time.sleep(POLL_SECONDS)

"""What any streaming labeling job offers, built here or imported from another app.

``IStreamingLabelingJob`` is the interface (names, topics, buckets, key, label attribute,
task type, labels); ``StreamingLabelingJobBase`` holds everything that reads only those:
grants, metrics, EventBridge rules and alarms. ``StreamingLabelingJob`` builds a job;
``StreamingLabelingJob.from_job_attributes`` returns an ``ImportedStreamingLabelingJob``.
"""

from __future__ import annotations

import re
import warnings
from typing import Any, Mapping, Optional, Protocol, Sequence, Set, Tuple, TypedDict, Union, runtime_checkable

from aws_cdk import Duration, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct, Node

from .monitoring import (
    DEFAULT_PERIOD,
    DEFAULT_STALLED_AGE,
    JobAlarms,
    JobStatus,
    build_alarms,
    generation_matchers,
    queue_name,
    state_change_pattern,
    task_status_change_pattern,
)
from .pipeline import open_bucket_to_workers
from .state import StackState
from .task_types import TaskType

try:  # Python 3.11: typing.Unpack exists, and mypy reads it for **kwargs
    from typing import Unpack
except ImportError:  # pragma: no cover
    from typing_extensions import Unpack


class MetricOptions(TypedDict, total=False):
    """Every field of ``cloudwatch.MetricOptions``, as keyword arguments of the ``metric_*`` methods."""

    account: str
    color: str
    dimensions_map: Mapping[str, str]
    id: str
    label: str
    period: Duration
    region: str
    stack_account: str
    stack_region: str
    statistic: str
    unit: cloudwatch.Unit
    visible: bool


class OnEventOptions(TypedDict, total=False):
    """The fields of ``events.OnEventOptions``: ``event_pattern`` is merged with the job's own pattern."""

    target: events.IRuleTarget
    rule_name: str
    description: str
    event_pattern: events.EventPattern
    cross_stack_scope: Construct


@runtime_checkable
class IStreamingLabelingJob(Protocol):
    """A streaming labeling job: built by ``StreamingLabelingJob`` or imported with ``from_job_attributes``."""

    @property
    def node(self) -> Node: ...
    @property
    def job_name(self) -> str: ...
    @property
    def job_arn(self) -> Optional[str]: ...
    @property
    def job_name_prefix(self) -> Optional[str]: ...
    @property
    def input_topic(self) -> sns.ITopic: ...
    @property
    def output_topic(self) -> sns.ITopic: ...
    @property
    def input_bucket(self) -> Optional[s3.IBucket]: ...
    @property
    def output_bucket(self) -> s3.IBucket: ...
    @property
    def encryption_key(self) -> kms.IKey: ...
    @property
    def label_attribute_name(self) -> Optional[str]: ...
    @property
    def task_type(self) -> Optional[TaskType]: ...
    @property
    def labels(self) -> Tuple[str, ...]: ...

    def open_buckets_to_workers(self, requester: IConstruct, rule: s3.CorsRule) -> None:
        """A downstream job's workers load this job's objects: give its buckets ``rule`` (once)."""
        ...


_PATTERN_FIELDS = ("account", "detail", "detail_type", "id", "region", "resources", "source", "time", "version")


def _merge_options(defaults: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**defaults, **options}
    if "dimensions_map" in defaults and "dimensions_map" in options:
        merged["dimensions_map"] = {**defaults["dimensions_map"], **options["dimensions_map"]}
    return merged


class StreamingLabelingJobBase(Construct):
    """Grants, metrics, rules and alarms of a job, from the attributes of ``IStreamingLabelingJob`` alone."""

    job_name: str
    job_arn: Optional[str]
    job_name_prefix: Optional[str]
    input_topic: sns.ITopic
    output_topic: sns.ITopic
    input_bucket: Optional[s3.IBucket]
    output_bucket: s3.IBucket
    encryption_key: kms.IKey
    label_attribute_name: Optional[str]
    task_type: Optional[TaskType]
    labels: Tuple[str, ...]

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self._opened_to_workers: Set[str] = set()
        self._alarm_sets = 0

    # --- chaining -------------------------------------------------------------------

    def open_buckets_to_workers(self, requester: IConstruct, rule: s3.CorsRule) -> None:
        """Workers of a downstream job load this job's labels: the output bucket gets ``rule``, once.

        A bucket the library did not create cannot be changed; the warning
        ``streaming-labeling:UpstreamBucketCorsNotManaged`` on ``requester`` says what to add.
        """
        open_bucket_to_workers(requester, self.output_bucket, rule, self._opened_to_workers)

    # --- grants ---------------------------------------------------------------------

    def grant_send_data(self, grantee: iam.IGrantable) -> iam.Grant:
        """Publish data objects to the input topic and upload them to the input bucket, if the job has one."""
        grant = self.input_topic.grant_publish(grantee)
        if self.input_bucket is not None:
            grant = grant.combine(self.input_bucket.grant_put(grantee))
        return grant.combine(self.encryption_key.grant(grantee, "kms:GenerateDataKey", "kms:Decrypt"))

    def grant_read_output(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read labels from the output bucket, decrypt them and subscribe to the output topic."""
        grant = self.output_bucket.grant_read(grantee)
        grant = grant.combine(self.encryption_key.grant_decrypt(grantee))
        return grant.combine(self.output_topic.grant_subscribe(grantee))

    # --- metrics --------------------------------------------------------------------

    def metric(self, metric_name: str, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """A metric of the job's ``GroundTruth-<job name>`` queue (``AWS/SQS``, ``QueueName``), e.g.
        ``"NumberOfMessagesReceived"``. Default: average over 5 minutes (CloudWatch's defaults);
        ``dimensions_map`` is added to the queue's.
        """
        settings = _merge_options({"dimensions_map": {"QueueName": queue_name(self.job_name)}}, options)
        return cloudwatch.Metric(namespace="AWS/SQS", metric_name=metric_name, **settings)

    def metric_backlog(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Data objects waiting in the job's queue. Default: maximum of visible messages over 5 minutes."""
        return self.metric("ApproximateNumberOfMessagesVisible",
                           **_merge_options({"statistic": "Maximum", "period": DEFAULT_PERIOD}, options))

    def metric_backlog_oldest_age(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Seconds the oldest waiting data object has waited. Default: maximum over 5 minutes."""
        return self.metric("ApproximateAgeOfOldestMessage",
                           **_merge_options({"statistic": "Maximum", "period": DEFAULT_PERIOD}, options))

    def metric_objects_published(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Data objects published to the input topic. Default: sum over 5 minutes."""
        return self.input_topic.metric_number_of_messages_published(
            **_merge_options({"period": DEFAULT_PERIOD, "statistic": "Sum"}, options))

    def metric_labels_published(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Labeled objects the job published to the output topic. Default: sum over 5 minutes."""
        return self.output_topic.metric_number_of_messages_published(
            **_merge_options({"period": DEFAULT_PERIOD, "statistic": "Sum"}, options))

    def metric_failed_deliveries(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Deliveries of the input topic that failed, e.g. to the job's queue. Default: sum over 5 minutes."""
        return self.input_topic.metric_number_of_notifications_failed(
            **_merge_options({"period": DEFAULT_PERIOD, "statistic": "Sum"}, options))

    # --- events ---------------------------------------------------------------------

    def _generations(self) -> list[str]:
        """The ``resources`` matcher of every generation of this job and of no other job (see subclasses)."""
        return generation_matchers([], [StackState.of(self).pseudo.arn("sagemaker", f"labeling-job/{self.job_name}")])

    def _rule(self, construct_id: str, pattern: events.EventPattern, default_description: str,
              options: Mapping[str, Any]) -> events.Rule:
        target = options.get("target")
        rule = events.Rule(
            self,
            construct_id,
            description=options.get("description") or default_description,
            event_pattern=pattern,
            rule_name=options.get("rule_name"),
            cross_stack_scope=options.get("cross_stack_scope"),
            targets=[target] if target is not None else None,
        )
        extra = options.get("event_pattern")
        if extra is not None:  # merged with the job's: aws-cdk-lib merges each field's values
            rule.add_event_pattern(**{name: getattr(extra, name) for name in _PATTERN_FIELDS
                                      if getattr(extra, name) is not None})
        return rule

    def on_state_change(
        self, construct_id: str, *, statuses: Optional[Sequence[Union[JobStatus, str]]] = None,
        **options: Unpack[OnEventOptions],
    ) -> events.Rule:
        """An EventBridge rule for this job's state changes ("SageMaker Ground Truth Labeling Job State Change").

        It matches every generation of the job (a renewal starts one under a new name) and no other job:
        the ARN prefix ``labeling-job/<job_name_prefix>-<scope>``, where ``scope`` is unique to the job's
        resource (its stack id and logical id), and the running job's own ARN. ``options`` are
        ``events.OnEventOptions``' fields (``target``,
        ``rule_name``, ``description``, ``event_pattern`` merged with the job's, ``cross_stack_scope``).

        :param statuses: only these ``LabelingJobStatus`` values. Default: every change.
        """
        return self._rule(construct_id, state_change_pattern(self._generations(), statuses),
                          "State changes of a Ground Truth streaming labeling job", options)

    def on_task_status_change(
        self, construct_id: str, *, states: Optional[Sequence[str]] = None, **options: Unpack[OnEventOptions],
    ) -> events.Rule:
        """An EventBridge rule for this job's task status changes ("... Labeling Job Task Status Change"),
        of every generation and no other job's (as ``on_state_change``); ``options`` as ``on_state_change``'s.

        :param states: only these ``detail.State`` values. Default: every change.
        """
        return self._rule(construct_id, task_status_change_pattern(self._generations(), states),
                          "Task status changes of a Ground Truth streaming labeling job", options)

    # --- alarms ---------------------------------------------------------------------

    def add_alarms(
        self,
        *,
        action: Optional[cloudwatch.IAlarmAction] = None,
        job_ended_target: Optional[events.IRuleTarget] = None,
        stalled_after: Duration = DEFAULT_STALLED_AGE,
        evaluation_periods: int = 3,
        action_topic: Optional[sns.ITopic] = None,
    ) -> JobAlarms:
        """Opt-in alarms, each with ``action`` on alarm and OK, and a rule for the job's end:

        * a stalled backlog: the oldest waiting object is older than ``stalled_after`` (default 6 hours)
          for ``evaluation_periods`` periods of 5 minutes (default 3);
        * failed deliveries: the input topic failed to deliver any object in a 5-minute period;
        * the job failed or stopped: an EventBridge rule on the job's state changes to Failed or Stopped,
          and an alarm on that rule's ``TriggeredRules`` metric (``AWS/Events``, per rule: AWS counts the
          rule's matches whatever its targets), so ``action`` hears of it too; the rule also sends the
          event itself to ``job_ended_target``, if given.

        Callable more than once (for example an SNS action and a Lambda action): the first set is
        ``Alarms``, the next ``Alarms2``, ...

        :param action: any ``cloudwatch.IAlarmAction``, e.g. ``cloudwatch_actions.SnsAction(topic)`` or
            ``cloudwatch_actions.LambdaAction(function)``.
        :param job_ended_target: an EventBridge target for the state-change events themselves (for
            example ``targets.SnsTopic(topic)``, which carries the job's name and FailureReason sooner
            than the alarm). Default: none, the alarm alone.
        :param action_topic: deprecated, use ``action=SnsAction(topic), job_ended_target=SnsTopic(topic)``.
        """
        if action_topic is not None:
            warnings.warn("add_alarms(action_topic=...) is deprecated; use action=cloudwatch_actions.SnsAction(topic)",
                          DeprecationWarning, stacklevel=2)
            action = action or cloudwatch_actions.SnsAction(action_topic)
            job_ended_target = job_ended_target or targets.SnsTopic(action_topic)
        if action is None:
            raise TypeError("add_alarms: action is required: one cloudwatch.IAlarmAction, for example "
                            "cloudwatch_actions.SnsAction(topic) or cloudwatch_actions.LambdaAction(function)")
        if not callable(getattr(action, "bind", None)):
            raise TypeError(f"add_alarms: action must be a cloudwatch.IAlarmAction (for example "
                            f"cloudwatch_actions.SnsAction(topic)), not {type(action).__name__} {action!r}")
        if job_ended_target is not None and not callable(getattr(job_ended_target, "bind", None)):
            raise TypeError(f"add_alarms: job_ended_target must be an events.IRuleTarget (for example "
                            f"targets.SnsTopic(topic)), not {type(job_ended_target).__name__} {job_ended_target!r}")
        self._alarm_sets += 1
        scope_id = "Alarms" if self._alarm_sets == 1 else f"Alarms{self._alarm_sets}"
        return build_alarms(
            Construct(self, scope_id),
            oldest_age=self.metric_backlog_oldest_age(),
            failed_deliveries=self.metric_failed_deliveries(),
            resources=self._generations(),
            action=action,
            job_ended_target=job_ended_target,
            stalled_after=stalled_after,
            evaluation_periods=evaluation_periods,
        )


_GENERATED_NAME = re.compile(r"^(?P<prefix>[a-z0-9][a-z0-9-]*)-(?P<scope>[0-9a-f]{6})[0-9a-f]{6}$")


class ImportedStreamingLabelingJob(StreamingLabelingJobBase):
    """A job deployed by another app or stack; see ``StreamingLabelingJob.from_job_attributes``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        job_name: str,
        input_topic: sns.ITopic,
        output_topic: sns.ITopic,
        output_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        input_bucket: Optional[s3.IBucket] = None,
        task_type: Optional[TaskType] = None,
        labels: Sequence[str] = (),
        label_attribute_name: Optional[str] = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.job_name = job_name
        generated = None if Token.is_unresolved(job_name) else _GENERATED_NAME.match(job_name)
        #: ``<prefix>`` of a library-generated name ``<prefix>-<12 hex>``: rules follow every generation.
        self.job_name_prefix = generated.group("prefix") if generated else None
        self.job_arn = StackState.of(self).pseudo.arn("sagemaker", f"labeling-job/{job_name}")
        self.input_topic = input_topic
        self.output_topic = output_topic
        self.input_bucket = input_bucket
        self.output_bucket = output_bucket
        self.encryption_key = encryption_key
        self.task_type = task_type
        self.labels = tuple(labels)
        self.label_attribute_name = label_attribute_name
        #: ``<prefix>-<scope>`` of a generated name: what the names of every generation of its resource start with.
        self._generation_prefix = f"{generated.group('prefix')}-{generated.group('scope')}" if generated else None

    def _generations(self) -> list[str]:
        """The given job, and (a generated name) every generation of its resource: ``<prefix>-<scope>...``.

        A name of a version before protocol 3 has no scope: its prefix match finds that job alone, and
        its successors are matched once it is imported by a successor's name.
        """
        pseudo = StackState.of(self).pseudo
        own = [pseudo.arn("sagemaker", f"labeling-job/{self.job_name}")]
        if self._generation_prefix is None:
            return generation_matchers([], own)
        return generation_matchers([pseudo.arn("sagemaker", f"labeling-job/{self._generation_prefix}")], own)

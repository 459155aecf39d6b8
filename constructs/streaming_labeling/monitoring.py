"""Events, metrics and alarms of a running streaming job.

Events (``source: aws.sagemaker``), as AWS documents them:

* "SageMaker Ground Truth Labeling Job State Change", ``resources`` = the job's ARN,
  ``detail.LabelingJobStatus`` (SageMaker Developer Guide, "Monitor labeling job status",
  sms-monitor-cloud-watch; the EventBridge event reference lists it for SageMaker).
* "SageMaker Ground Truth Labeling Job Task Status Change", with ``detail.State``,
  ``detail.labeling-job-arn`` and ``detail.workteam-team-arn`` (EventBridge event reference;
  field names from the schema-generated patterns aws-cdk publishes in its mixins-preview
  events module, ``SageMakerGroundTruthLabelingJobTaskStatusChange``).

Metrics: the backlog is the service-owned SQS queue ``GroundTruth-<job name>`` (``AWS/SQS``,
``QueueName``), objects and labels are the two topics' ``AWS/SNS`` metrics. Ground Truth's own
job metrics (``TotalDatasetObjectsLabeled``, ``DatasetObjectsLabelingFailed``, ...) have a
documented ``LabelingJobName`` dimension but no documented namespace (third-party lists say
``AWS/SageMaker`` or ``AWS/Sagemaker/LabelingJobs``), so none is offered here; worker
metrics are in ``AWS/SageMaker/Workteam`` per worker (Developer Guide, workteam-private-tracking).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Union

from aws_cdk import Duration, Fn
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from constructs import Construct

from .conventions import QUEUE_PREFIX

EVENT_SOURCE = "aws.sagemaker"
STATE_CHANGE = "SageMaker Ground Truth Labeling Job State Change"
TASK_STATUS_CHANGE = "SageMaker Ground Truth Labeling Job Task Status Change"

#: Alarm defaults, documented on ``add_alarms``.
DEFAULT_STALLED_AGE = Duration.hours(6)
DEFAULT_PERIOD = Duration.minutes(5)


class JobStatus(enum.Enum):
    """``LabelingJobStatus`` values (botocore's SageMaker model)."""

    INITIALIZING = "Initializing"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"


def generation_matchers(arn_prefixes: Sequence[str], arns: Sequence[str] = ()) -> List[str]:
    """An EventBridge field matcher for a job's generations: ARNs starting with one of ``arn_prefixes``
    (``labeling-job/<prefix>-<scope>``, the part every generation of one resource shares and no other
    resource's does), or equal to one of ``arns`` (the running job, which may be named as versions
    before protocol 3 named jobs)."""
    matchers = [events.Match.prefix(prefix) for prefix in arn_prefixes] + [
        events.Match.exact_string(arn) for arn in arns]
    return matchers[0] if len(matchers) == 1 else events.Match.any_of(*matchers)


def state_change_pattern(
    resources: Sequence[str], statuses: Optional[Sequence[Union[JobStatus, str]]] = None
) -> events.EventPattern:
    """``resources``: ``generation_matchers``; ``statuses`` as ``JobStatus`` members or their values ("Failed", ...)."""
    values = [JobStatus(status).value for status in statuses] if statuses else None
    detail = {"LabelingJobStatus": values} if values else None
    return events.EventPattern(source=[EVENT_SOURCE], detail_type=[STATE_CHANGE],
                               resources=list(resources), detail=detail)


def task_status_change_pattern(resources: Sequence[str], states: Optional[Sequence[str]] = None) -> events.EventPattern:
    detail: Dict[str, Any] = {"labeling-job-arn": list(resources)}
    if states:
        detail["State"] = list(states)
    return events.EventPattern(source=[EVENT_SOURCE], detail_type=[TASK_STATUS_CHANGE], detail=detail)


def queue_name(job_name: str) -> str:
    """``GroundTruth-<job name>``; the library's job names are lowercase already."""
    return Fn.join("", [QUEUE_PREFIX, job_name])


def backlog_metric(job_name: str, metric_name: str, statistic: str, period: Duration) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/SQS",
        metric_name=metric_name,
        dimensions_map={"QueueName": queue_name(job_name)},
        statistic=statistic,
        period=period,
    )


@dataclass(frozen=True)
class JobAlarms:
    """What ``add_alarms`` built."""

    stalled_backlog: cloudwatch.Alarm
    failed_deliveries: cloudwatch.Alarm
    #: The job's generations failing or stopping: an EventBridge rule with no target of its own unless
    #: ``job_ended_target`` was given.
    job_ended: events.Rule
    #: In alarm when ``job_ended`` matched an event (``AWS/Events`` ``TriggeredRules``, per rule).
    job_ended_alarm: cloudwatch.Alarm

    @property
    def alarms(self) -> List[cloudwatch.Alarm]:
        return [self.stalled_backlog, self.failed_deliveries, self.job_ended_alarm]


def build_alarms(
    scope: Construct,
    *,
    oldest_age: cloudwatch.Metric,
    failed_deliveries: cloudwatch.Metric,
    resources: Sequence[str],
    action: cloudwatch.IAlarmAction,
    job_ended_target: Optional[events.IRuleTarget],
    stalled_after: Duration,
    evaluation_periods: int,
) -> JobAlarms:
    """The alarms of one job, each with ``action``; the job-ended rule also sends to ``job_ended_target``."""
    stalled = cloudwatch.Alarm(
        scope,
        "StalledBacklogAlarm",
        alarm_description=(
            f"The oldest object waiting for this labeling job has waited over {stalled_after.to_human_string()}: "
            "workers are not taking tasks, or the job stopped. A renewal points this alarm at the new "
            "generation's queue."
        ),
        metric=oldest_age,
        threshold=stalled_after.to_seconds(),
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=evaluation_periods,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    failed = cloudwatch.Alarm(
        scope,
        "FailedDeliveriesAlarm",
        alarm_description="The input topic failed to deliver data objects to the job's queue.",
        metric=failed_deliveries,
        threshold=0,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    ended = events.Rule(
        scope,
        "JobEndedRule",
        description="A generation of the labeling job failed or stopped (an idle stop is renewed, unless turned off).",
        event_pattern=state_change_pattern(resources, [JobStatus.FAILED, JobStatus.STOPPED]),
        targets=[job_ended_target] if job_ended_target is not None else None,
    )
    ended_alarm = cloudwatch.Alarm(
        scope,
        "JobEndedAlarm",
        alarm_description=("A generation of the labeling job failed or stopped (the job-ended rule matched a state "
                           "change to Failed or Stopped). An idle stop is renewed unless renewal is turned off."),
        metric=cloudwatch.Metric(namespace="AWS/Events", metric_name="TriggeredRules",
                                 dimensions_map={"RuleName": ended.rule_name}, statistic="Sum",
                                 period=DEFAULT_PERIOD),
        threshold=0,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    for alarm in (stalled, failed, ended_alarm):
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
    return JobAlarms(stalled_backlog=stalled, failed_deliveries=failed, job_ended=ended, job_ended_alarm=ended_alarm)

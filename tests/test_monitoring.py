"""Events, metrics and alarms of a job, as the template shows them."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import aws_cdk as cdk
from aws_cdk import assertions
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

from streaming_labeling import JobStatus, StreamingLabelingJob, TaskType
from streaming_labeling.encryption import account_key_policy

from . import apps


def monitored_stack(app: cdk.App, *, alarms: bool = True) -> cdk.Stack:
    stack = cdk.Stack(app, "Monitored")
    job = StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.IMAGE_MULTI_CLASS))
    if alarms:
        key = kms.Key(stack, "AlarmsKey", enable_key_rotation=True, policy=account_key_policy())
        topic = sns.Topic(stack, "Alarms", master_key=key, enforce_ssl=True)
        job.add_alarms(action_topic=topic)
        job.on_state_change("Completed", statuses=[JobStatus.COMPLETED, "Stopped"])
        job.on_task_status_change("Tasks")
        cloudwatch.Dashboard(stack, "Dashboard", widgets=[[cloudwatch.GraphWidget(left=[
            job.metric_backlog(), job.metric_objects_published(), job.metric_labels_published()])]])
    return stack


def template(alarms: bool = True) -> Dict[str, Any]:
    return assertions.Template.from_stack(monitored_stack(apps.new_app(), alarms=alarms)).to_json()


def every_generation() -> List[Dict[str, Any]]:
    """EventBridge's prefix match on the ARNs of every generation of the job (a renewal makes a new name)."""
    return [{"prefix": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":sagemaker:", {"Ref": "AWS::Region"},
                                          ":", {"Ref": "AWS::AccountId"}, ":labeling-job/job-"]]}}]


def test_nothing_is_created_unless_asked() -> None:
    t = template(alarms=False)
    assert not apps.resources_of_type(t, "AWS::CloudWatch::Alarm")
    # Only the stack's renewal rule (renew_after_idle_stop is on by default), which the handler owns.
    assert [name[:38] for name in apps.resources_of_type(t, "AWS::Events::Rule")] == [
        "StreamingLabelingJobHandlerRenewalRule"]


def test_state_change_rules_match_this_job_only() -> None:
    t = template()
    rules = apps.resources_of_type(t, "AWS::Events::Rule")
    completed = next(r for name, r in rules.items() if name.startswith("JobCompleted"))["Properties"]["EventPattern"]
    assert completed == {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Ground Truth Labeling Job State Change"],
                         "resources": every_generation(), "detail": {"LabelingJobStatus": ["Completed", "Stopped"]}}
    tasks = next(r for name, r in rules.items() if name.startswith("JobTasks"))["Properties"]["EventPattern"]
    assert tasks == {"source": ["aws.sagemaker"],
                     "detail-type": ["SageMaker Ground Truth Labeling Job Task Status Change"],
                     "detail": {"labeling-job-arn": every_generation()}}


def test_alarms_watch_the_ground_truth_queue_and_the_input_topic_and_notify_the_topic() -> None:
    t = template()
    alarms = apps.resources_of_type(t, "AWS::CloudWatch::Alarm")
    stalled = next(a for name, a in alarms.items() if "Stalled" in name)["Properties"]
    assert stalled["Namespace"] == "AWS/SQS" and stalled["MetricName"] == "ApproximateAgeOfOldestMessage"
    logical = next(iter(apps.resources_of_type(t, "Custom::SageMakerStreamingLabelingJob")))
    assert stalled["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::Join": ["", [
        "GroundTruth-", {"Fn::GetAtt": [logical, "JobName"]}]]}}]
    assert stalled["Threshold"] == 6 * 3600 and stalled["EvaluationPeriods"] == 3
    failed = next(a for name, a in alarms.items() if "FailedDeliveries" in name)["Properties"]
    assert failed["Namespace"] == "AWS/SNS" and failed["MetricName"] == "NumberOfNotificationsFailed"
    topic = {"Ref": next(iter(apps.resources_of_type(t, "AWS::SNS::Topic", "Alarms")))}
    for alarm in (stalled, failed):
        assert alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic]
    ended = next(r for name, r in apps.resources_of_type(t, "AWS::Events::Rule").items() if "JobEnded" in name)
    assert ended["Properties"]["EventPattern"]["detail"] == {"LabelingJobStatus": ["Failed", "Stopped"]}
    assert ended["Properties"]["Targets"][0]["Arn"] == topic


def test_the_dashboard_metrics_render() -> None:
    body = json.dumps(next(iter(apps.resources_of_type(template(), "AWS::CloudWatch::Dashboard").values())))
    assert "ApproximateNumberOfMessagesVisible" in body and "NumberOfMessagesPublished" in body

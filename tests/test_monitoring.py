"""Events, metrics and alarms of a job, as the template shows them."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import aws_cdk as cdk
import pytest
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


def every_generation(t: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Every generation of the job and no other: the ARN prefix with the resource's scope, which the handler
    answers (``GenerationArnPrefix``), and the running job's ARN (a job named before protocol 3 has no scope)."""
    logical = next(iter(apps.resources_of_type(t, "Custom::SageMakerStreamingLabelingJob")))
    return [{"prefix": {"Fn::GetAtt": [logical, "GenerationArnPrefix"]}}, {"Fn::GetAtt": [logical, "JobArn"]}]


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
                         "resources": every_generation(t), "detail": {"LabelingJobStatus": ["Completed", "Stopped"]}}
    tasks = next(r for name, r in rules.items() if name.startswith("JobTasks"))["Properties"]["EventPattern"]
    assert tasks == {"source": ["aws.sagemaker"],
                     "detail-type": ["SageMaker Ground Truth Labeling Job Task Status Change"],
                     "detail": {"labeling-job-arn": every_generation(t)}}


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


def alarm_stack(action: str, outdir: Any) -> Dict[str, Any]:
    """A job whose alarms take one alarm action only (SNS or Lambda), synthesized with cdk-nag attached."""
    from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
    from aws_cdk import aws_lambda as lambda_
    from cdk_nag import AwsSolutionsChecks

    app = cdk.App(context=apps.cdk_context(), outdir=str(outdir))
    stack = cdk.Stack(app, "OneAction")
    job = StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.IMAGE_MULTI_CLASS))
    if action == "sns":
        key = kms.Key(stack, "AlarmsKey", enable_key_rotation=True, policy=account_key_policy())
        alarm_action: Any = cloudwatch_actions.SnsAction(sns.Topic(stack, "Alarms", master_key=key, enforce_ssl=True))
    else:
        pager = lambda_.Function.from_function_arn(stack, "Pager", "arn:aws:lambda:us-east-1:111122223333:function:pager")
        alarm_action = cloudwatch_actions.LambdaAction(pager)
    job.add_alarms(action=alarm_action)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()  # raises ValidationFailed on any unacknowledged finding
    return json.loads((outdir / "OneAction.template.json").read_text())


@pytest.mark.parametrize("action", ["sns", "lambda"])
def test_add_alarms_with_one_alarm_action_covers_the_job_ended_rule(action: str, tmp_path: Any) -> None:
    from .cfn import cfn_lint_findings

    t = alarm_stack(action, tmp_path)
    assert cfn_lint_findings(t) == []
    alarms = apps.resources_of_type(t, "AWS::CloudWatch::Alarm")
    assert len(alarms) == 3
    actions = {json.dumps(a["Properties"]["AlarmActions"]) for a in alarms.values()}
    assert len(actions) == 1, "every alarm, the job-ended one included, takes the one action"
    (ended_rule_id, ended_rule), = [(k, r) for k, r in apps.resources_of_type(t, "AWS::Events::Rule").items()
                                    if "JobEnded" in k]
    assert "Targets" not in ended_rule["Properties"], "no EventBridge target unless job_ended_target is given"
    ended = next(a for name, a in alarms.items() if "JobEnded" in name)["Properties"]
    assert (ended["Namespace"], ended["MetricName"], ended["Statistic"]) == ("AWS/Events", "TriggeredRules", "Sum")
    assert ended["Dimensions"] == [{"Name": "RuleName", "Value": {"Ref": ended_rule_id}}]
    assert ended["Threshold"] == 0 and ended["ComparisonOperator"] == "GreaterThanThreshold"


@pytest.mark.parametrize("wrong, words", [
    (None, "action is required"),
    ("arn:aws:sns:us-east-1:111122223333:alerts", "must be a cloudwatch.IAlarmAction"),
])
def test_add_alarms_names_a_wrong_action(wrong: Any, words: str) -> None:
    stack = cdk.Stack(apps.new_app(), "Wrong")
    job = StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.IMAGE_MULTI_CLASS))
    with pytest.raises(TypeError, match=words):
        job.add_alarms(action=wrong)

"""A job deployed by another app, imported with ``from_job_attributes``: chained to, granted, alarmed.

The platform team's app runs the labeling job; a second app (this one) imports it, chains an
adjustment job to it (``input_from``), lets a consumer read its labels and adds two sets of
alarms, one with an SNS action and one with a Lambda action. The template is nag- and cfn-lint-clean.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import aws_cdk as cdk
import pytest
from aws_cdk import Acknowledgment, Validations, assertions
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from streaming_labeling import IStreamingLabelingJob, StreamingLabelingJob, TaskType, Workforce
from streaming_labeling.encryption import account_key_policy
from streaming_labeling.validation import PropsError

from . import apps
from .cfn import cfn_lint_findings
from .test_compliance import nag_findings

ACCOUNT, REGION = "111122223333", "us-east-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)
UPSTREAM_NAME = "vehicles-0123456789ab"
UPSTREAM_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
UPSTREAM_OUTPUT_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:platform-vehicles-output"


def imported(stack: cdk.Stack, **overrides: Any) -> IStreamingLabelingJob:
    attributes: Dict[str, Any] = dict(
        job_name=UPSTREAM_NAME,
        input_topic=sns.Topic.from_topic_arn(stack, "UpIn", f"arn:aws:sns:{REGION}:{ACCOUNT}:platform-vehicles-input"),
        output_topic=sns.Topic.from_topic_arn(stack, "UpOut", UPSTREAM_OUTPUT_TOPIC),
        input_bucket=s3.Bucket.from_bucket_name(stack, "UpInBucket", "platform-vehicles-input"),
        output_bucket=s3.Bucket.from_bucket_name(stack, "UpOutBucket", "platform-vehicles-output"),
        encryption_key=kms.Key.from_key_arn(stack, "UpKey", UPSTREAM_KEY),
        task_type=TaskType.BOUNDING_BOX,
        labels=["car", "truck", "bicycle"],
        label_attribute_name="vehicles",
    )
    attributes.update(overrides)
    return StreamingLabelingJob.from_job_attributes(stack, "Vehicles", **attributes)


class ConsumerApp:
    """The second app's stack, remembered for the assertions."""

    stack: cdk.Stack
    upstream: IStreamingLabelingJob
    review: StreamingLabelingJob

    def build(self, app: cdk.App) -> None:
        stack = self.stack = cdk.Stack(app, "Consumer", env=ENV)
        upstream = self.upstream = imported(stack)
        self.review = StreamingLabelingJob(
            stack, "VehicleReview", task_type=TaskType.ADJUSTMENT_BOUNDING_BOX, input_from=upstream,
            workforce=Workforce.private(apps.WORKTEAM), task_title="Adjust the boxes", task_description="One per vehicle",
        )
        consumer = iam.Role(stack, "LabelReader", assumed_by=iam.AccountRootPrincipal())
        upstream.grant_read_output(consumer)  # type: ignore[attr-defined]
        bucket = "arn:aws:s3:::platform-vehicles-output"  # an env-specific stack: the partition is known
        Validations.of(consumer).acknowledge(*[
            Acknowledgment(id=finding, reason="The consumer reads the labels of the imported job's output bucket")
            for finding in (
                "AwsSolutions-IAM5[Action::s3:GetObject*]", "AwsSolutions-IAM5[Action::s3:GetBucket*]",
                "AwsSolutions-IAM5[Action::s3:List*]", f"AwsSolutions-IAM5[Resource::{bucket}/*]",
                "NIST.800.53.R5-IAMNoInlinePolicy",
            )
        ])
        key = kms.Key(stack, "AlertsKey", enable_key_rotation=True, policy=account_key_policy())
        topic = sns.Topic(stack, "Alerts", master_key=key, enforce_ssl=True)
        pager = lambda_.Function.from_function_arn(stack, "Pager", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pager")
        upstream.add_alarms(  # type: ignore[attr-defined]
            action=cloudwatch_actions.SnsAction(topic), job_ended_target=targets.SnsTopic(topic))
        upstream.add_alarms(  # type: ignore[attr-defined]
            action=cloudwatch_actions.LambdaAction(pager), job_ended_target=targets.LambdaFunction(pager))


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> tuple[ConsumerApp, List[Dict[str, Any]], Dict[str, Any]]:
    built = ConsumerApp()
    findings, templates = nag_findings(built.build, Path(tmp_path_factory.mktemp("imported")), apps.cdk_context())
    (template,) = templates
    return built, findings, template


def test_the_second_app_is_nag_and_cfn_lint_clean(consumer: Any) -> None:
    _, findings, template = consumer
    assert findings == []
    assert cfn_lint_findings(template) == []


def test_the_chained_job_subscribes_to_the_imported_topic_and_reads_and_decrypts_its_objects(consumer: Any) -> None:
    _, _, template = consumer
    job = apps.only_resource(template, "Custom::SageMakerStreamingLabelingJob", "VehicleReview")["Properties"]
    assert job["Request"]["InputConfig"]["DataSource"]["SnsDataSource"]["SnsTopicArn"] == UPSTREAM_OUTPUT_TOPIC
    assert json.loads(job["LabelCategoryConfig"])["labels"] == [{"label": "car"}, {"label": "truck"},
                                                                {"label": "bicycle"}]
    assert "vehicles" in job["UiTemplate"], "the reviewed label attribute comes from the imported job"
    statements = {s["Sid"]: s for s in apps.policy_statements(template, "VehicleReviewExecutionPolicy")}
    objects = json.dumps(statements["ReadUpstreamObjects"]["Resource"])
    assert ":::platform-vehicles-input/*" in objects and ":::platform-vehicles-output/labels/*" in objects
    assert statements["UseUpstreamKey"]["Resource"] == UPSTREAM_KEY


def test_the_imported_bucket_cors_is_a_warning_on_the_chained_job(consumer: Any) -> None:
    built, _, _ = consumer
    warnings = assertions.Annotations.from_stack(built.stack).find_warning(
        "/Consumer/VehicleReview", assertions.Match.string_like_regexp("UpstreamBucketCorsNotManaged"))
    assert len(warnings) == 1, warnings


def test_the_consumer_may_read_decrypt_and_subscribe(consumer: Any) -> None:
    _, _, template = consumer
    statements = apps.policy_statements(template, "LabelReaderDefaultPolicy")
    by_action = {action: s["Resource"] for s in statements
                 for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert by_action["sns:Subscribe"] == UPSTREAM_OUTPUT_TOPIC
    assert by_action["kms:Decrypt"] == UPSTREAM_KEY
    assert "platform-vehicles-output" in json.dumps(by_action["s3:GetObject*"])


def test_both_alarm_sets_watch_the_imported_job_with_their_own_actions(consumer: Any) -> None:
    _, _, template = consumer
    alarms = apps.resources_of_type(template, "AWS::CloudWatch::Alarm", "Vehicles")
    assert len(alarms) == 6 and sum(name.startswith("VehiclesAlarms2") for name in alarms) == 3, list(alarms)
    queues = {json.dumps(a["Properties"].get("Dimensions")) for a in alarms.values() if a["Properties"]["Namespace"] == "AWS/SQS"}
    assert queues == {json.dumps([{"Name": "QueueName", "Value": f"GroundTruth-{UPSTREAM_NAME}"}])}
    actions = [json.dumps(a["Properties"]["AlarmActions"]) for a in alarms.values()]
    assert sum('"Ref": "Alerts' in a for a in actions) == 3 and sum(":function:pager" in a for a in actions) == 3
    rules = apps.resources_of_type(template, "AWS::Events::Rule", "Vehicles")
    assert len(rules) == 2
    for rule in rules.values():  # every generation of the imported job: its name's scoped prefix, and the job
        (prefix, own) = rule["Properties"]["EventPattern"]["resources"]
        assert prefix["prefix"]["Fn::Join"][1][-1] == f":labeling-job/{UPSTREAM_NAME[:-6]}", prefix
        assert own["Fn::Join"][1][-1] == f":labeling-job/{UPSTREAM_NAME}", own


def _review(upstream_overrides: Dict[str, Any], **job: Any) -> None:
    stack = cdk.Stack(apps.new_app(), "Consumer", env=ENV)
    props: Dict[str, Any] = dict(task_type=TaskType.ADJUSTMENT_BOUNDING_BOX, workforce=Workforce.private(apps.WORKTEAM),
                                 task_title="Adjust", task_description="Adjust")
    props.update(job)
    StreamingLabelingJob(stack, "Review", input_from=imported(stack, **upstream_overrides), **props)
    assertions.Template.from_stack(stack)


@pytest.mark.parametrize(("upstream", "job", "message"), [
    ({"label_attribute_name": None}, {},
     "input_from: the imported job Consumer/Vehicles was given no label_attribute_name"),
    ({"labels": ()}, {}, "input_from: the imported job Consumer/Vehicles was given no labels"),
    ({"task_type": None}, {}, "input_from: the imported job Consumer/Vehicles was given no task_type"),
    ({"task_type": None}, {"task_type": TaskType.BOUNDING_BOX, "labels": ["car"]},
     "was given no task_type; pass task_type= to from_job_attributes"),
    ({"task_type": TaskType.TEXT_MULTI_CLASS}, {},
     "input_from: task type ADJUSTMENT_BOUNDING_BOX reviews the labels of BOUNDING_BOX"),
])
def test_what_cannot_be_done_with_an_imported_job_is_an_error_naming_it(
    upstream: Dict[str, Any], job: Dict[str, Any], message: str
) -> None:
    with pytest.raises(PropsError, match=message):
        _review(upstream, **job)


@pytest.mark.parametrize(("upstream", "job"), [
    ({"label_attribute_name": None}, {"source_label_attribute_name": "vehicles"}),
    ({"labels": ()}, {"labels": ["car"]}),
])
def test_what_the_import_lacks_can_be_given_to_the_chained_job(upstream: Dict[str, Any], job: Dict[str, Any]) -> None:
    _review(upstream, **job)


def test_grants_metrics_and_rules_work_on_an_imported_job_without_a_generated_name() -> None:
    stack = cdk.Stack(apps.new_app(), "Consumer", env=ENV)
    job = imported(stack, job_name="hand-made-job")
    assert job.job_name_prefix is None
    rule = job.on_state_change("Changes", rule_name="vehicle-changes", event_pattern=None)  # type: ignore[attr-defined]
    metric: Optional[Any] = job.metric_backlog(label="Backlog", color="#ff0000")  # type: ignore[attr-defined]
    assert metric is not None and metric.label == "Backlog" and metric.color == "#ff0000"
    template = assertions.Template.from_stack(stack).to_json()
    (resource,) = apps.resources_of_type(template, "AWS::Events::Rule").values()
    assert resource["Properties"]["Name"] == "vehicle-changes"
    assert "labeling-job/hand-made-job" in json.dumps(resource["Properties"]["EventPattern"])
    assert rule is not None

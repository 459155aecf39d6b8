"""Chained jobs (``input_from``), as AWS's chained streaming labeling job example wires them."""

from __future__ import annotations

import json
from typing import Any, Dict

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from streaming_labeling import StreamingLabelingJob, TaskType
from streaming_labeling.encryption import account_key_policy
from streaming_labeling.validation import PropsError

from . import apps

resource = apps.only_resource


def statements(template: Dict[str, Any], prefix: str) -> Dict[str, Any]:
    policy = resource(template, "AWS::IAM::ManagedPolicy", prefix)
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_the_example_pipeline_gives_the_second_job_what_the_chained_example_needs() -> None:
    from stacks.example_stack import ExampleLabelingStack

    stack = ExampleLabelingStack(apps.new_app(), "Pipeline")
    template = assertions.Template.from_stack(stack).to_json()
    review = resource(template, "Custom::SageMakerStreamingLabelingJob", "VehicleReview")["Properties"]
    upstream_topic = {"Ref": next(iter(apps.resources_of_type(template, "AWS::SNS::Topic", "VehiclesOutputTopic")))}
    assert review["Request"]["InputConfig"]["DataSource"]["SnsDataSource"]["SnsTopicArn"] == upstream_topic
    assert not apps.resources_of_type(template, "AWS::SNS::Topic", "VehicleReviewInputTopic"), "no topic of its own"
    assert not apps.resources_of_type(template, "AWS::S3::Bucket", "VehicleReviewInputBucket"), "no input bucket"
    label_file = json.loads(review["LabelCategoryConfig"])
    assert [entry["label"] for entry in label_file["labels"]] == ["car", "truck", "bicycle"]
    assert "task.input.manifestLine['vehicles']" in review["UiTemplate"], "reviews the first job's attribute"
    assert review["Request"]["LabelAttributeName"] == "vehiclereview"

    granted = statements(template, "VehicleReviewExecutionPolicy")
    assert granted["SubscribeQueueToInputTopic"]["Resource"] == upstream_topic
    readable = json.dumps(granted["ReadUpstreamObjects"]["Resource"])
    assert "VehiclesInputBucket" in readable and "VehiclesOutputBucket" in readable and "/labels/*" in readable
    assert "VehiclesKey" in json.dumps(granted["UseUpstreamKey"]["Resource"])
    cors = resource(template, "AWS::S3::Bucket", "VehiclesOutputBucket")["Properties"]["CorsConfiguration"]
    assert {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "ExposedHeaders": ["Access-Control-Allow-Origin"]} in (
        cors["CorsRules"]), "workers' browsers may load the first job's labels"


def test_jobs_chained_across_stacks_of_one_app_synthesize() -> None:
    app = apps.new_app()
    first = cdk.Stack(app, "Boxes")
    second = cdk.Stack(app, "Review")
    boxes = StreamingLabelingJob(first, "Boxes", **apps.job_kwargs(TaskType.BOUNDING_BOX))
    StreamingLabelingJob(second, "Review", task_type=TaskType.VERIFICATION_BOUNDING_BOX, input_from=boxes,
                         workforce=boxes.workforce, task_title="Are the boxes right?", task_description="Check")
    review = assertions.Template.from_stack(second).to_json()
    job = resource(review, "Custom::SageMakerStreamingLabelingJob", "Review")["Properties"]
    reference = json.dumps(job["Request"]["InputConfig"])
    assert "BoxesOutputTopic" in reference and ("Fn::GetStackOutput" in reference or "Fn::ImportValue" in reference)
    from .cfn import cfn_lint_findings

    for template in (assertions.Template.from_stack(first).to_json(), review):
        assert cfn_lint_findings(template) == []
    assert json.loads(job["LabelCategoryConfig"])["labels"] == [{"label": "label0"}, {"label": "label1"},
                                                                {"label": "label2"}]


def test_chaining_from_shared_and_imported_resources_works_and_says_what_it_cannot_do() -> None:
    stack = cdk.Stack(apps.new_app(), "Shared")
    key = kms.Key(stack, "Key", enable_key_rotation=True, policy=account_key_policy())
    boxes = StreamingLabelingJob(
        stack, "Boxes", **apps.job_kwargs(TaskType.BOUNDING_BOX), existing_encryption_key=key,
        existing_input_bucket=s3.Bucket.from_bucket_name(stack, "In", "my-images"),
        existing_output_bucket=s3.Bucket.from_bucket_name(stack, "Out", "my-labels"),
        existing_role=iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::111122223333:role/gt"),
    )
    review = StreamingLabelingJob(stack, "Review", task_type=TaskType.ADJUSTMENT_BOUNDING_BOX, input_from=boxes,
                                  workforce=boxes.workforce, task_title="Fix the boxes", task_description="Fix",
                                  existing_encryption_key=key)
    template = assertions.Template.from_stack(stack).to_json()
    granted = statements(template, "ReviewExecutionPolicy")
    assert "UseUpstreamKey" not in granted, "the key is shared: its own statement covers it"
    assert "my-images" in json.dumps(granted["ReadUpstreamObjects"]) and "my-labels" in json.dumps(
        granted["ReadUpstreamObjects"])
    warnings = assertions.Annotations.from_stack(stack).find_warning("*", assertions.Match.any_value())
    assert [w.id for w in warnings if "UpstreamBucketCorsNotManaged" in str(w.entry.data)] == [
        "/" + review.node.path]


@pytest.mark.parametrize(
    "downstream,upstream,fragment",
    [
        (TaskType.ADJUSTMENT_BOUNDING_BOX, TaskType.TEXT_MULTI_CLASS,
         "input_from: task type ADJUSTMENT_BOUNDING_BOX reviews the labels of BOUNDING_BOX or ADJUSTMENT_BOUNDING_BOX"),
        (TaskType.VERIFICATION_SEMANTIC_SEGMENTATION, TaskType.BOUNDING_BOX,
         "reviews the labels of SEMANTIC_SEGMENTATION or ADJUSTMENT_SEMANTIC_SEGMENTATION jobs; the upstream job is "
         "BOUNDING_BOX"),
        (TaskType.TEXT_MULTI_CLASS, TaskType.BOUNDING_BOX, "labels text objects; the upstream job (BOUNDING_BOX) "
         "passes on image objects"),
    ],
    ids=["boxes from text", "mask review from boxes", "text from images"],
)
def test_a_pairing_aws_does_not_support_is_an_error(downstream: TaskType, upstream: TaskType, fragment: str) -> None:
    app = apps.new_app()
    stack = cdk.Stack(app, "Pairing")
    first = StreamingLabelingJob(stack, "First", **apps.job_kwargs(upstream))
    with pytest.raises(PropsError) as raised:
        StreamingLabelingJob(stack, "Second", **apps.job_kwargs(downstream, labels=["a", "b"]), input_from=first)
    assert fragment in str(raised.value)


def test_input_from_excludes_an_input_topic_of_its_own() -> None:
    app = apps.new_app()
    stack = cdk.Stack(app, "Exclusive")
    first = StreamingLabelingJob(stack, "First", **apps.job_kwargs(TaskType.BOUNDING_BOX))
    with pytest.raises(PropsError, match="input_from: the job's input topic is the upstream job's output topic"):
        StreamingLabelingJob(stack, "Second", **apps.job_kwargs(TaskType.ADJUSTMENT_BOUNDING_BOX), input_from=first,
                             input_topic_props=sns.TopicProps())


def test_a_chained_job_asked_for_an_input_bucket_gets_one_without_upload_wiring() -> None:
    app = apps.new_app()
    stack = cdk.Stack(app, "ChainedBucket")
    first = StreamingLabelingJob(stack, "First", **apps.job_kwargs(TaskType.BOUNDING_BOX))
    second = StreamingLabelingJob(stack, "Second", **apps.job_kwargs(TaskType.ADJUSTMENT_BOUNDING_BOX),
                                  input_from=first, create_input_bucket=True)
    template = assertions.Template.from_stack(stack).to_json()
    assert second.input_bucket is not None and not second.uploads_published_to_input_topic
    assert not apps.resources_of_type(template, "Custom::S3BucketNotifications", under="SecondInputBucket")

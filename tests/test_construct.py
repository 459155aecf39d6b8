"""What StreamingLabelingJob synthesizes: resources, wiring, dependencies, bring-your-own paths."""

from __future__ import annotations

import json
from typing import Any, Dict

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_iam as iam

from streaming_labeling import StreamingLabelingJob, TaskType
from streaming_labeling.task_types import BUILT_IN_LAMBDA_ACCOUNTS

from . import apps
from .cfn import custom_resource_properties


def one(template: Dict[str, Any], kind: str, under: str = "Animals") -> Dict[str, Any]:
    return apps.only_resource(template, kind, under)


statements_of = apps.policy_statements


@pytest.fixture(scope="module")
def example() -> Dict[str, Any]:
    return apps.example()[0]


def test_key_rotates_and_is_retained(example: Dict[str, Any]) -> None:
    key = one(example, "AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain" and key["UpdateReplacePolicy"] == "Retain"


def test_both_topics_are_encrypted_with_the_key_and_refuse_plain_http(example: Dict[str, Any]) -> None:
    topics = apps.resources_of_type(example, "AWS::SNS::Topic", "Animals")
    assert len(topics) == 2
    key_id = next(iter(apps.resources_of_type(example, "AWS::KMS::Key")))
    for topic in topics.values():
        assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    for policy in apps.resources_of_type(example, "AWS::SNS::TopicPolicy").values():
        denies = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies)


@pytest.mark.parametrize("bucket", ["AnimalsInputBucket", "AnimalsOutputBucket"])
def test_data_buckets_are_private_sse_kms_versioned_ssl_only_and_retained(example: Dict[str, Any], bucket: str) -> None:
    resource = one(example, "AWS::S3::Bucket", bucket)
    props = resource["Properties"]
    sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert sse["BucketKeyEnabled"] is True
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert resource["DeletionPolicy"] == "Retain"
    policy = one(example, "AWS::S3::BucketPolicy", bucket)
    assert any(
        s["Effect"] == "Deny" and s["Condition"].get("Bool") == {"aws:SecureTransport": "false"}
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    )


def test_input_bucket_has_the_cors_rule_ground_truth_needs_for_images(example: Dict[str, Any]) -> None:
    cors = one(example, "AWS::S3::Bucket", "AnimalsInputBucket")["Properties"]["CorsConfiguration"]["CorsRules"]
    assert cors == [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "ExposedHeaders": ["Access-Control-Allow-Origin"]}]


def test_uploads_to_the_input_bucket_are_published_to_the_input_topic(example: Dict[str, Any]) -> None:
    notification = one(example, "Custom::S3BucketNotifications")
    config = notification["Properties"]["NotificationConfiguration"]["TopicConfigurations"]
    assert config[0]["Events"] == ["s3:ObjectCreated:*"]
    key_statements = one(example, "AWS::KMS::Key")["Properties"]["KeyPolicy"]["Statement"]
    s3_statement = next(s for s in key_statements if s.get("Principal") == {"Service": "s3.amazonaws.com"})
    assert set(s3_statement["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    assert "aws:SourceAccount" in s3_statement["Condition"]["StringEquals"]


def test_execution_role_is_trusted_by_sagemaker_only_with_confused_deputy_conditions(example: Dict[str, Any]) -> None:
    role = one(example, "AWS::IAM::Role", "AnimalsExecutionRole")
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert "aws:SourceAccount" in statement["Condition"]["StringEqualsIfExists"]
    assert "labeling-job/animals-*" in json.dumps(statement["Condition"]["ArnLikeIfExists"])
    assert "ManagedPolicyArns" not in role["Properties"], "not the broad managed policy"


def test_execution_policy_grants_exactly_what_a_streaming_job_uses(example: Dict[str, Any]) -> None:
    statements = {s["Sid"]: s for s in statements_of(example, "AnimalsExecutionPolicy")}
    assert set(statements) == {
        "ReadInputObjects", "ReadWriteOutputObjects", "ListBuckets", "UseKey", "StreamingQueue",
        "SubscribeQueueToInputTopic", "UnsubscribeFromInputTopic", "PublishOutput", "JobLogs", "JobMetrics",
    }
    subscribe = statements["SubscribeQueueToInputTopic"]
    assert subscribe["Condition"]["StringEquals"] == {"sns:Protocol": "sqs"}
    endpoint = json.dumps(subscribe["Condition"]["StringLike"]["sns:Endpoint"])
    assert ":sqs:" in endpoint and "GroundTruth-animals-*" in endpoint and ":sns:" not in endpoint
    assert "GroundTruth-animals-*" in json.dumps(statements["StreamingQueue"]["Resource"])
    assert "sqs:DeleteQueue" not in json.dumps(statements), "the service-owned queue is never deleted"
    for statement in statements.values():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions)


def test_handler_is_least_privilege(example: Dict[str, Any]) -> None:
    statements = statements_of(example, "StreamingLabelingJobHandlerJobPolicies")
    sagemaker = next(s for s in statements if "sagemaker:CreateLabelingJob" in s["Action"])
    assert "labeling-job/animals-*" in json.dumps(sagemaker["Resource"])
    pass_role = next(s for s in statements if s["Action"] == "iam:PassRole")
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    assert "AnimalsExecutionRole" in json.dumps(pass_role["Resource"])


def test_the_job_is_created_after_every_permission_and_policy_and_deleted_before_them(example: Dict[str, Any]) -> None:
    template, logical = apps.example()
    job = template["Resources"][logical]
    depends_on = set(job["DependsOn"])
    references = json.dumps(job["Properties"])
    for needed in ("AnimalsExecutionPolicy", "StreamingLabelingJobHandlerJobPolicies", "StreamingLabelingJobHandlerLogsPolicy",
                   "AnimalsInputBucketNotifications", "AnimalsInputBucketPolicy", "AnimalsOutputBucketPolicy"):
        assert any(d.startswith(needed) for d in depends_on), needed
    # S3 may publish uploads to the input topic before the notification (and so the job) exists.
    notifications = next(r for name, r in template["Resources"].items() if name.startswith("AnimalsInputBucketNotifications"))
    assert any(d.startswith("AnimalsInputTopicPolicy") for d in notifications["DependsOn"])
    for referenced in ("AnimalsKey", "AnimalsExecutionRole", "AnimalsInputTopic", "AnimalsOutputBucket",
                       "StreamingLabelingJobHandlerFunction"):
        assert referenced in references, referenced


def test_custom_resource_carries_a_service_timeout_and_the_job_request(example: Dict[str, Any]) -> None:
    template, logical = apps.example()
    props = template["Resources"][logical]["Properties"]
    assert int(props["ServiceTimeout"]) <= 1800
    assert props["JobNamePrefix"] == "animals"
    assert props["Request"]["HumanTaskConfig"]["TaskTitle"] == "Which animal is in the picture?"
    assert "StoppingConditions" not in props["Request"]
    assert props["WaitForStoppedOnDelete"] == "false"


def test_environment_agnostic_stacks_resolve_built_in_lambdas_per_region_and_guard_the_region(example: Dict[str, Any]) -> None:
    mapping = example["Mappings"]["GroundTruthBuiltInLambdaAccounts"]
    assert {region: value["account"] for region, value in mapping.items()} == dict(BUILT_IN_LAMBDA_ACCOUNTS)
    rule = example["Rules"]["GroundTruthRegionSupported"]["Assertions"][0]
    assert "us-east-1" in json.dumps(rule["Assert"]) and "available only in" in rule["AssertDescription"]


def test_one_handler_per_stack_however_many_jobs() -> None:
    template, ids = apps.catalog()["us-east-1"]
    assert len(ids) == len(TaskType.built_in()) + 1
    functions = apps.resources_of_type(template, "AWS::Lambda::Function", "StreamingLabelingJobHandler")
    assert len(functions) == 1
    function = next(iter(functions.values()))
    assert function["Properties"]["Timeout"] == 900
    assert function["Properties"]["Runtime"].startswith("python3.")


@pytest.mark.parametrize("task_type", list(TaskType.built_in()), ids=lambda t: t.name)
@pytest.mark.parametrize("region", apps.CATALOG_REGIONS)
def test_each_task_type_gets_the_right_built_in_arns_in_each_region(task_type: TaskType, region: str) -> None:
    template, ids = apps.catalog()[region]
    props = custom_resource_properties(template, ids[task_type.name], region)
    human = props["Request"]["HumanTaskConfig"]
    account = BUILT_IN_LAMBDA_ACCOUNTS[region]
    suffix = task_type.lambda_suffix
    assert human["PreHumanTaskLambdaArn"] == f"arn:aws:lambda:{region}:{account}:function:PRE-{suffix}"
    assert (
        human["AnnotationConsolidationConfig"]["AnnotationConsolidationLambdaArn"]
        == f"arn:aws:lambda:{region}:{account}:function:ACS-{suffix}"
    )
    if task_type.uses_built_in_ui:
        ui = f"arn:aws:sagemaker:{region}:394669845002:human-task-ui/{task_type.human_task_ui_name}"
        assert human["UiConfig"] == {"HumanTaskUiArn": ui}
        assert "UiTemplate" not in props
    else:
        assert "UiConfig" not in human and props["UiTemplate"].startswith("<script")


def test_custom_task_types_use_their_own_lambdas_and_may_invoke_them() -> None:
    template, ids = apps.catalog()["us-east-1"]
    props = custom_resource_properties(template, ids["CUSTOM"], "us-east-1")
    assert props["Request"]["HumanTaskConfig"]["PreHumanTaskLambdaArn"].endswith(":function:my-pre")
    invoke = [s for s in statements_of(template, "CUSTOMExecutionPolicy") if s["Sid"] == "InvokeCustomTaskLambdas"]
    assert invoke and set(invoke[0]["Resource"]) == {
        "arn:aws:lambda:us-east-1:111122223333:function:my-pre", "arn:aws:lambda:us-east-1:111122223333:function:my-acs"
    }


def test_three_d_and_video_frame_jobs_get_cors_on_both_buckets() -> None:
    template, _ = apps.catalog()["us-east-1"]
    for bucket in ("POINTCLOUD3DOBJECTDETECTIONInputBucket", "POINTCLOUD3DOBJECTDETECTIONOutputBucket"):
        rules = one(template, "AWS::S3::Bucket", bucket)["Properties"]["CorsConfiguration"]["CorsRules"]
        assert rules[0]["AllowedMethods"] == ["GET", "HEAD", "PUT"] and rules[0]["MaxAge"] == 3000


def test_text_jobs_take_no_s3_events() -> None:
    template, _ = apps.catalog()["us-east-1"]
    assert apps.resources_of_type(template, "Custom::S3BucketNotifications", "TEXTMULTICLASS") == {}
    assert apps.resources_of_type(template, "Custom::S3BucketNotifications", "BOUNDINGBOX")


def test_bring_your_own_resources_are_used_and_nothing_is_duplicated() -> None:
    template, logical = apps.bring_your_own()
    kinds = [r["Type"] for name, r in template["Resources"].items() if name.startswith("Job")]
    assert "AWS::KMS::Key" not in kinds and "AWS::SNS::Topic" not in kinds and "AWS::S3::Bucket" not in kinds
    assert "AWS::IAM::Role" not in kinds
    props = template["Resources"][logical]["Properties"]["Request"]
    assert props["RoleArn"] == "arn:aws:iam::111122223333:role/my-gt-role"
    assert props["OutputConfig"]["S3OutputPath"] == "s3://my-output-bucket/labels/"
    assert props["InputConfig"]["DataSource"]["SnsDataSource"]["SnsTopicArn"]["Ref"].startswith("MyIn")
    policy = one(template, "AWS::IAM::ManagedPolicy", "JobExecutionPolicy")
    assert policy["Properties"]["Roles"] == ["my-gt-role"]


def test_destroy_is_an_explicit_opt_in_that_empties_buckets_after_the_job_stopped() -> None:
    template, logical = apps.destroy_mode()
    for name, bucket in apps.resources_of_type(template, "AWS::S3::Bucket").items():
        assert bucket["DeletionPolicy"] == "Delete", name
    assert len(apps.resources_of_type(template, "Custom::S3AutoDeleteObjects")) == 3
    assert one(template, "AWS::KMS::Key", "Job")["DeletionPolicy"] == "Delete"
    job = template["Resources"][logical]
    assert job["Properties"]["WaitForStoppedOnDelete"] == "true"
    assert any(d.startswith("JobOutputBucket") for d in job["DependsOn"]), "the job is deleted (stopped) first"
    assert any(d.startswith("JobOutputBucketAutoDeleteObjects") for d in job["DependsOn"])


def test_grants_cover_topic_bucket_and_key() -> None:
    app = apps.new_app()
    stack = cdk.Stack(app, "Grants")
    job = StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.IMAGE_MULTI_CLASS))
    producer = iam.Role(stack, "Producer", assumed_by=iam.AccountRootPrincipal())
    consumer = iam.Role(stack, "Consumer", assumed_by=iam.AccountRootPrincipal())
    sent_grant, read_grant = job.grant_send_data(producer), job.grant_read_output(consumer)
    # The grants went to the roles' own policies (not a resource policy) and name those principals.
    assert sent_grant.principal_statements and read_grant.principal_statements
    assert not sent_grant.resource_statements and not read_grant.resource_statements
    template = assertions.Template.from_stack(stack).to_json()
    resources = template["Resources"]

    def actions_on(policy: str) -> Dict[str, set[str]]:
        """Each action of the policy, with the logical ids its resources reference."""
        found: Dict[str, set[str]] = {}
        for statement in statements_of(template, policy):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            targets = {name for name in resources if name in json.dumps(statement["Resource"])}
            for action in actions:
                found.setdefault(action, set()).update(targets)
        return found

    def logical(kind: str, under: str) -> str:
        (name,) = apps.resources_of_type(template, kind, under)
        return name

    key = logical("AWS::KMS::Key", "JobKey")
    sent = actions_on("ProducerDefaultPolicy")
    assert sent["sns:Publish"] == {logical("AWS::SNS::Topic", "JobInputTopic")}
    assert sent["s3:PutObject"] == {logical("AWS::S3::Bucket", "JobInputBucket")}
    assert sent["kms:GenerateDataKey"] == sent["kms:Decrypt"] == {key}
    read = actions_on("ConsumerDefaultPolicy")
    assert read["sns:Subscribe"] == {logical("AWS::SNS::Topic", "JobOutputTopic")}
    assert read["s3:GetObject*"] == {logical("AWS::S3::Bucket", "JobOutputBucket")}
    assert read["kms:Decrypt"] == {key}
    assert "sns:Publish" not in read and "s3:PutObject" not in read, "the consumer only reads"

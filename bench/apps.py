"""The apps the benchmark synthesizes: empty, the library (own or shared resources), and the baseline.

The baseline is the same streaming job written by hand, the way a CDK user would without
this library: topics, buckets, key and role, and ``AwsCustomResource`` calling
``createLabelingJob`` on create and ``stopLabelingJob`` on delete.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import custom_resources as cr

ROOT = Path(__file__).resolve().parent.parent
WORKTEAM = "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/team"
ENV = cdk.Environment(account="111122223333", region="us-east-1")
VARIANTS = ("empty", "library", "library-shared", "baseline")


def context() -> dict:
    return json.loads((ROOT / "cdk.json").read_text())["context"]


def baseline_job(stack: cdk.Stack, index: int) -> None:
    key = kms.Key(stack, f"Key{index}", enable_key_rotation=True)
    input_topic = sns.Topic(stack, f"Input{index}", master_key=key)
    output_topic = sns.Topic(stack, f"Output{index}", master_key=key)
    cors = [s3.CorsRule(allowed_methods=[s3.HttpMethods.GET], allowed_origins=["*"],
                        exposed_headers=["Access-Control-Allow-Origin"])]
    input_bucket = s3.Bucket(stack, f"InputBucket{index}", encryption=s3.BucketEncryption.KMS, encryption_key=key,
                             block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True, versioned=True,
                             cors=cors)
    output_bucket = s3.Bucket(stack, f"OutputBucket{index}", encryption=s3.BucketEncryption.KMS,
                              encryption_key=key, block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                              enforce_ssl=True, versioned=True)
    role = iam.Role(stack, f"Role{index}", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    input_bucket.grant_read(role)
    output_bucket.grant_read_write(role)
    key.grant_encrypt_decrypt(role)
    output_topic.grant_publish(role)
    role.add_to_policy(iam.PolicyStatement(actions=["sns:Subscribe"], resources=[input_topic.topic_arn]))
    role.add_to_policy(iam.PolicyStatement(
        actions=["sqs:CreateQueue", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
                 "sqs:ReceiveMessage", "sqs:SendMessage", "sqs:SetQueueAttributes"],
        resources=[f"arn:aws:sqs:{stack.region}:{stack.account}:GroundTruth-*"]))
    name = f"baseline-job-{index}"
    job_arn = f"arn:aws:sagemaker:{stack.region}:{stack.account}:labeling-job/{name}"
    account = "432418664414"
    cr.AwsCustomResource(
        stack, f"Job{index}",
        on_create=cr.AwsSdkCall(
            service="SageMaker", action="createLabelingJob",
            parameters={
                "LabelingJobName": name,
                "LabelAttributeName": name,
                "InputConfig": {"DataSource": {"SnsDataSource": {"SnsTopicArn": input_topic.topic_arn}}},
                "OutputConfig": {"S3OutputPath": f"s3://{output_bucket.bucket_name}/labels/",
                                 "SnsTopicArn": output_topic.topic_arn, "KmsKeyId": key.key_arn},
                "RoleArn": role.role_arn,
                "LabelCategoryConfigS3Uri": f"s3://{output_bucket.bucket_name}/config/labels.json",
                "HumanTaskConfig": {
                    "WorkteamArn": WORKTEAM,
                    "UiConfig": {"UiTemplateS3Uri": f"s3://{output_bucket.bucket_name}/config/template.html"},
                    "PreHumanTaskLambdaArn": f"arn:aws:lambda:us-east-1:{account}:function:PRE-ImageMultiClass",
                    "TaskTitle": "Which animal?", "TaskDescription": "Pick one",
                    "NumberOfHumanWorkersPerDataObject": 1, "TaskTimeLimitInSeconds": 300,
                    "AnnotationConsolidationConfig": {
                        "AnnotationConsolidationLambdaArn":
                            f"arn:aws:lambda:us-east-1:{account}:function:ACS-ImageMultiClass"},
                },
            },
            physical_resource_id=cr.PhysicalResourceId.of(name),
        ),
        on_delete=cr.AwsSdkCall(service="SageMaker", action="stopLabelingJob",
                                parameters={"LabelingJobName": name},
                                ignore_error_codes_matching="ResourceNotFound|ValidationException"),
        policy=cr.AwsCustomResourcePolicy.from_statements([
            iam.PolicyStatement(actions=["sagemaker:CreateLabelingJob", "sagemaker:StopLabelingJob"],
                                resources=[job_arn]),
            iam.PolicyStatement(actions=["iam:PassRole"], resources=[role.role_arn]),
        ]),
        install_latest_aws_sdk=False,
    )


def library_jobs(stack: cdk.Stack, jobs: int, shared: bool) -> None:
    from streaming_labeling import StreamingLabelingJob, TaskType, Workforce

    common = {}
    if shared and jobs:
        key = kms.Key(stack, "SharedKey", enable_key_rotation=True)
        common = dict(
            existing_encryption_key=key,
            existing_input_bucket=s3.Bucket(stack, "SharedInput", encryption=s3.BucketEncryption.KMS,
                                            encryption_key=key, enforce_ssl=True, versioned=True),
            existing_output_bucket=s3.Bucket(stack, "SharedOutput", encryption=s3.BucketEncryption.KMS,
                                             encryption_key=key, enforce_ssl=True, versioned=True),
            existing_role=iam.Role(stack, "SharedRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")),
        )
    for index in range(jobs):
        StreamingLabelingJob(
            stack, f"Job{index}", task_type=TaskType.IMAGE_MULTI_CLASS, labels=["cat", "dog", "bird"],
            workforce=Workforce.private(WORKTEAM), task_title="Which animal?", task_description="Pick one",
            job_name_prefix=f"job{index}", **common,
        )


def build(variant: str, jobs: int, outdir: str) -> cdk.App:
    app = cdk.App(context=context(), outdir=outdir)
    stack = cdk.Stack(app, "Bench", env=ENV)
    if variant == "library":
        library_jobs(stack, jobs, shared=False)
    elif variant == "library-shared":
        library_jobs(stack, jobs, shared=True)
    elif variant == "baseline":
        for index in range(jobs):
            baseline_job(stack, index)
    elif variant != "empty":
        raise SystemExit(f"unknown variant {variant!r}; one of {VARIANTS}")
    # CloudFormation rejects a template without resources: every variant gets the same placeholder.
    cdk.CfnWaitConditionHandle(stack, "Placeholder")
    return app

"""The apps the benchmark synthesizes: empty, the library (own or shared resources), and two hand-written peers.

* ``baseline``: a simpler streaming job written by hand, the way a CDK user would without this
  library: topics, buckets, key and role, and ``AwsCustomResource`` calling ``createLabelingJob``
  on create and ``stopLabelingJob`` on delete (no topic policies, no upload notification, no
  holding queue, no access logs, the role's default inline policy).
* ``peer``: the library's default job written with plain aws-cdk-lib, feature for feature (see
  ``peer_job`` and ``bench/PEER.md``): TLS-only topic policies, upload notifications (S3 -> input
  topic), the holding queue with its policy and subscription, the execution role with a managed
  policy, the KMS key with the service statements the job needs, access-logged buckets, and the job
  as an ``AwsCustomResource``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import aws_cdk as cdk

if TYPE_CHECKING:
    from aws_cdk import aws_s3 as s3

# Each variant imports the aws-cdk-lib modules it uses when it builds: the empty app imports
# aws_cdk alone, so that a job's figures include the Python imports it brings (as in a user's app).

ROOT = Path(__file__).resolve().parent.parent
WORKTEAM = "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/team"
ENV = cdk.Environment(account="111122223333", region="us-east-1")
VARIANTS = ("empty", "library", "library-shared", "baseline", "peer")


def context() -> dict:
    return json.loads((ROOT / "cdk.json").read_text())["context"]


def baseline_job(stack: cdk.Stack, index: int) -> None:
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_sns as sns
    from aws_cdk import custom_resources as cr

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


#: The label-category file and worker template the peer uploads next to its job: what the library's
#: handler writes for the default job of ``library_jobs`` (the same labels, title and instructions).
PEER_LABEL_CONFIG = '{"document-version":"2018-11-28","labels":[{"label":"cat"},{"label":"dog"},{"label":"bird"}]}'
PEER_UI_TEMPLATE = """<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>
<crowd-form>
  <crowd-image-classifier
    name="crowd-image-classifier"
    src="{{ task.input.taskObject | grant_read_access }}"
    header="Which animal?"
    categories="{{ task.input.labels | to_json | escape }}"
  >
    <full-instructions header="Which animal? instructions">
      Which animal?
    </full-instructions>
    <short-instructions>
      Which animal?
    </short-instructions>
  </crowd-image-classifier>
</crowd-form>
"""


def peer_jobs(stack: cdk.Stack, jobs: int) -> None:
    """The library's default job, ``jobs`` times, written with plain aws-cdk-lib (``bench/PEER.md``).

    What a careful CDK user writes for the same features, each with the aws-cdk-lib API made for it:
    ``enforce_ssl`` topics, buckets and queue, ``SnsDestination`` for the upload notification,
    ``server_access_logs_bucket`` for the access logs, ``ManagedPolicy`` for the execution role, and
    ``AwsCustomResource`` for the job and for the two files ``createLabelingJob`` reads from S3.
    Pseudo parameters are read once, as the library does.
    """
    from aws_cdk import aws_s3 as s3

    if not jobs:
        return
    partition, region, account = cdk.Aws.PARTITION, cdk.Aws.REGION, cdk.Aws.ACCOUNT_ID
    access_logs = s3.Bucket(
        stack, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL, object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True, versioned=True,
        lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=cdk.Duration.days(90))],
    )
    for index in range(jobs):
        peer_job(stack, index, access_logs, partition, region, account)


def peer_job(stack: cdk.Stack, index: int, access_logs: s3.IBucket, partition: str, region: str,
             account: str) -> None:
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_s3_notifications as s3n
    from aws_cdk import aws_sns as sns
    from aws_cdk import aws_sqs as sqs
    from aws_cdk import custom_resources as cr

    name = f"peer-job-{index}"

    def arn(service: str, resource: str) -> str:
        return f"arn:{partition}:{service}:{region}:{account}:{resource}"

    # --- the key, the topics (TLS only), the buckets (TLS only, access-logged) ----------------
    key = kms.Key(stack, f"Key{index}", description="Encrypts the topics and buckets of a streaming labeling job",
                  enable_key_rotation=True)
    input_topic = sns.Topic(stack, f"InputTopic{index}", master_key=key, enforce_ssl=True, signature_version="2")
    output_topic = sns.Topic(stack, f"OutputTopic{index}", master_key=key, enforce_ssl=True, signature_version="2")
    common = dict(encryption=s3.BucketEncryption.KMS, encryption_key=key, bucket_key_enabled=True,
                  block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                  object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED, enforce_ssl=True, versioned=True,
                  server_access_logs_bucket=access_logs)
    input_bucket = s3.Bucket(
        stack, f"InputBucket{index}", server_access_logs_prefix=f"{name}/input-bucket/",
        cors=[s3.CorsRule(allowed_methods=[s3.HttpMethods.GET], allowed_origins=["*"],
                          exposed_headers=["Access-Control-Allow-Origin"])], **common)
    output_bucket = s3.Bucket(stack, f"OutputBucket{index}", server_access_logs_prefix=f"{name}/output-bucket/",
                              **common)
    input_bucket_arn, output_bucket_arn = input_bucket.bucket_arn, output_bucket.bucket_arn
    output_bucket_name = output_bucket.bucket_name
    input_topic_arn, output_topic_arn, key_arn = input_topic.topic_arn, output_topic.topic_arn, key.key_arn

    # --- uploads reach the input topic (the key lets S3 publish to the encrypted topic: the
    # @aws-cdk/s3-notifications:addS3TrustKeyPolicyForSnsSubscriptions flag) ------------------
    input_bucket.add_event_notification(s3.EventType.OBJECT_CREATED, s3n.SnsDestination(input_topic))

    # --- the execution role and its managed policy --------------------------------------------
    role = iam.Role(stack, f"ExecutionRole{index}", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
                    description="Assumed by SageMaker Ground Truth to run a streaming labeling job")
    queue_pattern = arn("sqs", f"GroundTruth-{name}*")
    log_group = arn("logs", "log-group:/aws/sagemaker/LabelingJobs")
    iam.ManagedPolicy(stack, f"ExecutionPolicy{index}", roles=[role], statements=[
        iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"{input_bucket_arn}/*"]),
        iam.PolicyStatement(actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                            resources=[f"{output_bucket_arn}/labels/*", f"{output_bucket_arn}/config/*"]),
        iam.PolicyStatement(actions=["s3:GetBucketLocation", "s3:ListBucket"],
                            resources=[input_bucket_arn, output_bucket_arn]),
        iam.PolicyStatement(actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom",
                                     "kms:ReEncryptTo", "kms:DescribeKey"], resources=[key_arn]),
        iam.PolicyStatement(actions=["sqs:CreateQueue", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                     "sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:SendMessage",
                                     "sqs:SetQueueAttributes"], resources=[queue_pattern]),
        iam.PolicyStatement(actions=["sns:Subscribe"], resources=[input_topic_arn],
                            conditions={"StringEquals": {"sns:Protocol": "sqs"},
                                        "StringLike": {"sns:Endpoint": queue_pattern}}),
        iam.PolicyStatement(actions=["sns:Unsubscribe"], resources=["*"]),
        iam.PolicyStatement(actions=["sns:Publish"], resources=[output_topic_arn]),
        iam.PolicyStatement(actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams",
                                     "logs:PutLogEvents"], resources=[log_group, f"{log_group}:log-stream:{name}*"]),
        iam.PolicyStatement(actions=["cloudwatch:PutMetricData"], resources=["*"],
                            conditions={"StringLike": {"cloudwatch:namespace": ["AWS/SageMaker*", "AWS/Sagemaker*"]}}),
    ])
    # SageMaker publishes to the encrypted output topic.
    key.add_to_resource_policy(iam.PolicyStatement(
        principals=[iam.ServicePrincipal("sagemaker.amazonaws.com")], actions=["kms:GenerateDataKey*", "kms:Decrypt"],
        resources=["*"], conditions={"StringEquals": {"aws:SourceAccount": account}}))

    # --- the holding queue on the input topic. aws-cdk-lib's SqsSubscription would name the topic in
    # the key's policy, which the topic uses: a dependency cycle, so the subscription is written out.
    queue = sqs.Queue(stack, f"HoldingQueue{index}", retention_period=cdk.Duration.days(4),
                      visibility_timeout=cdk.Duration.minutes(2), encryption=sqs.QueueEncryption.KMS,
                      encryption_master_key=key, enforce_ssl=True)
    queue_arn = queue.queue_arn
    key.add_to_resource_policy(iam.PolicyStatement(
        principals=[iam.ServicePrincipal("sns.amazonaws.com")], actions=["kms:GenerateDataKey*", "kms:Decrypt"],
        resources=["*"], conditions={"StringEquals": {"aws:SourceAccount": account}}))
    added = queue.add_to_resource_policy(iam.PolicyStatement(
        principals=[iam.ServicePrincipal("sns.amazonaws.com")], actions=["sqs:SendMessage"], resources=[queue_arn],
        conditions={"ArnEquals": {"aws:SourceArn": input_topic_arn}}))
    subscription = sns.Subscription(stack, f"HoldingSubscription{index}", topic=input_topic, endpoint=queue_arn,
                                    protocol=sns.SubscriptionProtocol.SQS)
    subscription.node.add_dependency(added.policy_dependable)

    # --- the two files createLabelingJob reads, and the job -------------------------------------
    config_objects = f"{output_bucket_arn}/config/*"
    uploads = []
    for file_id, file_key, body in (("LabelConfig", "labels.json", PEER_LABEL_CONFIG),
                                    ("UiTemplate", "template.html", PEER_UI_TEMPLATE)):
        put = cr.AwsSdkCall(service="S3", action="putObject",
                            parameters={"Bucket": output_bucket_name, "Key": f"config/{name}/{file_key}", "Body": body},
                            physical_resource_id=cr.PhysicalResourceId.of(f"{name}/{file_key}"))
        uploads.append(cr.AwsCustomResource(
            stack, f"{file_id}{index}", on_create=put, on_update=put,
            policy=cr.AwsCustomResourcePolicy.from_statements([
                iam.PolicyStatement(actions=["s3:PutObject"], resources=[config_objects]),
                iam.PolicyStatement(actions=["kms:GenerateDataKey"], resources=[key_arn]),
            ]),
            install_latest_aws_sdk=False,
        ))
    built_in = "arn:aws:lambda:us-east-1:432418664414:function"
    job = cr.AwsCustomResource(
        stack, f"Job{index}",
        on_create=cr.AwsSdkCall(
            service="SageMaker", action="createLabelingJob",
            parameters={
                "LabelingJobName": name,
                "LabelAttributeName": name,
                "InputConfig": {"DataSource": {"SnsDataSource": {"SnsTopicArn": input_topic_arn}}},
                "OutputConfig": {"S3OutputPath": f"s3://{output_bucket_name}/labels/",
                                 "SnsTopicArn": output_topic_arn, "KmsKeyId": key_arn},
                "RoleArn": role.role_arn,
                "LabelCategoryConfigS3Uri": f"s3://{output_bucket_name}/config/{name}/labels.json",
                "HumanTaskConfig": {
                    "WorkteamArn": WORKTEAM,
                    "UiConfig": {"UiTemplateS3Uri": f"s3://{output_bucket_name}/config/{name}/template.html"},
                    "PreHumanTaskLambdaArn": f"{built_in}:PRE-ImageMultiClass",
                    "TaskTitle": "Which animal?", "TaskDescription": "Pick one",
                    "NumberOfHumanWorkersPerDataObject": 1, "TaskTimeLimitInSeconds": 300,
                    "AnnotationConsolidationConfig": {
                        "AnnotationConsolidationLambdaArn": f"{built_in}:ACS-ImageMultiClass"},
                },
                "Tags": [{"Key": "streaming-labeling:input-bucket", "Value": input_bucket.bucket_name}],
            },
            physical_resource_id=cr.PhysicalResourceId.of(name),
        ),
        on_delete=cr.AwsSdkCall(service="SageMaker", action="stopLabelingJob", parameters={"LabelingJobName": name},
                                ignore_error_codes_matching="ResourceNotFound|ValidationException"),
        policy=cr.AwsCustomResourcePolicy.from_statements([
            iam.PolicyStatement(actions=["sagemaker:CreateLabelingJob", "sagemaker:StopLabelingJob",
                                         "sagemaker:AddTags"], resources=[arn("sagemaker", f"labeling-job/{name}")]),
            iam.PolicyStatement(actions=["iam:PassRole"], resources=[role.role_arn],
                                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
        ]),
        install_latest_aws_sdk=False,
    )
    # The job starts once its files are written and the notification is set up (S3 sends a test event).
    for dependency in (*uploads, input_bucket.node.find_child("Notifications")):
        job.node.add_dependency(dependency)


def library_jobs(stack: cdk.Stack, jobs: int, shared: bool) -> None:
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3

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
    elif variant == "peer":
        peer_jobs(stack, jobs)
    elif variant != "empty":
        raise SystemExit(f"unknown variant {variant!r}; one of {VARIANTS}")
    # CloudFormation rejects a template without resources: every variant gets the same placeholder.
    cdk.CfnWaitConditionHandle(stack, "Placeholder")
    return app

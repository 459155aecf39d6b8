"""Integration test in the CDK convention: deploy a text job, check it runs, send one object, read its label.

``integ-runner`` (``make test``) checks this app's snapshot offline (``integ_streaming_labeling.py.snapshot``);
it deploys only when the snapshot changed, which needs an account that already uses Ground Truth, credentials and
a private work team whose workers label the object:

    STREAMING_LABELING_WORKTEAM_ARN=arn:aws:sagemaker:<region>:<account>:workteam/private-crowd/<team> \\
        npx integ-runner --directory tests/integ --language python --app "python {filePath}" --update-on-failed

The assertions run in the account: the job is ``InProgress``; an object published to the input topic comes back,
labeled, on the output topic (a queue subscribed to it), within two hours (a person labels it).
"""

from __future__ import annotations

import os

import aws_cdk as cdk
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk.integ_tests_alpha import ExpectedResult, IntegTest, Match

from streaming_labeling import StreamingLabelingJob, TaskType, Workforce

PLACEHOLDER_WORKTEAM_ARN = "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/integ-team"
LABEL_ATTRIBUTE = "integ-sentiment"

app = cdk.App()
stack = cdk.Stack(app, "StreamingLabelingInteg")
job = StreamingLabelingJob(
    stack,
    "Sentiment",
    task_type=TaskType.TEXT_MULTI_CLASS,
    labels=["positive", "negative"],
    workforce=Workforce.private(os.environ.get("STREAMING_LABELING_WORKTEAM_ARN", PLACEHOLDER_WORKTEAM_ARN)),
    task_title="Is this sentence positive or negative?",
    task_description="Choose the sentiment of the sentence",
    label_attribute_name=LABEL_ATTRIBUTE,
    removal_policy=cdk.RemovalPolicy.DESTROY,
)
labels = sqs.Queue(stack, "Labels", enforce_ssl=True, retention_period=cdk.Duration.days(1))
job.output_topic.add_subscription(subscriptions.SqsSubscription(labels, raw_message_delivery=True))
cdk.CfnOutput(stack, "JobName", value=job.job_name)

integ = IntegTest(app, "StreamingLabelingJobInteg", test_cases=[stack], diff_assets=True)
running = integ.assertions.aws_api_call("SageMaker", "describeLabelingJob", {"LabelingJobName": job.job_name})
running.expect(ExpectedResult.object_like({"LabelingJobStatus": "InProgress"}))
sent = integ.assertions.aws_api_call("SNS", "publish", {
    "TopicArn": job.input_topic.topic_arn,
    "Message": '{"source": "The integration test went well."}',
})
received = integ.assertions.aws_api_call("SQS", "receiveMessage", {
    "QueueUrl": labels.queue_url, "WaitTimeSeconds": 20, "MaxNumberOfMessages": 1,
})
received.expect(ExpectedResult.object_like({
    "Messages": Match.array_with([Match.object_like({"Body": Match.string_like_regexp(LABEL_ATTRIBUTE)})]),
})).wait_for_assertions(total_timeout=cdk.Duration.hours(2), interval=cdk.Duration.minutes(1))
running.next(sent).next(received)
# The assertion provider gets the API call's own permission; publishing to the encrypted topic needs the key too.
sent.provider.add_to_role_policy({
    "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": [job.encryption_key.key_arn],
})
app.synth()

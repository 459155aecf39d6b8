"""The example stack: a streaming image-classification job, and a two-stage pipeline.

The pipeline is AWS's chained streaming labeling job: workers draw boxes around vehicles,
and every labeled image goes on, through the first job's output topic, to a second job in
which workers adjust those boxes.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from streaming_labeling import StreamingLabelingJob, TaskType, Workforce

#: Context key of the private work team; the placeholder lets synth work offline.
WORKTEAM_CONTEXT_KEY = "streaming-labeling:workteamArn"
PLACEHOLDER_WORKTEAM_ARN = "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/example-team"


class ExampleLabelingStack(Stack):
    """Environment-agnostic by default; deploy with ``-c streaming-labeling:workteamArn=<your team>``."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        workteam_arn = self.node.try_get_context(WORKTEAM_CONTEXT_KEY) or PLACEHOLDER_WORKTEAM_ARN
        self.job = StreamingLabelingJob(
            self,
            "Animals",
            task_type=TaskType.IMAGE_MULTI_CLASS,
            labels=["cat", "dog", "bird"],
            workforce=Workforce.private(workteam_arn),
            task_title="Which animal is in the picture?",
            task_description="Choose the one animal you see",
            task_keywords=["image", "animals"],
        )
        CfnOutput(self, "JobName", value=self.job.job_name)
        CfnOutput(self, "InputTopicArn", value=self.job.input_topic.topic_arn)
        CfnOutput(self, "OutputTopicArn", value=self.job.output_topic.topic_arn)
        if self.job.input_bucket is not None:  # image jobs have one; text jobs take inline text only
            CfnOutput(self, "InputBucketName", value=self.job.input_bucket.bucket_name)
        CfnOutput(self, "OutputBucketName", value=self.job.output_bucket.bucket_name)

        # A two-stage pipeline: draw boxes, then adjust them (input_from chains the jobs).
        self.boxes = StreamingLabelingJob(
            self,
            "Vehicles",
            task_type=TaskType.BOUNDING_BOX,
            labels=["car", "truck", "bicycle"],
            workforce=Workforce.private(workteam_arn),
            task_title="Draw a box around each vehicle",
            task_description="One tight box per car, truck or bicycle",
        )
        self.review = StreamingLabelingJob(
            self,
            "VehicleReview",
            task_type=TaskType.ADJUSTMENT_BOUNDING_BOX,
            input_from=self.boxes,  # labels and the reviewed label attribute come from the first job
            workforce=Workforce.private(workteam_arn),
            task_title="Adjust the boxes around each vehicle",
            task_description="Move, resize, add or remove boxes so that each vehicle has one tight box",
        )
        CfnOutput(self, "PipelineInputTopicArn", value=self.boxes.input_topic.topic_arn)
        if self.boxes.input_bucket is not None:
            CfnOutput(self, "PipelineInputBucketName", value=self.boxes.input_bucket.bucket_name)
        CfnOutput(self, "PipelineOutputTopicArn", value=self.review.output_topic.topic_arn)

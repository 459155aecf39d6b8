"""The one custom-resource Lambda per stack that creates, replaces and stops labeling jobs."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from .compliance import (
    acknowledge_lambda_placement,
    acknowledge_statements,
    acknowledge_wildcard,
    ignore_redundant_role_dependency,
    pin_security_flags,
)
from .conventions import STACK_TAG
from .encryption import account_key_policy
from .execution_role import SAGEMAKER_PRINCIPAL, ground_truth_queue_arn_pattern, labeling_job_arn_pattern
from .policies import Statements, combine, statement
from .pseudo import Pseudo
from .state import StackState, stack_singleton

HANDLER_DIR = Path(__file__).parent / "handler"
HANDLER_ID = "StreamingLabelingJobHandler"
#: Where the handler writes each job's label-category file and worker template.
CONFIG_PREFIX = "labeling-job-config/"
#: Lambda's maximum. The handler stops waiting before it, from the context's remaining time.
HANDLER_TIMEOUT = Duration.minutes(15)
#: How long CloudFormation waits for an answer if the handler never sends one.
SERVICE_TIMEOUT = Duration.minutes(20)
#: Jobs whose statements share one managed policy: about 1,000 characters each (with renewal), so
#: a policy stays under IAM's 6,144-character limit (``tests/test_iam.py`` measures it).
JOBS_PER_POLICY = 5


def handler_statements(
    p: Pseudo, *, prefix: str, role_arn: str, output_bucket_arn: str, key_arn: str, input_topic_arn: str,
    holding_queue_arn: Optional[str],
) -> Statements:
    """What the handler may do for one job: its labeling jobs, its role, its config files, its queues.

    With a holding queue (renewal on), also what a renewal does: read the resource record, see the
    successor subscribe, publish the held objects again and take them off the holding queue.
    """
    config_objects = f"{output_bucket_arn}/{CONFIG_PREFIX}{prefix}-*"
    parts = [
        statement(
            None,
            [
                "sagemaker:CreateLabelingJob",
                "sagemaker:DescribeLabelingJob",
                "sagemaker:StopLabelingJob",
                "sagemaker:AddTags",
            ],
            labeling_job_arn_pattern(p, prefix),
            wildcard_reason="job-name",
        ),
        statement(None, "iam:PassRole", role_arn,
                  Condition={"StringEquals": {"iam:PassedToService": SAGEMAKER_PRINCIPAL}}),
        statement(None, ["s3:GetObject", "s3:PutObject"], config_objects, wildcard_reason="job-name"),
        statement(None, ["kms:Decrypt", "kms:GenerateDataKey"], key_arn),
        # The emptied GroundTruth-<job> queues of stopped jobs, which the service leaves behind.
        statement(None, ["sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
                  ground_truth_queue_arn_pattern(p, prefix), wildcard_reason="queue"),
    ]
    if holding_queue_arn is not None:
        parts += [
            statement(None, ["sns:ListSubscriptionsByTopic", "sns:Publish"], input_topic_arn),
            statement(None, ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                             "sqs:ReceiveMessage"], holding_queue_arn),
        ]
    return combine(parts)


def stack_job_statements(p: Pseudo) -> Statements:
    """What the handler may do for every job it ever made in this stack, whatever the current props.

    Per-job statements follow the props, so CloudFormation narrows them before the cleanup of a
    renamed or removed job; these stay while the stack does. Stopping is scoped by the stack tag the
    handler sets at creation; the stack status tells a stale or cancelled event from a live one.
    ``cloudwatch:GetMetricStatistics`` has no resource-level permissions.
    """
    return combine([
        statement(None, ["sagemaker:AddTags", "sagemaker:DescribeLabelingJob", "sagemaker:ListTags",
                         "sagemaker:StopLabelingJob"],
                  p.arn("sagemaker", "labeling-job/*"), wildcard_reason="stack-tagged-jobs",
                  Condition={"StringEquals": {f"aws:ResourceTag/{STACK_TAG}": Aws.STACK_ID}}),
        statement(None, "cloudformation:DescribeStackResource", Aws.STACK_ID),
        # A renewal tells an idle stop from a person's by the input topic's published-message metric, and
        # points the stack's alarms on the old generation's queue at the new one's.
        statement(None, ["cloudwatch:DescribeAlarmsForMetric", "cloudwatch:GetMetricStatistics"], "*",
                  wildcard_reason="metric-statistics"),
        statement(None, "cloudwatch:PutMetricAlarm", p.arn("cloudwatch", f"alarm:{Aws.STACK_NAME}-*"),
                  wildcard_reason="stack-alarms"),
    ])


def policy_statements(statements: Statements) -> List[iam.PolicyStatement]:
    return [iam.PolicyStatement.from_json(document) for document in statements.statements]


def _lambda_role(scope: Construct, construct_id: str, description: str, p: Pseudo) -> iam.Role:
    """A role only Lambda functions of this account can assume; permissions come from managed policies."""
    return iam.Role(
        scope,
        construct_id,
        description=description,
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com").with_conditions(
            {"StringEquals": {"aws:SourceAccount": p.account}}
        ),
    )


class PolicyPool(Construct):
    """Managed policies handed out a few jobs at a time, attached to the same roles."""

    def __init__(self, scope: Construct, construct_id: str, roles: Sequence[iam.IRole]) -> None:
        super().__init__(scope, construct_id)
        self._roles = list(roles)
        self.policies: List[iam.ManagedPolicy] = []
        self._jobs_in_last = JOBS_PER_POLICY

    def policy_for_next_job(self) -> iam.ManagedPolicy:
        if self._jobs_in_last >= JOBS_PER_POLICY:
            # Minimized (merged, sorted) whatever the app's @aws-cdk/aws-iam:minimizePolicies flag says.
            document = iam.PolicyDocument(minimize=True)
            self.policies.append(iam.ManagedPolicy(self, str(len(self.policies)), roles=self._roles, document=document))
            self._jobs_in_last = 0
        self._jobs_in_last += 1
        return self.policies[-1]


def renewal_input() -> events.RuleTargetInput:
    """What the renewal rule sends the handler: the fields of the state change it reads, and its stack."""
    return events.RuleTargetInput.from_object({
        "detail-type": events.EventField.detail_type,
        "time": events.EventField.time,
        "resources": events.EventField.from_path("$.resources"),
        "detail": events.EventField.from_path("$.detail"),
        "stack": Aws.STACK_ID,
    })


class JobHandler(Construct):
    """Lambda, role, encrypted log group and policies of the handler; use ``JobHandler.of(scope)``."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        pin_security_flags(self)
        p = self.pseudo = StackState.of(self).pseudo
        self.logs_key = kms.Key(
            self,
            "LogsKey",
            description="Encrypts the logs of the Ground Truth streaming labeling job handler",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
            policy=account_key_policy(),
        )
        self.logs_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{p.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                ],
                resources=["*"],
                conditions={
                    "StringLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            p.arn("logs", "log-group:*")
                        )
                    }
                },
            )
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.ONE_YEAR,
            encryption_key=self.logs_key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        #: Lambda names its log streams at run time.
        self.log_streams_arn = (
            p.arn("logs", f"log-group:{self.log_group.log_group_name}:log-stream:*")
        )
        self.role = _lambda_role(
            self, "Role", "Creates and stops SageMaker Ground Truth streaming labeling jobs for CloudFormation", p
        )
        self.logs_policy = iam.ManagedPolicy(
            self,
            "LogsPolicy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[self.log_streams_arn],
                )
            ],
        )
        stack_jobs = stack_job_statements(p)
        self.stack_jobs_policy = iam.ManagedPolicy(
            self, "StackJobsPolicy", roles=[self.role], statements=policy_statements(stack_jobs),
        )
        self.job_policies = PolicyPool(self, "JobPolicies", [self.role])
        self.function = lambda_.Function(
            self,
            "Function",
            description="CloudFormation custom resource: SageMaker Ground Truth streaming labeling jobs",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=lambda_.Code.from_asset(str(HANDLER_DIR), exclude=["__pycache__", "*.pyc"]),
            timeout=HANDLER_TIMEOUT,
            memory_size=256,
            role=self.role,
            log_group=self.log_group,
        )
        self.function.node.add_dependency(self.logs_policy)
        self.function_arn = self.function.function_arn
        acknowledge_wildcard(self.logs_policy, self.log_streams_arn, "lambda-log-streams")
        acknowledge_statements(self.stack_jobs_policy, stack_jobs)
        acknowledge_lambda_placement(self.function)
        ignore_redundant_role_dependency(self.function)
        self._renewal_rule: Optional[events.Rule] = None
        self._notifications_role: Optional[iam.Role] = None
        self._notifications_policies: Optional[PolicyPool] = None

    @staticmethod
    def of(scope: IConstruct) -> JobHandler:
        """The stack's handler, created on first use: one per stack, however many jobs."""
        return stack_singleton(scope, HANDLER_ID, JobHandler, JobHandler)

    def allow_job(self, statements: Statements, state: Optional[StackState] = None) -> iam.ManagedPolicy:
        """Add one job's statements to the handler's policies (their wildcards acknowledged); the job must
        depend on the result. ``state``: the stack's state, when the caller has it."""
        policy = self.job_policies.policy_for_next_job()
        policy.add_statements(*policy_statements(statements))
        acknowledge_statements(policy, statements, state)
        return policy

    def renew_after_idle_stop(self, job_name_prefix: str) -> events.Rule:
        """Send this prefix's jobs' Stopped events to the handler: one rule per stack, a prefix per job.

        EventBridge cannot match tags, so the rule matches the jobs' ARN prefixes and the handler
        renews only jobs tagged with its stack (and only after an idle stop).
        """
        arn_prefix = self.pseudo.arn("sagemaker", f"labeling-job/{job_name_prefix.lower()}-")
        if self._renewal_rule is None:
            self._renewal_rule = events.Rule(
                self, "RenewalRule",
                description="Stopped Ground Truth streaming jobs of this stack, for renewal after an idle stop",
                event_pattern=events.EventPattern(
                    source=["aws.sagemaker"],
                    detail_type=["SageMaker Ground Truth Labeling Job State Change"],
                    detail={"LabelingJobStatus": ["Stopped"]},
                    resources=events.Match.prefix(arn_prefix),
                ),
                # The event as Ground Truth sends it, plus the stack: renewal renews only jobs tagged with it.
                targets=[targets.LambdaFunction(self.function, retry_attempts=2, event=renewal_input())],
            )
        else:
            self._renewal_rule.add_event_pattern(resources=events.Match.prefix(arn_prefix))
        return self._renewal_rule

    def notifications_role(self) -> iam.IRole:
        """Role for aws-cdk-lib's S3 notifications Lambda, without its managed logging policy.

        aws-cdk-lib would add ``s3:PutBucketNotification`` on ``*``; the role is handed over
        without policy updates and gets the two bucket actions on each input bucket instead.
        """
        if self._notifications_role is None:
            self._notifications_role = _lambda_role(
                self, "NotificationsRole", "Configures S3 event notifications of labeling-job input buckets",
                self.pseudo,
            )
            self._notifications_policies = PolicyPool(self, "NotificationsPolicies", [self._notifications_role])
        return self._notifications_role.without_policy_updates()

    def allow_notifications(self, bucket_arn: str) -> iam.ManagedPolicy:
        self.notifications_role()
        assert self._notifications_policies is not None
        policy = self._notifications_policies.policy_for_next_job()
        policy.add_statements(
            iam.PolicyStatement(
                actions=["s3:GetBucketNotification", "s3:PutBucketNotification"],
                resources=[bucket_arn],
            )
        )
        return policy

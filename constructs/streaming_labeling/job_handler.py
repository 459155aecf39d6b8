"""The one custom-resource Lambda per stack that creates, replaces and stops labeling jobs."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from constructs import Construct

HANDLER_DIR = Path(__file__).parent / "handler"
HANDLER_ID = "StreamingLabelingJobHandler"
#: Lambda's maximum. The handler stops waiting before it, from the context's remaining time.
HANDLER_TIMEOUT = Duration.minutes(15)
#: How long CloudFormation waits for an answer if the handler never sends one.
SERVICE_TIMEOUT = Duration.minutes(20)


class JobHandler(Construct):
    """Lambda, role and log group of the handler; use ``JobHandler.of(scope)``."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            description="Creates and stops SageMaker Ground Truth streaming labeling jobs for CloudFormation",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com").with_conditions(
                {"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
        )
        self.policy = iam.Policy(
            self,
            "Policy",
            statements=[
                iam.PolicyStatement(
                    sid="WriteOwnLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[self.log_group.log_group_arn],
                )
            ],
        )
        self.role.attach_inline_policy(self.policy)
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
        self.function.node.add_dependency(self.policy)

    @staticmethod
    def of(scope: Construct) -> JobHandler:
        """The stack's handler, created on first use: one per stack, however many jobs."""
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(HANDLER_ID)
        if isinstance(existing, JobHandler):
            return existing
        return JobHandler(stack, HANDLER_ID)

    def allow(self, *statements: iam.PolicyStatement) -> None:
        """Add a job's statements to the handler's one policy."""
        for statement in statements:
            self.policy.add_statements(statement)

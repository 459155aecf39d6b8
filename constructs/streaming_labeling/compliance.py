"""cdk-nag acknowledgements for the findings that AWS leaves no way around.

Each acknowledgement names the exact finding (``Rule[Resource::...]`` for wildcard
findings) and says why, so a reviewer can check it. Nothing is acknowledged for a
whole rule; the README's security section lists every one.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any, List, Mapping, Optional, Sequence, Tuple

from aws_cdk import Acknowledgment, Annotations, CfnResource, Stack, Validations
from constructs import IConstruct

from .cdk_internals import AUTO_DELETE_PROVIDER_ID, NOTIFICATIONS_HANDLER_ID, NOTIFICATIONS_HANDLER_POLICY_ID, child
from .policies import Statements
from .pseudo import Pseudo
from .state import StackState

#: aws-cdk-lib feature flags that decide how secure a resource is built. The library's
#: constructs pin them on their own node, so an app without the recommended flags (a plain
#: ``cdk.App()``, an older cdk.json) gets the same resources as one with them.
SECURITY_FLAGS: Mapping[str, bool] = MappingProxyType({
    # Log delivery by bucket policy, not the legacy LogDeliveryWrite ACL with ObjectWriter ownership.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    # Block public access on every new bucket.
    "@aws-cdk/aws-s3:publicAccessBlockedByDefault": True,
    # Cross-account key policies scoped to the caller's account and region.
    "@aws-cdk/aws-kms:reduceCrossAccountRegionPolicyScope": True,
})


def pin_security_flags(construct: IConstruct) -> None:
    """Set SECURITY_FLAGS in the construct's context; call it before the construct has children."""
    node = construct.node  # each ``.node`` read is a jsii round trip
    for flag, value in SECURITY_FLAGS.items():
        node.set_context(flag, value)

REASONS: Mapping[str, str] = MappingProxyType({
    "object-keys": "Object keys are the labeled data and are not known at synth time; the wildcard is below "
    "this job's bucket (and prefix), never a bucket wildcard.",
    "queue": "Ground Truth creates the queue GroundTruth-<job name in lowercase> at job creation; the job "
    "name ends in a deploy-time hash, so the ARN is a prefix pattern of this job's name only.",
    "job-name": "Job names are <prefix>-<hash of stack, resource and properties>, computed at deploy time, "
    "and a stopped job's name can never be reused; the pattern covers this construct's jobs only.",
    "log-stream": "Ground Truth writes to the log stream named after the job (deploy-time name) in "
    "/aws/sagemaker/LabelingJobs; the pattern covers this construct's jobs only.",
    "no-resource-level": "cloudwatch:PutMetricData and sns:Unsubscribe support no resource-level permissions "
    "(IAM Service Authorization Reference); PutMetricData is limited by a cloudwatch:namespace condition, and "
    "Unsubscribe only removes subscriptions, which Ground Truth does when the job stops.",
    "stack-tagged-jobs": "The handler must stop every job it made in this stack, also after a rename or removal "
    "narrowed the per-job statements; DescribeLabelingJob and StopLabelingJob are limited by an "
    "aws:ResourceTag condition to jobs tagged with this stack's id, which only the handler sets.",
    "metric-statistics": "cloudwatch:GetMetricStatistics and DescribeAlarmsForMetric support no resource-level "
    "permissions (IAM Service Authorization Reference); the handler reads the input topic's NumberOfMessagesPublished "
    "(to tell an idle stop from a person's) and finds the alarms on a renewed job's queue.",
    "stack-alarms": "CloudFormation names the stack's alarms <stack name>-<logical id>-<random>; after a renewal the "
    "handler points the alarms on the old generation's queue at the new one's, and only this stack's.",
    "holding-queue-dlq": "The holding queue keeps what producers publish while no job listens, for 4 days; a "
    "renewal publishes it again and deletes it. Nothing fails to be processed there, so a dead-letter queue "
    "would hold nothing.",
    "holding-queue-sse": "With an imported key, whose policy the construct cannot extend to SNS, the holding queue "
    "is encrypted with SQS-managed keys (SSE-SQS).",
    "lambda-log-streams": "Lambda names the handler's log streams at run time; the wildcard is limited to "
    "streams of the handler's own log group.",
    "access-log-sse": "S3 server access log delivery supports only SSE-S3 on the target bucket, not SSE-KMS.",
    "replication": "Cross-region replication needs a destination bucket in another region, which this "
    "construct cannot know; versioning is on so that replication can be added by the user.",
    "lambda-concurrency": "Reserved concurrency on a deploy-time handler takes from the account's unreserved "
    "pool and fails the deployment in accounts at the default quota; the handler runs once per job change.",
    "lambda-dlq": "CloudFormation invokes this custom-resource Lambda and waits for its answer; a failure "
    "is reported to the stack (ServiceTimeout bounds the wait), so a dead-letter queue would hold nothing "
    "actionable.",
    "lambda-vpc": "The handler calls only public AWS APIs (SageMaker, S3) and CloudFormation's pre-signed "
    "response URL; placing it in a VPC would require the user's VPC and endpoints.",
    "cdk-unrendered-policy": "aws-cdk-lib builds this inline policy for its S3 notifications Lambda but does "
    "not deploy it: the Lambda's role is handed over without policy updates and gets a managed policy scoped "
    "to the input buckets instead.",
    "cdk-internal-inline": "aws-cdk-lib's own provider for S3 auto-delete writes its role policy inline; "
    "it exists only with the explicit removal_policy=DESTROY opt-in.",
    "cdk-internal-managed": "aws-cdk-lib's own provider for S3 auto-delete uses AWSLambdaBasicExecutionRole "
    "for its logs; it exists only with the explicit removal_policy=DESTROY opt-in.",
})


def acknowledge(construct: IConstruct, finding: str, reason_key: str) -> None:
    Validations.of(construct).acknowledge(Acknowledgment(id=finding, reason=REASONS[reason_key]))


def nag_resource(scope: IConstruct, value: str, state: Optional[StackState] = None) -> str:
    """A resource ARN as cdk-nag prints it in a finding id (``<Logical.Arn>/*``, ``<AWS::Region>``).

    ``state``: the scope's stack state, when the caller has it (saves looking it up again).
    """

    def render(part: Any) -> str:
        if isinstance(part, str):
            return part
        if isinstance(part, dict) and "Ref" in part:
            return f"<{part['Ref']}>"
        if isinstance(part, dict) and "Fn::GetAtt" in part:
            return f"<{'.'.join(part['Fn::GetAtt'])}>"
        if isinstance(part, dict) and "Fn::Join" in part:
            separator, parts = part["Fn::Join"]
            return str(separator).join(render(p) for p in parts)
        return str(part)

    state = state or StackState.of(scope)
    rendered = state.nag.rendered
    if value not in rendered:
        rendered[value] = render(state.stack.resolve(value))
    return rendered[value]


_TOKEN = re.compile(r"\$\{Token\[[^\]]*\]\}")


def nag_printed(scope: IConstruct, value: str, state: StackState) -> str:
    """``value`` as cdk-nag prints it, token by token: pseudo parameters without a jsii round trip,
    other tokens resolved once per stack."""
    printed = nag_pseudo(state.pseudo, value)
    return _TOKEN.sub(lambda match: nag_resource(scope, match.group(0), state), printed)


def acknowledge_wildcard(construct: IConstruct, resource: str, reason_key: str) -> None:
    acknowledge_wildcards(construct, [(nag_resource(construct, resource), reason_key)])


def acknowledge_wildcards(construct: IConstruct, findings: Sequence[Tuple[str, str]]) -> None:
    """Several ``IAM5[Resource::...]`` findings of one construct, in one call; resources as nag prints them."""
    acknowledgments = [
        Acknowledgment(id=f"AwsSolutions-IAM5[Resource::{resource}]", reason=REASONS[key]) for resource, key in findings
    ]
    Validations.of(construct).acknowledge(*acknowledgments)


def nag_pseudo(p: Pseudo, value: str) -> str:
    """A string whose only tokens are pseudo parameters, as cdk-nag prints it; no jsii round trip."""
    for token, printed in (
        (p.partition, "<AWS::Partition>"),
        (p.region, "<AWS::Region>"),
        (p.account, "<AWS::AccountId>"),
    ):
        value = value.replace(token, printed)
    return value


def acknowledge_lambda_placement(construct: IConstruct) -> None:
    """Concurrency, DLQ and VPC findings of a deploy-time custom-resource Lambda."""
    acknowledge(construct, "NIST.800.53.R5-LambdaConcurrency", "lambda-concurrency")
    acknowledge(construct, "NIST.800.53.R5-LambdaDLQ", "lambda-dlq")
    acknowledge(construct, "NIST.800.53.R5-LambdaInsideVPC", "lambda-vpc")


def ignore_redundant_role_dependency(function: IConstruct) -> None:
    """cfn-lint W3005 on a Lambda function whose role aws-cdk-lib both references and depends on.

    aws-cdk-lib adds the DependsOn itself and offers no way to drop it; the ignore is
    written on that one resource, for that one check.
    """
    resource = function if isinstance(function, CfnResource) else function.node.default_child
    if isinstance(resource, CfnResource):
        resource.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})


def acknowledge_statements(policy: IConstruct, statements: Statements, state: Optional[StackState] = None) -> None:
    """The ``IAM5[Resource::...]`` findings of a policy's wildcard resources, each with its statement's reason."""
    state = state or StackState.of(policy)
    findings: List[Tuple[str, str]] = []
    for wildcard in statements.wildcards:
        finding = (nag_printed(policy, wildcard.resource, state), wildcard.reason)
        if finding not in findings:
            findings.append(finding)
    acknowledge_wildcards(policy, findings)


def acknowledge_stack_singletons(stack: Stack, state: StackState, *, destroy: bool, sends_uploads: bool) -> None:
    """aws-cdk-lib's stack-wide singletons (the auto-delete provider, the S3 notifications Lambda),
    acknowledged by the first job that brings them."""
    nag = state.nag
    if destroy and AUTO_DELETE_PROVIDER_ID not in nag.singletons_done:
        auto_delete = child(stack, AUTO_DELETE_PROVIDER_ID)
        if auto_delete is not None and nag.first_time(auto_delete):
            acknowledge_lambda_placement(auto_delete)
            acknowledge(auto_delete, "NIST.800.53.R5-IAMNoInlinePolicy", "cdk-internal-inline")
            acknowledge(
                auto_delete,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]",
                "cdk-internal-managed",
            )
            provider_function = child(auto_delete, "Handler")
            if provider_function is not None:
                ignore_redundant_role_dependency(provider_function)
        if auto_delete is not None:  # the stack's one provider: later jobs find it acknowledged
            nag.singletons_done.add(AUTO_DELETE_PROVIDER_ID)
    if sends_uploads and NOTIFICATIONS_HANDLER_ID not in nag.singletons_done:
        notifications = child(stack, NOTIFICATIONS_HANDLER_ID)
        if notifications is not None and nag.first_time(notifications):
            acknowledge_lambda_placement(notifications)
            ignore_redundant_role_dependency(notifications)
        if notifications is not None:
            nag.singletons_done.add(NOTIFICATIONS_HANDLER_ID)


# --- warnings: stable ids, the README shows how to acknowledge each ------------------------------

WARNING_SERVICE_STATUS = "streaming-labeling:GroundTruthClosedToNewCustomers"
WARNING_PUBLIC_CROWD = "streaming-labeling:MechanicalTurkClosed"
WARNING_IMPORTED_KEY = "streaming-labeling:ImportedKeyPolicyNotManaged"
WARNING_UPSTREAM_CORS = "streaming-labeling:UpstreamBucketCorsNotManaged"

WARNINGS: Mapping[str, str] = MappingProxyType({
    WARNING_SERVICE_STATUS: "Amazon SageMaker Ground Truth is no longer open to new customers (since 2026-07-30): "
    "CreateLabelingJob succeeds only in accounts that already use Ground Truth.",
    WARNING_PUBLIC_CROWD: "Workforce.public() uses Amazon Mechanical Turk, which closed on 2026-09-30; "
    "use Workforce.private() or Workforce.vendor().",
    WARNING_IMPORTED_KEY: "existing_encryption_key: the key policy of an imported key cannot be changed here; allow "
    "s3.amazonaws.com kms:GenerateDataKey* and kms:Decrypt in it, or S3 cannot publish uploads "
    "to the encrypted input topic.",
    WARNING_UPSTREAM_CORS: "input_from: the upstream bucket {bucket} was not created by the library; add a CORS "
    "rule allowing GET from any origin to it, or workers' browsers cannot load its objects.",
})


def warn(construct: IConstruct, warning_id: str, **values: str) -> None:
    Annotations.of(construct).add_warning_v2(warning_id, WARNINGS[warning_id].format(**values))


def warn_job(job: IConstruct, stack: Stack, state: StackState, *, public_crowd: bool, imported_key: bool) -> None:
    """The job's warnings; the service's status once per stack, on the stack."""
    if WARNING_SERVICE_STATUS not in state.nag.warned:
        state.nag.warned.add(WARNING_SERVICE_STATUS)
        warn(stack, WARNING_SERVICE_STATUS)
    if public_crowd:
        warn(job, WARNING_PUBLIC_CROWD)
    if imported_key:
        warn(job, WARNING_IMPORTED_KEY)


def acknowledge_unrendered_notifications_policy(bucket_notifications: IConstruct) -> None:
    unused_policy = child(bucket_notifications, NOTIFICATIONS_HANDLER_POLICY_ID)
    if unused_policy is not None:
        acknowledge(unused_policy, "NIST.800.53.R5-IAMNoInlinePolicy", "cdk-unrendered-policy")


def acknowledge_holding_queue(queue: IConstruct, *, kms_encrypted: bool) -> None:
    """The holding queue's findings: no dead-letter queue (nothing to fail); SSE-SQS with an imported key."""
    acknowledge(queue, "AwsSolutions-SQS3", "holding-queue-dlq")
    if not kms_encrypted:
        acknowledge(queue, "NIST.800.53.R5-SQSQueueSSE", "holding-queue-sse")

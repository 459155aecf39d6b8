"""cdk-nag (AwsSolutions and NIST 800-53 rev 5) on every app the suite synthesizes.

Findings that AWS leaves no way around are acknowledged by the construct itself, each for
one exact finding and with a reason; everything else must be clean.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, List

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks

from streaming_labeling import StreamingLabelingJob, TaskType
from streaming_labeling.compliance import REASONS
from streaming_labeling.encryption import account_key_policy

from . import apps

NAG_PLUGINS = ("AwsSolutions", "NIST.800.53.R5")


def example_stack(app: cdk.App) -> None:
    from stacks.example_stack import ExampleLabelingStack

    ExampleLabelingStack(app, "StreamingLabelingExample")


def bring_your_own_stack(app: cdk.App) -> None:
    stack = cdk.Stack(app, "BringYourOwn")
    key = kms.Key(stack, "MyKey", enable_key_rotation=True, policy=account_key_policy())
    StreamingLabelingJob(
        stack, "Job", **apps.job_kwargs(TaskType.BOUNDING_BOX), existing_encryption_key=key,
        existing_input_topic=sns.Topic(stack, "MyIn", master_key=key, enforce_ssl=True),
        existing_output_topic=sns.Topic(stack, "MyOut", master_key=key, enforce_ssl=True),
        existing_input_bucket=s3.Bucket.from_bucket_name(stack, "MyInBucket", "my-input-bucket"),
        existing_output_bucket=s3.Bucket.from_bucket_name(stack, "MyOutBucket", "my-output-bucket"),
        existing_role=iam.Role.from_role_arn(stack, "MyRole", "arn:aws:iam::111122223333:role/my-gt-role"),
    )


def destroy_stack(app: cdk.App) -> None:
    stack = cdk.Stack(app, "DestroyMode")
    StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.IMAGE_MULTI_CLASS),
                         removal_policy=cdk.RemovalPolicy.DESTROY)


def many_task_types_stack(app: cdk.App) -> None:
    stack = cdk.Stack(app, "TaskTypes", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    for task_type in (TaskType.TEXT_MULTI_CLASS, TaskType.POINT_CLOUD_3D_OBJECT_TRACKING, apps.CUSTOM_TASK,
                      TaskType.NAMED_ENTITY_RECOGNITION, TaskType.VERIFICATION_BOUNDING_BOX):
        StreamingLabelingJob(stack, task_type.name.replace("_", ""), **apps.job_kwargs(task_type, "eu-west-1"))


APPS: Dict[str, Callable[[cdk.App], None]] = {
    "example": example_stack,
    "bring-your-own": bring_your_own_stack,
    "destroy": destroy_stack,
    "task-types": many_task_types_stack,
    "monitoring": lambda app: __import__("tests.test_monitoring", fromlist=["monitored_stack"]).monitored_stack(app),
    # A plain cdk.App() without the recommended feature flags (a test, an older project).
    "example-without-feature-flags": example_stack,
    "destroy-without-feature-flags": destroy_stack,
}


def nag(name: str, outdir: Path) -> tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """(unacknowledged nag findings, templates) of one app."""
    context = {} if name.endswith("without-feature-flags") else apps.cdk_context()
    return nag_findings(APPS[name], outdir, context)


def nag_findings(build: Callable[[cdk.App], None], outdir: Path,
                 context: Dict[str, Any]) -> tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """(unacknowledged AwsSolutions and NIST 800-53 R5 findings, templates) of the app ``build`` fills."""
    app = cdk.App(context=context, outdir=str(outdir))
    build(app)
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True),
        NIST80053R5Checks(app, write_suppressions_to_cloud_formation=True),
    )
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
    report_file = outdir / "validation-report.json"
    findings: List[Dict[str, Any]] = []
    if report_file.exists():
        report = json.loads(report_file.read_text())
        for plugin in report["pluginReports"]:
            findings += [
                {"rule": v["ruleName"], "at": [c["constructPath"] for c in v["violatingConstructs"]]}
                for v in plugin["violations"]
                if v["ruleName"].startswith(NAG_PLUGINS)
            ]
    templates = [json.loads(path.read_text()) for path in outdir.glob("*.template.json")]
    return findings, templates


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    return {name: nag(name, tmp_path_factory.mktemp(name)) for name in APPS}


@pytest.mark.parametrize("name", list(APPS))
def test_no_unacknowledged_nag_errors_or_warnings(results: Dict[str, Any], name: str) -> None:
    findings, _ = results[name]
    assert findings == []


def acknowledgements(templates: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    found = []
    for template in templates:
        for logical_id, resource in template["Resources"].items():
            for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
                found.append({"resource": logical_id, **rule})
    return found


def test_every_acknowledgement_is_for_one_finding_and_has_a_known_reason(results: Dict[str, Any]) -> None:
    listed = [ack for _, templates in results.values() for ack in acknowledgements(templates)]
    assert listed, "the acknowledgements are written to the templates for reviewers"
    known_reasons = set(REASONS.values())
    for ack in listed:
        assert ack.get("reason") in known_reasons, ack
        if ack["id"].startswith("AwsSolutions-IAM5"):
            assert "[Resource::" in ack["id"], "wildcard acknowledgements name the exact resource"
    rules = {ack["id"].split("[")[0] for ack in listed}
    assert rules <= {
        "AwsSolutions-IAM4", "AwsSolutions-IAM5", "NIST.800.53.R5-S3BucketReplicationEnabled",
        "NIST.800.53.R5-S3DefaultEncryptionKMS", "NIST.800.53.R5-LambdaConcurrency", "NIST.800.53.R5-LambdaDLQ",
        "NIST.800.53.R5-LambdaInsideVPC", "NIST.800.53.R5-IAMNoInlinePolicy",
        # The holding queue (renewal): no dead-letter queue, SSE-SQS rather than a KMS key.
        "AwsSolutions-SQS3", "NIST.800.53.R5-SQSQueueSSE",
    }, rules


def _sorted_actions(value: Any) -> Any:
    """Action and Resource lists in a fixed order: aws-cdk-lib's minimizePolicies flag sorts them."""
    if isinstance(value, dict):
        return {
            k: sorted(v, key=json.dumps) if k in ("Action", "Resource") and isinstance(v, list) else _sorted_actions(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_sorted_actions(item) for item in value]
    return value


@pytest.mark.parametrize("name", ["example", "destroy"])
def test_an_app_without_feature_flags_gets_the_same_resources(results: Dict[str, Any], name: str) -> None:
    (flagged,), (plain,) = results[name][1], results[f"{name}-without-feature-flags"][1]
    assert _sorted_actions(plain) == _sorted_actions(flagged)
    logs = next(r for logical, r in plain["Resources"].items()
                if logical.startswith("StreamingLabelingAccessLogsBucket") and r["Type"] == "AWS::S3::Bucket")
    assert "AccessControl" not in logs["Properties"], "no legacy LogDeliveryWrite ACL"
    assert logs["Properties"]["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


@pytest.mark.parametrize("name", ["example-without-feature-flags", "destroy-without-feature-flags", "monitoring"])
def test_an_app_without_feature_flags_and_the_alarms_are_cfn_lint_clean(results: Dict[str, Any], name: str) -> None:
    from .cfn import cfn_lint_findings

    (template,) = results[name][1]
    assert cfn_lint_findings(template) == []

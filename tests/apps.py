"""The distinct CDK apps the suite inspects, each synthesized once per test session."""

from __future__ import annotations

import json
from functools import cache
from typing import Any, Dict, Optional, Tuple

import aws_cdk as cdk
from aws_cdk import assertions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from streaming_labeling import StreamingLabelingJob, TaskType, Workforce
from streaming_labeling.encryption import account_key_policy

from .conftest import ROOT

WORKTEAM = "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/team"
CATALOG_REGIONS = ("us-east-1", "eu-west-1")
CUSTOM_TASK = TaskType.custom(
    pre_annotation_lambda_arn="arn:aws:lambda:us-east-1:111122223333:function:my-pre",
    consolidation_lambda_arn="arn:aws:lambda:us-east-1:111122223333:function:my-acs",
    template="<crowd-form><crowd-input name='answer'></crowd-input>{{ task.input.source }}</crowd-form>",
)


def cdk_context() -> Dict[str, Any]:
    """The feature flags the CLI passes to app.py, so tests synthesize what `cdk synth` does."""
    context: Dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


def new_app() -> cdk.App:
    return cdk.App(context=cdk_context())


def labels_for(task_type: TaskType) -> list[str]:
    return [f"label{i}" for i in range(max(task_type.min_labels, 3 if task_type.max_labels != 1 else 1))]


def workteam_in(region: str) -> str:
    """A private work team of the given region (a job can only use a work team of its own region)."""
    return WORKTEAM.replace(":us-east-1:", f":{region}:")


def job_kwargs(task_type: TaskType, region: str = "us-east-1", **overrides: Any) -> Dict[str, Any]:
    kwargs: Dict[str, Any] = dict(
        task_type=task_type,
        labels=labels_for(task_type),
        workforce=Workforce.private(workteam_in(region)),
        task_title="Label this object",
        task_description="Pick what fits",
    )
    if task_type.is_adjustment_or_verification:
        kwargs["source_label_attribute_name"] = "original-ref" if task_type.label_attribute_needs_ref else "original"
    kwargs.update(overrides)
    return kwargs


def logical_id(stack: cdk.Stack, job: StreamingLabelingJob) -> str:
    return stack.get_logical_id(job.resource.node.default_child)  # type: ignore[arg-type]


@cache
def example() -> Tuple[Dict[str, Any], str]:
    """The example app's stack, as `make synth` builds it."""
    from stacks.example_stack import ExampleLabelingStack

    app = new_app()
    stack = ExampleLabelingStack(app, "StreamingLabelingExample")
    template = assertions.Template.from_stack(stack).to_json()
    return template, logical_id(stack, stack.job)


@cache
def catalog() -> Dict[str, Tuple[Dict[str, Any], Dict[str, str]]]:
    """One stack per region with one job per built-in task type, plus a custom one."""
    app = new_app()
    stacks = {}
    for region in CATALOG_REGIONS:
        stack = cdk.Stack(app, f"Catalog-{region}", env=cdk.Environment(account="111122223333", region=region))
        key = kms.Key(stack, "SharedKey", enable_key_rotation=True, policy=account_key_policy())
        ids = {}
        for task_type in [*TaskType.built_in(), CUSTOM_TASK]:
            name = task_type.name if not task_type.is_custom else "CUSTOM"
            job = StreamingLabelingJob(stack, name.replace("_", ""), existing_encryption_key=key,
                                       **job_kwargs(task_type, region))
            ids[name] = logical_id(stack, job)
        stacks[region] = (stack, ids)
    return {
        region: (assertions.Template.from_stack(stack).to_json(), ids) for region, (stack, ids) in stacks.items()
    }


@cache
def bring_your_own() -> Tuple[Dict[str, Any], str]:
    """Every existing_* prop given."""
    app = new_app()
    stack = cdk.Stack(app, "BringYourOwn")
    key = kms.Key(stack, "MyKey", enable_key_rotation=True, policy=account_key_policy())
    job = StreamingLabelingJob(
        stack,
        "Job",
        **job_kwargs(TaskType.BOUNDING_BOX),
        existing_encryption_key=key,
        existing_input_topic=sns.Topic(stack, "MyIn", master_key=key, enforce_ssl=True),
        existing_output_topic=sns.Topic(stack, "MyOut", master_key=key, enforce_ssl=True),
        existing_input_bucket=s3.Bucket.from_bucket_name(stack, "MyInBucket", "my-input-bucket"),
        existing_output_bucket=s3.Bucket.from_bucket_name(stack, "MyOutBucket", "my-output-bucket"),
        existing_role=iam.Role.from_role_arn(stack, "MyRole", "arn:aws:iam::111122223333:role/my-gt-role"),
    )
    return assertions.Template.from_stack(stack).to_json(), logical_id(stack, job)


@cache
def destroy_mode() -> Tuple[Dict[str, Any], str]:
    app = new_app()
    stack = cdk.Stack(app, "DestroyMode")
    job = StreamingLabelingJob(stack, "Job", **job_kwargs(TaskType.IMAGE_MULTI_CLASS), removal_policy=cdk.RemovalPolicy.DESTROY)
    return assertions.Template.from_stack(stack).to_json(), logical_id(stack, job)


def resources_of_type(template: Dict[str, Any], kind: str, under: Optional[str] = None) -> Dict[str, Any]:
    return {
        logical: resource
        for logical, resource in template["Resources"].items()
        if resource["Type"] == kind and (under is None or logical.startswith(under))
    }


def only_resource(template: Dict[str, Any], kind: str, under: Optional[str] = None) -> Dict[str, Any]:
    """The one resource of a type (whose logical id starts with ``under``); fails naming what was found."""
    found = resources_of_type(template, kind, under)
    assert len(found) == 1, (kind, under, list(found))
    return next(iter(found.values()))


def policy_statements(template: Dict[str, Any], policy_prefix: str) -> list[Dict[str, Any]]:
    """Every statement of the inline and managed policies whose logical ids start with ``policy_prefix``."""
    policies = {
        **resources_of_type(template, "AWS::IAM::Policy", policy_prefix),
        **resources_of_type(template, "AWS::IAM::ManagedPolicy", policy_prefix),
    }
    return [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]

"""The example stack's template, snapshotted; asset hashes normalized so it is stable across machines."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import assertions
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from . import apps

ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def normalized(template: dict[str, Any]) -> Any:
    return json.loads(ASSET_HASH.sub("<asset-hash>", json.dumps(template, sort_keys=True)))


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def test_example_stack_template(snapshot_json: SnapshotAssertion) -> None:
    template, _ = apps.example()
    assert normalized(template) == snapshot_json


def test_synthesis_is_deterministic_including_the_handler_asset_hash() -> None:
    from stacks.example_stack import ExampleLabelingStack

    from .handler_harness import HANDLER_FILE

    cache = HANDLER_FILE.parent / "__pycache__"
    cache.mkdir(exist_ok=True)
    stray = cache / "index.cpython-311.pyc"
    stray.write_bytes(b"not part of the asset")
    try:
        again = assertions.Template.from_stack(ExampleLabelingStack(apps.new_app(), "StreamingLabelingExample")).to_json()
    finally:
        stray.unlink()
    assert json.dumps(again, sort_keys=True) == json.dumps(apps.example()[0], sort_keys=True)


def test_warnings_have_stable_ids_and_the_service_warning_appears_once_per_stack() -> None:
    app = apps.new_app()
    import aws_cdk as cdk

    from streaming_labeling import StreamingLabelingJob, TaskType, Workforce

    stack = cdk.Stack(app, "Warnings")
    StreamingLabelingJob(stack, "Public", **apps.job_kwargs(
        TaskType.IMAGE_MULTI_CLASS, workforce=Workforce.public(price_per_task_usd="0.036")))
    StreamingLabelingJob(stack, "Private", **apps.job_kwargs(TaskType.IMAGE_MULTI_CLASS))
    warnings = assertions.Annotations.from_stack(stack).find_warning("*", assertions.Match.any_value())
    closed = [w for w in warnings if "streaming-labeling:GroundTruthClosedToNewCustomers" in str(w.entry.data)]
    mturk = [w for w in warnings if "streaming-labeling:MechanicalTurkClosed" in str(w.entry.data)]
    assert [w.id for w in closed] == ["/Warnings"]
    assert [w.id for w in mturk] == ["/Warnings/Public"]


@pytest.mark.parametrize("stack_warning_acknowledged_first", [True, False])
def test_the_readme_code_acknowledges_each_warning(stack_warning_acknowledged_first: bool) -> None:
    """The exact calls the README shows; the stack-wide one works before or after the jobs are added."""
    import aws_cdk as cdk
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3

    from streaming_labeling import StreamingLabelingJob, TaskType, Workforce

    stack = cdk.Stack(apps.new_app(), "Acknowledged")
    if stack_warning_acknowledged_first:
        cdk.Annotations.of(stack).acknowledge_warning(
            "streaming-labeling:GroundTruthClosedToNewCustomers", "This account already uses Ground Truth")
    job = StreamingLabelingJob(stack, "Public", **apps.job_kwargs(
        TaskType.IMAGE_MULTI_CLASS, workforce=Workforce.public(price_per_task_usd="0.036"),
        input_bucket_props=s3.BucketProps(enforce_ssl=False),
        existing_encryption_key=kms.Key.from_key_arn(
            stack, "Imported", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")))
    before = assertions.Annotations.from_stack(stack).find_warning("*", assertions.Match.any_value())
    ids = {str(w.entry.data).rsplit("[ack: ", 1)[-1].rstrip("]") for w in before}
    assert {"streaming-labeling:MechanicalTurkClosed", "streaming-labeling:ImportedKeyPolicyNotManaged",
            "streaming-labeling:OverriddenProp:input_bucket_props.enforce_ssl"} <= ids
    if not stack_warning_acknowledged_first:
        cdk.Annotations.of(stack).acknowledge_warning(
            "streaming-labeling:GroundTruthClosedToNewCustomers", "This account already uses Ground Truth")
    cdk.Annotations.of(job).acknowledge_warning("streaming-labeling:MechanicalTurkClosed", "Sandbox only")
    cdk.Annotations.of(job).acknowledge_warning("streaming-labeling:ImportedKeyPolicyNotManaged", "Key policy reviewed")
    cdk.Annotations.of(job).acknowledge_warning(
        "streaming-labeling:OverriddenProp:input_bucket_props.enforce_ssl", "SSL stays enforced, as it should")
    warnings = assertions.Annotations.from_stack(stack).find_warning("*", assertions.Match.any_value())
    assert [str(w.entry.data) for w in warnings] == []

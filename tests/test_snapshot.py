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


def test_warnings_have_stable_ids_and_appear_once_per_construct() -> None:
    app = apps.new_app()
    import aws_cdk as cdk

    from streaming_labeling import StreamingLabelingJob, TaskType, Workforce

    stack = cdk.Stack(app, "Warnings")
    StreamingLabelingJob(stack, "Public", **apps.job_kwargs(
        TaskType.IMAGE_MULTI_CLASS, workforce=Workforce.public(price_per_task_usd="0.036")))
    StreamingLabelingJob(stack, "Private", **apps.job_kwargs(TaskType.IMAGE_MULTI_CLASS))
    warnings = assertions.Annotations.from_stack(stack).find_warning("*", assertions.Match.any_value())
    texts = [str(w.entry.data) for w in warnings]
    closed = [t for t in texts if "streaming-labeling:GroundTruthClosedToNewCustomers" in t]
    mturk = [t for t in texts if "streaming-labeling:MechanicalTurkClosed" in t]
    assert len(closed) == 2 and len(mturk) == 1

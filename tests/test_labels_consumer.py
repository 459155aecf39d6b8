"""The README's consumer that trains from the export ("Getting the labels"), run as written against a text
job on the local Ground Truth whose simulated workers label by a rule the classifier must learn."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any, Dict

import aws_cdk as cdk
import pytest

from streaming_labeling import StreamingLabelingJob, TaskType, Workforce
from streaming_labeling.testing import LocalGroundTruth

from . import apps
from .conftest import ROOT

pytestmark = pytest.mark.slow

MARKER = "<!-- tests/test_labels_consumer.py runs this block -->"
GOOD = ["a good day", "good food and a good view", "what a good idea", "good service", "a good film"]
BAD = ["a bad day", "bad food", "what a bad idea", "bad service and a bad view", "a bad film"]


def readme_block() -> str:
    after = (ROOT / "README.md").read_text().split(MARKER, 1)[1]
    match = re.search(r"```python\n(.*?)```", after, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_the_readme_consumer_trains_a_classifier_from_the_labels(tmp_path: Any) -> None:
    with LocalGroundTruth() as local:
        stack = cdk.Stack(apps.new_app(), "Reviews")
        job = StreamingLabelingJob(
            stack, "Reviews", task_type=TaskType.TEXT_MULTI_CLASS, labels=["positive", "negative"],
            workforce=Workforce.private("arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/team"),
            task_title="Positive or negative?", task_description="Pick the sentiment",
            label_attribute_name="sentiment", job_name_prefix="reviews")
        local.workforce = lambda task: {"crowd-classifier": {
            "label": "positive" if "good" in task.input["taskObject"] else "negative"}}
        deployed = local.deploy(stack)
        name = deployed.job_name(job)
        texts = tmp_path / "reviews.txt"
        texts.write_text("\n".join(GOOD + BAD) + "\n")
        sent = subprocess.run([sys.executable, "-m", "streaming_labeling", "send", "--job-name", name,
                               "--text-file", str(texts)], env=local.env, capture_output=True, text=True, timeout=120)
        assert sent.returncode == 0, sent.stderr
        local.wait_for_labels(name, count=len(GOOD + BAD), timeout=120)

        code = readme_block().replace('"reviews-0123456789ab"', json.dumps(name))
        saved = dict(os.environ)
        os.environ.update(local.env)
        try:
            scope: Dict[str, Any] = {}
            exec(code, scope)  # noqa: S102 - the README's code, as a user runs it
        finally:
            os.environ.clear()
            os.environ.update(saved)
        assert dict(scope["documents"]) == {"positive": len(GOOD), "negative": len(BAD)}
        assert scope["predict"]("such a good time") == "positive"
        assert scope["predict"]("such a bad time") == "negative"
        local.destroy(deployed)

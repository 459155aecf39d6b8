"""The README's advice to consumers, run as written: cdk-nag 3 in your own app, grant findings acknowledged."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, List

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from streaming_labeling import StreamingLabelingJob, TaskType

from . import apps
from .conftest import ROOT

MARKER = "<!-- tests/test_consumer_docs.py runs this block -->"


def readme_block() -> str:
    text = (ROOT / "README.md").read_text()
    after = text.split(MARKER, 1)[1]
    match = re.search(r"```python\n(.*?)```", after, re.DOTALL)
    assert match is not None
    return match.group(1)


def consumer_findings(tmp_path: Path, acknowledged: bool) -> List[Dict[str, Any]]:
    """AwsSolutions findings on the consumer of an app that follows the README (or skips its acknowledgement)."""
    app = cdk.App(context=apps.cdk_context(), outdir=str(tmp_path))
    stack = cdk.Stack(app, "Consumer")
    job = StreamingLabelingJob(stack, "Animals", **apps.job_kwargs(TaskType.IMAGE_MULTI_CLASS))
    consumer = lambda_.Function(stack, "LabelConsumer", runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler",
                                code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"))
    code = readme_block()
    if not acknowledged:
        code = code.split("bucket = ", 1)[0]
    exec(code, {"app": app, "stack": stack, "job": job, "consumer": consumer})  # noqa: S102 - the README's code
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()  # the consumer's own findings (its managed logging policy) remain: nag did run
    report = json.loads((tmp_path / "validation-report.json").read_text())
    return [
        {"rule": violation["ruleName"], "at": construct["constructPath"]}
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
        if construct["constructPath"].startswith("Consumer/LabelConsumer")
    ]


def test_grant_read_output_puts_four_iam5_findings_on_the_consumer(tmp_path: Path) -> None:
    iam5 = sorted(f["rule"] for f in consumer_findings(tmp_path, acknowledged=False) if "IAM5" in f["rule"])
    assert len(iam5) == 4, iam5
    assert any(rule.startswith("AwsSolutions-IAM5[Resource::<AnimalsOutputBucket") for rule in iam5)


def test_the_readme_acknowledgement_clears_exactly_those(tmp_path: Path) -> None:
    remaining = consumer_findings(tmp_path, acknowledged=True)
    assert [f for f in remaining if "IAM5" in f["rule"]] == []
    assert {f["rule"] for f in remaining} == {
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]"
    }

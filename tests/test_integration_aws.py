"""Opt-in, against a real AWS account: deploy the example, send one object, destroy, check the job stopped.

Skipped unless STREAMING_LABELING_INTEGRATION=1, AWS credentials, and
STREAMING_LABELING_WORKTEAM_ARN (a private work team of the account, in the region) are set.
The account must be an existing Ground Truth customer and bootstrapped (``cdk bootstrap``).
It deploys real resources (and, with a private work team, costs nothing per object until
workers label it); the stack is destroyed at the end, its data buckets are retained.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any, Dict

import pytest

from .conftest import ROOT

WORKTEAM = os.environ.get("STREAMING_LABELING_WORKTEAM_ARN", "")
ENABLED = os.environ.get("STREAMING_LABELING_INTEGRATION") == "1" and bool(WORKTEAM)
STACK = "StreamingLabelingIntegration"

pytestmark = pytest.mark.skipif(not ENABLED, reason="set STREAMING_LABELING_INTEGRATION=1 and "
                                "STREAMING_LABELING_WORKTEAM_ARN (and AWS credentials) to run against AWS")


def cdk(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{ROOT / 'node_modules' / '.bin'}:{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"}
    return subprocess.run(["cdk", *args, "-c", f"streaming-labeling:workteamArn={WORKTEAM}", "--require-approval",
                           "never", "--app", f"{sys.executable} app.py"], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=3600, check=False)


def test_deploy_send_destroy() -> None:
    import boto3

    cloudformation, sagemaker = boto3.client("cloudformation"), boto3.client("sagemaker")
    deployed = cdk("deploy", "StreamingLabelingExample", "--outputs-file", "cdk.out/integration-outputs.json")
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    outputs: Dict[str, Any] = json.loads((ROOT / "cdk.out" / "integration-outputs.json").read_text())
    job_name = outputs["StreamingLabelingExample"]["JobName"]
    try:
        assert sagemaker.describe_labeling_job(LabelingJobName=job_name)["LabelingJobStatus"] == "InProgress"
        sent = subprocess.run([sys.executable, "-m", "streaming_labeling", "send", "--job-name", job_name,
                               "--text-file", "-"], input="integration test object\n", text=True,
                              capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT / "constructs")})
        assert sent.returncode == 0 and "1 data objects sent" in sent.stderr, sent.stderr
    finally:
        destroyed = cdk("destroy", "--force", "StreamingLabelingExample")
        assert destroyed.returncode == 0, destroyed.stderr[-3000:]
    deadline = time.time() + 900
    while time.time() < deadline:
        status = sagemaker.describe_labeling_job(LabelingJobName=job_name)["LabelingJobStatus"]
        if status == "Stopped":
            break
        time.sleep(15)
    assert status == "Stopped"
    assert not [s for s in cloudformation.list_stacks(StackStatusFilter=["CREATE_COMPLETE", "UPDATE_COMPLETE"])[
        "StackSummaries"] if s["StackName"] == "StreamingLabelingExample"]

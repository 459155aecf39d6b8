"""The CDK-convention integration test (tests/integ/integ_streaming_labeling.py), synthesized offline.

integ-runner would compare the app's snapshot, but the newest integ-runner on the registry
(2.197.10) bundles a cloud-assembly reader for schema 53 and cannot read what aws-cdk-lib 2.275
writes (schema 55): "Maximum schema version supported is 53.x.x, but found 55.0.0". Until it
can, this test runs the app as integ-runner would (``python <file>`` with ``CDK_OUTDIR``) and
checks what integ-runner reads: the test case manifest and the assertions it deploys.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

from .conftest import ROOT

INTEG_APP = ROOT / "tests" / "integ" / "integ_streaming_labeling.py"


def synthesize(outdir: Path) -> Dict[str, Any]:
    env = {**os.environ, "CDK_OUTDIR": str(outdir)}
    env.pop("STREAMING_LABELING_WORKTEAM_ARN", None)
    done = subprocess.run([sys.executable, str(INTEG_APP)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest: Dict[str, Any] = json.loads((outdir / "manifest.json").read_text())
    return manifest


def api_calls(template: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"].startswith("Custom::DeployAssert@SdkCall")]


def test_the_integ_app_declares_its_test_case_and_assertions(tmp_path: Path) -> None:
    manifest = synthesize(tmp_path)
    integ = json.loads((tmp_path / "integ.json").read_text())
    (case,) = integ["testCases"].values()
    assert case["stacks"] == ["StreamingLabelingInteg"]
    (artifact,) = [a for a in manifest["artifacts"].values() if a.get("displayName") == case["assertionStack"]]
    assertions = json.loads((tmp_path / artifact["properties"]["templateFile"]).read_text())
    calls = {(c["service"], c["api"]): c for c in api_calls(assertions)}
    assert set(calls) == {("SageMaker", "describeLabelingJob"), ("SNS", "publish"), ("SQS", "receiveMessage")}
    assert "InProgress" in json.dumps(calls[("SageMaker", "describeLabelingJob")]["expected"])
    assert "integ-sentiment" in json.dumps(calls[("SQS", "receiveMessage")]["expected"])
    job_stack = json.loads((tmp_path / "StreamingLabelingInteg.template.json").read_text())
    kinds = {r["Type"] for r in job_stack["Resources"].values()}
    assert {"Custom::SageMakerStreamingLabelingJob", "AWS::SQS::Queue", "AWS::SNS::Subscription"} <= kinds

"""The library as another app gets it: a built wheel, used from outside this repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Dict

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow  # the e2e / local-cloud loop: deselect with -m 'not slow'

OUTSIDE_APP = '''
import aws_cdk as cdk
from aws_cdk import aws_iam as iam, aws_kms as kms, aws_s3 as s3, aws_sns as sns
import streaming_labeling
from streaming_labeling import StreamingLabelingJob, TaskType, Workforce

TEAM = "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/team"
app = cdk.App(outdir="cdk.out")
defaults = cdk.Stack(app, "Defaults")
StreamingLabelingJob(defaults, "Job", task_type=TaskType.BOUNDING_BOX, labels=["car"],
                     workforce=Workforce.private(TEAM), task_title="Boxes", task_description="Draw boxes")
byo = cdk.Stack(app, "BringYourOwn")
key = kms.Key(byo, "Key", enable_key_rotation=True)
StreamingLabelingJob(
    byo, "Job", task_type=TaskType.TEXT_MULTI_CLASS, labels=["good", "bad"],
    workforce=Workforce.private(TEAM), task_title="Sentiment", task_description="Good or bad?",
    existing_encryption_key=key,
    existing_input_topic=sns.Topic(byo, "In", master_key=key),
    existing_output_topic=sns.Topic(byo, "Out", master_key=key),
    existing_input_bucket=s3.Bucket.from_bucket_name(byo, "InBucket", "my-in"),
    existing_output_bucket=s3.Bucket.from_bucket_name(byo, "OutBucket", "my-out"),
    existing_role=iam.Role.from_role_arn(byo, "Role", "arn:aws:iam::111122223333:role/gt"),
)
app.synth()
print(streaming_labeling.__file__)
'''


@pytest.fixture(scope="module")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    """A wheel and an sdist, as ``python -m build`` (``make dist``) makes them."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("streaming_labeling_job-*.whl")
    (sdist,) = out.glob("streaming_labeling_job-*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


def test_the_distributions_hold_the_library_the_handler_and_the_license(distributions: Dict[str, Path]) -> None:
    names = zipfile.ZipFile(distributions["wheel"]).namelist()
    assert "streaming_labeling/handler/index.py" in names
    assert "streaming_labeling/py.typed" in names
    assert any(name.endswith("licenses/LICENSE") for name in names), names
    assert not any("__pycache__" in name or name.startswith("tests/") for name in names)
    with tarfile.open(distributions["sdist"]) as sdist:
        members = [Path(member).relative_to(Path(member).parts[0]).as_posix() for member in sdist.getnames()
                   if len(Path(member).parts) > 1]
    for needed in ("LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml",
                   "constructs/streaming_labeling/handler/index.py"):
        assert needed in members, needed
    assert not any("__pycache__" in member for member in members)


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_each_distribution_installs_and_synthesizes_from_outside_the_repo(
    distributions: Dict[str, Path], kind: str, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--target", str(site), str(distributions[kind])],
        check=True,
        capture_output=True,
    )
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(OUTSIDE_APP)
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run([sys.executable, "app.py"], cwd=app_dir, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1].startswith(str(site)), f"the {kind}, not the checkout, was used"
    for stack in ("Defaults", "BringYourOwn"):
        template = json.loads((app_dir / "cdk.out" / f"{stack}.template.json").read_text())
        kinds = {resource["Type"] for resource in template["Resources"].values()}
        assert "Custom::SageMakerStreamingLabelingJob" in kinds
    assets = list((app_dir / "cdk.out").glob("asset.*/index.py"))
    assert assets, "the handler asset ships inside the distribution"

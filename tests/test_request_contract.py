"""For every task type, the request the handler would send satisfies botocore's SageMaker model.

The construct's synthesized properties are resolved as CloudFormation would
(with every scalar turned into a string), handed to the handler's own request
builder, and the result checked against the model's shapes, patterns and ranges.
"""

from __future__ import annotations

from typing import Any, List

import pytest

from streaming_labeling import TaskType

from . import apps
from .api_contract import request_violations
from .cfn import custom_resource_properties
from .handler_harness import event, load_handler

HANDLER = load_handler()


class _Context:
    """A Lambda context with its full 15 minutes ahead."""

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@pytest.mark.parametrize("region", apps.CATALOG_REGIONS)
@pytest.mark.parametrize("task_name", [t.name for t in TaskType.built_in()] + ["CUSTOM"])
def test_the_request_for_each_task_type_validates_against_the_api_model(
    region: str, task_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    template, ids = apps.catalog()[region]
    properties = custom_resource_properties(template, ids[task_name], region)
    uploads: List[tuple[str, str]] = []

    def record_upload(deadline: Any, uri: str, body: str, kms_key_id: Any, content_type: str) -> None:
        uploads.append((uri, body))

    monkeypatch.setattr(HANDLER, "put_config_object", record_upload)
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setattr(HANDLER, "_clients", {})
    name = HANDLER.job_name(event("Create", "", properties), properties)
    request = HANDLER.build_request(HANDLER.Deadline(_Context(), 0), name, properties)

    assert request_violations("CreateLabelingJob", request) == []
    task_type = getattr(TaskType, task_name, None)
    assert isinstance(request["HumanTaskConfig"]["NumberOfHumanWorkersPerDataObject"], int)
    if task_type is not None and not task_type.uses_built_in_ui or task_name == "CUSTOM":
        assert any(uri.endswith("worker-template.liquid.html") for uri, _ in uploads)
    if task_name != "CUSTOM":
        assert request["LabelCategoryConfigS3Uri"].endswith("/label-categories.json")


def test_the_model_validator_rejects_what_the_api_rejects() -> None:
    bad = {"LabelingJobName": "Bad_Name", "LabelAttributeName": "x", "RoleArn": "nope",
           "InputConfig": {"DataSource": {}}, "OutputConfig": {"S3OutputPath": "s3://b/"},
           "HumanTaskConfig": {"WorkteamArn": "arn", "UiConfig": {}, "TaskTitle": "t", "TaskDescription": "d",
                               "NumberOfHumanWorkersPerDataObject": 10, "TaskTimeLimitInSeconds": 5}}
    problems = "\n".join(request_violations("CreateLabelingJob", bad))
    for fragment in ("LabelingJobName", "RoleArn", "WorkteamArn", "NumberOfHumanWorkersPerDataObject: 10 > max 9",
                     "TaskTimeLimitInSeconds: 5 < min 30"):
        assert fragment in problems, fragment

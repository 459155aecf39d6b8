"""The custom-resource handler's lifecycle, driven through botocore's Stubber."""

from __future__ import annotations

import json
import re
from typing import Any, Dict, Iterator

import pytest

from .api_contract import request_violations
from .handler_harness import (
    STACK_ID,
    Harness,
    ResponseServer,
    base_properties,
    create_response,
    describe_response,
    event,
)


@pytest.fixture(scope="module")
def server() -> Iterator[ResponseServer]:
    srv = ResponseServer()
    yield srv
    srv.close()


@pytest.fixture
def h(server: ResponseServer) -> Harness:
    return Harness(server)


def name_for(h: Harness, properties: Dict[str, Any], stack_id: str = STACK_ID) -> str:
    name: str = h.module.job_name(event("Create", "", properties, stack_id=stack_id), properties)
    return name


# --- names ------------------------------------------------------------------


def test_job_names_are_stable_lowercase_and_within_the_api_pattern(h: Harness) -> None:
    props = base_properties(JobNamePrefix="A" * 50)
    name = name_for(h, props)
    assert name == name_for(h, base_properties(JobNamePrefix="A" * 50))
    assert name == name.lower() and len(name) <= 63
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name)
    assert not request_violations("DescribeLabelingJob", {"LabelingJobName": name})


def test_a_property_change_or_a_new_stack_gives_a_new_name(h: Harness) -> None:
    props = base_properties()
    changed = base_properties()
    changed["Request"]["HumanTaskConfig"]["TaskTitle"] = "Another title"
    assert name_for(h, props) != name_for(h, changed)
    other_stack = STACK_ID.replace("5b4f0c90", "77777777")
    assert name_for(h, props) != name_for(h, props, stack_id=other_stack)


def test_non_job_properties_do_not_rename_the_job(h: Harness) -> None:
    props = base_properties()
    assert name_for(h, props) == name_for(h, base_properties(WaitForStoppedOnDelete="true", ServiceTimeout="60"))


# --- create -------------------------------------------------------------------


def test_create_uploads_config_starts_the_job_and_waits_for_in_progress(h: Harness) -> None:
    evt = event("Create", h.server.url)
    name = name_for(h, evt["ResourceProperties"])
    h.s3_stub.add_response("put_object", {}, {"Bucket": "output-bucket", "Key": f"labeling-job-config/{name}/label-categories.json",
                                              "Body": evt["ResourceProperties"]["LabelCategoryConfig"].encode(),
                                              "ContentType": "application/json", "ServerSideEncryption": "aws:kms",
                                              "SSEKMSKeyId": evt["ResourceProperties"]["ConfigKmsKeyId"]})
    h.s3_stub.add_response("put_object", {})
    arn = f"arn:aws:sagemaker:us-east-1:111122223333:labeling-job/{name}"
    h.sagemaker_stub.add_response("create_labeling_job", {"LabelingJobArn": arn})
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response(name, "Initializing"))
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response(name, "InProgress"))

    response = h.run(evt)

    assert response["Status"] == "SUCCESS", response
    assert response["PhysicalResourceId"] == name
    assert response["Data"] == {"JobName": name, "JobArn": arn}
    assert len(json.dumps(response)) < 4096
    (request,) = h.requests("CreateLabelingJob")
    assert request_violations("CreateLabelingJob", request) == []
    assert request["LabelingJobName"] == name
    assert request["HumanTaskConfig"]["NumberOfHumanWorkersPerDataObject"] == 1
    assert request["LabelCategoryConfigS3Uri"] == f"s3://output-bucket/labeling-job-config/{name}/label-categories.json"
    assert request["HumanTaskConfig"]["UiConfig"]["UiTemplateS3Uri"].endswith(f"{name}/worker-template.liquid.html")
    assert "StoppingConditions" not in request and "LabelingJobAlgorithmsConfig" not in request
    created_at = h.times("CreateLabelingJob")[0]
    first_look = h.times("DescribeLabelingJob")[0]
    assert first_look - created_at <= 5, "the first status check comes within ~5 s"
    assert h.times("DescribeLabelingJob")[1] - first_look <= 5, "and polling starts fast"
    h.sagemaker_stub.assert_no_pending_responses()


def test_a_failed_job_is_reported_with_its_failure_reason(h: Harness) -> None:
    evt = event("Create", h.server.url)
    name = name_for(h, evt["ResourceProperties"])
    h.expect_config_uploads()
    h.sagemaker_stub.add_response("create_labeling_job", create_response(name))
    h.sagemaker_stub.add_response(
        "describe_labeling_job", describe_response(name, "Failed", failure="Workteam not found in this region")
    )
    response = h.run(evt)
    assert response["Status"] == "FAILED"
    assert "Workteam not found in this region" in response["Reason"]
    assert response["PhysicalResourceId"] == name


def test_a_retried_create_adopts_the_job_it_already_created(h: Harness) -> None:
    evt = event("Create", h.server.url)
    name = name_for(h, evt["ResourceProperties"])
    h.expect_config_uploads()
    h.sagemaker_stub.add_client_error("create_labeling_job", "ResourceInUse", f"Job {name} already exists")
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response(name, "InProgress"))
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response(name, "InProgress"))
    response = h.run(evt)
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == name


def test_a_name_taken_by_another_job_fails_and_says_what_to_change(h: Harness) -> None:
    evt = event("Create", h.server.url)
    name = name_for(h, evt["ResourceProperties"])
    h.expect_config_uploads()
    h.sagemaker_stub.add_client_error("create_labeling_job", "ResourceInUse", "exists")
    h.sagemaker_stub.add_response(
        "describe_labeling_job", describe_response(name, "InProgress", role_arn="arn:aws:iam::111122223333:role/other")
    )
    response = h.run(evt)
    assert response["Status"] == "FAILED"
    assert "job_name_prefix" in response["Reason"] and "'animals'" in response["Reason"]
    assert response["PhysicalResourceId"] != name, "Delete must never stop somebody else's job"


def test_iam_propagation_validation_errors_are_retried(h: Harness) -> None:
    evt = event("Create", h.server.url)
    name = name_for(h, evt["ResourceProperties"])
    h.expect_config_uploads()
    h.sagemaker_stub.add_client_error("create_labeling_job", "ValidationException", "Could not assume role gt-role")
    h.sagemaker_stub.add_client_error("create_labeling_job", "ValidationException", "Could not assume role gt-role")
    h.sagemaker_stub.add_response("create_labeling_job", create_response(name))
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response(name, "InProgress"))
    response = h.run(evt)
    assert response["Status"] == "SUCCESS"
    assert len(h.requests("CreateLabelingJob")) == 3


def test_iam_propagation_retries_are_bounded(h: Harness) -> None:
    evt = event("Create", h.server.url)
    h.expect_config_uploads()
    for _ in range(40):
        h.sagemaker_stub.add_client_error("create_labeling_job", "ValidationException", "Could not assume role gt-role")
    response = h.run(evt)
    assert response["Status"] == "FAILED"
    assert "Could not assume role" in response["Reason"]
    assert h.clock.now - 1000.0 <= h.module.IAM_PROPAGATION_RETRY_SECONDS + 10


def test_other_validation_errors_fail_at_once_with_sagemakers_message(h: Harness) -> None:
    evt = event("Create", h.server.url)
    h.expect_config_uploads()
    h.sagemaker_stub.add_client_error("create_labeling_job", "ValidationException", "TaskKeywords: bad keyword '!!'")
    response = h.run(evt)
    assert response["Status"] == "FAILED"
    assert response["Reason"] == "CreateLabelingJob failed: ValidationException: TaskKeywords: bad keyword '!!'"
    assert response["PhysicalResourceId"].startswith("CREATE_FAILED:")
    assert len(h.requests("CreateLabelingJob")) == 1


def test_throttling_is_retried_with_backoff(h: Harness) -> None:
    evt = event("Create", h.server.url)
    name = name_for(h, evt["ResourceProperties"])
    h.expect_config_uploads()
    h.sagemaker_stub.add_client_error("create_labeling_job", "ThrottlingException", "Rate exceeded")
    h.sagemaker_stub.add_client_error("create_labeling_job", "ThrottlingException", "Rate exceeded")
    h.sagemaker_stub.add_response("create_labeling_job", create_response(name))
    h.sagemaker_stub.add_client_error("describe_labeling_job", "ThrottlingException", "Rate exceeded")
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response(name, "InProgress"))
    response = h.run(evt)
    assert response["Status"] == "SUCCESS"
    assert h.clock.sleeps[:2] == [1.0, 2.0], "exponential backoff"


def test_waiting_ends_with_failed_before_the_lambda_times_out(h: Harness) -> None:
    evt = event("Create", h.server.url)
    name = name_for(h, evt["ResourceProperties"])
    h.expect_config_uploads()
    h.sagemaker_stub.add_response("create_labeling_job", create_response(name))
    for _ in range(60):
        h.sagemaker_stub.add_response("describe_labeling_job", describe_response(name, "Initializing"))
    start = h.clock.now
    response = h.run(evt, timeout_seconds=300)
    assert response["Status"] == "FAILED"
    assert "did not reach InProgress" in response["Reason"]
    assert response["PhysicalResourceId"] == name, "the rollback's Delete must stop the job"
    assert h.clock.now - start < 300, "the answer went out before the Lambda's timeout"


def test_unexpected_errors_reach_cloudformation_without_a_traceback(h: Harness) -> None:
    evt = event("Create", h.server.url, base_properties(Request="not a dict"))
    response = h.run(evt)
    assert response["Status"] == "FAILED"
    assert "Traceback" not in response["Reason"]
    assert "log stream" in response["Reason"]


def test_a_failed_response_put_is_retried(h: Harness) -> None:
    h.server.fail_next = 2
    evt = event("Delete", h.server.url, physical_id="CREATE_FAILED:req-0001")
    response = h.run(evt)
    assert response["Status"] == "SUCCESS"


# --- update -------------------------------------------------------------------


def test_an_update_that_keeps_the_job_properties_keeps_the_job(h: Harness) -> None:
    props = base_properties(WaitForStoppedOnDelete="true")
    name = name_for(h, props)
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response(name, "InProgress"))
    response = h.run(event("Update", h.server.url, props, physical_id=name, old_properties=base_properties()))
    assert response["Status"] == "SUCCESS" and response["PhysicalResourceId"] == name
    assert h.requests("CreateLabelingJob") == []


def test_an_update_that_changes_the_job_creates_a_new_one(h: Harness) -> None:
    old = base_properties()
    new = base_properties()
    new["Request"]["HumanTaskConfig"]["TaskDescription"] = "Pick exactly one"
    old_name, new_name = name_for(h, old), name_for(h, new)
    h.expect_config_uploads()
    h.sagemaker_stub.add_response("create_labeling_job", create_response(new_name))
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response(new_name, "InProgress"))
    response = h.run(event("Update", h.server.url, new, physical_id=old_name, old_properties=old))
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == new_name != old_name


def test_a_rolled_back_update_finds_and_keeps_the_old_running_job(h: Harness) -> None:
    old = base_properties()
    new = base_properties()
    new["Request"]["HumanTaskConfig"]["TaskDescription"] = "Pick exactly one"
    old_name, new_name = name_for(h, old), name_for(h, new)
    h.expect_config_uploads()
    h.sagemaker_stub.add_client_error("create_labeling_job", "ResourceInUse", "exists")
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response(old_name, "InProgress"))
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response(old_name, "InProgress"))
    # Rollback: CloudFormation sends the old properties as the new ones.
    response = h.run(event("Update", h.server.url, old, physical_id=new_name, old_properties=new))
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == old_name


# --- delete -------------------------------------------------------------------


def test_delete_stops_a_running_job(h: Harness) -> None:
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response("animals-0123456789ab", "InProgress"))
    h.sagemaker_stub.add_response("stop_labeling_job", {}, {"LabelingJobName": "animals-0123456789ab"})
    response = h.run(event("Delete", h.server.url, physical_id="animals-0123456789ab"))
    assert response["Status"] == "SUCCESS"
    assert len(h.requests("StopLabelingJob")) == 1


def test_delete_waits_out_initializing_before_stopping(h: Harness) -> None:
    name = "animals-0123456789ab"
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response(name, "Initializing"))
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response(name, "Initializing"))
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response(name, "InProgress"))
    h.sagemaker_stub.add_response("stop_labeling_job", {}, {"LabelingJobName": name})
    response = h.run(event("Delete", h.server.url, physical_id=name))
    assert response["Status"] == "SUCCESS"
    stop_at = h.times("StopLabelingJob")[0]
    assert stop_at > h.times("DescribeLabelingJob")[1], "never StopLabelingJob while Initializing"


@pytest.mark.parametrize("status", ["Stopping", "Stopped", "Completed", "Failed"])
def test_delete_of_a_finished_job_succeeds_without_stopping(h: Harness, status: str) -> None:
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response("animals-0123456789ab", status))
    response = h.run(event("Delete", h.server.url, physical_id="animals-0123456789ab"))
    assert response["Status"] == "SUCCESS"
    assert h.requests("StopLabelingJob") == []


@pytest.mark.parametrize("code,message", [("ResourceNotFound", "not found"), ("ValidationException", "Could not find job")])
def test_delete_of_a_missing_job_succeeds(h: Harness, code: str, message: str) -> None:
    h.sagemaker_stub.add_client_error("describe_labeling_job", code, message)
    response = h.run(event("Delete", h.server.url, physical_id="animals-0123456789ab"))
    assert response["Status"] == "SUCCESS"


@pytest.mark.parametrize(
    "physical_id", ["CREATE_FAILED:req-0001", "2026/11/23/[$LATEST]0123456789abcdef", "", "x" * 70]
)
def test_delete_with_a_physical_id_that_is_no_job_name_succeeds_without_calls(h: Harness, physical_id: str) -> None:
    response = h.run(event("Delete", h.server.url, physical_id=physical_id))
    assert response["Status"] == "SUCCESS"
    assert h.calls == []


def test_delete_in_destroy_mode_waits_for_stopped(h: Harness) -> None:
    name = "animals-0123456789ab"
    props = base_properties(WaitForStoppedOnDelete="true")
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response(name, "InProgress"))
    h.sagemaker_stub.add_response("stop_labeling_job", {})
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response(name, "Stopping"))
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response(name, "Stopped"))
    response = h.run(event("Delete", h.server.url, props, physical_id=name))
    assert response["Status"] == "SUCCESS"
    h.sagemaker_stub.assert_no_pending_responses()


def test_delete_in_destroy_mode_fails_rather_than_lose_labels_when_stop_outlasts_the_lambda(h: Harness) -> None:
    name = "animals-0123456789ab"
    props = base_properties(WaitForStoppedOnDelete="true")
    h.sagemaker_stub.add_response("describe_labeling_job", describe_response(name, "Stopping"))
    for _ in range(40):
        h.sagemaker_stub.add_response("describe_labeling_job", describe_response(name, "Stopping"))
    response = h.run(event("Delete", h.server.url, props, physical_id=name), timeout_seconds=120)
    assert response["Status"] == "FAILED"
    assert "still Stopping" in response["Reason"]


def test_the_handler_imports_only_the_standard_library_and_boto3() -> None:
    from .handler_harness import HANDLER_FILE

    source = HANDLER_FILE.read_text()
    imported = set(re.findall(r"^(?:from|import) ([a-zA-Z_0-9]+)", source, flags=re.MULTILINE))
    import sys

    third_party = {name for name in imported if name not in sys.stdlib_module_names and name != "__future__"}
    assert third_party <= {"boto3", "botocore"}, third_party

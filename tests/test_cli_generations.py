"""The command line follows a resource's generations: any generation's name reaches the running one.

After a renewal (an idle stop, then the stack's handler starting the next generation), users still hold
the first job's name (`job_name`, the stack output). Run as subprocesses against moto and the scripted
SageMaker endpoint, whose jobs carry the tags the handler sets.
"""

from __future__ import annotations

import json
from typing import List

import pytest

from .cli_fixtures import LocalAws

RESOURCE = "animals-aaaaaaaaaaaa"  # the resource's physical id: its generation-0 name
FIRST, SECOND, THIRD = RESOURCE, "animals-bbbbbbbbbbbb", "animals-cccccccccccc"


@pytest.fixture
def renewed_twice(local_aws: LocalAws) -> str:
    """Three generations of one resource (two idle stops), plus another resource's job of the same prefix."""
    topic, queue = local_aws.topic_with_queue("renewed")
    local_aws.sagemaker.jobs.clear()
    local_aws.sagemaker.calls.clear()
    for name, status, created in ((FIRST, "Stopped", 1795000000), (SECOND, "Stopped", 1796000000),
                                  (THIRD, "InProgress", 1797000000)):
        local_aws.sagemaker.add_job(name, status, topic, resource=RESOURCE, created=created)
    local_aws.sagemaker.add_job("animals-dddddddddddd", "InProgress", topic, resource="animals-dddddddddddd")
    return queue


def test_send_to_an_earlier_generation_reaches_the_running_one(local_aws: LocalAws, renewed_twice: str) -> None:
    result = local_aws.run("send", "--job-name", FIRST, "--text-file", "-", stdin="a cat\n")
    assert result.returncode == 0, result.stderr
    described = [body["LabelingJobName"] for op, body in local_aws.sagemaker.calls if op == "DescribeLabelingJob"]
    assert described[-1] == THIRD
    assert len(local_aws.drain(renewed_twice)) == 1


@pytest.mark.parametrize("given", [FIRST, SECOND, THIRD])
def test_status_names_the_running_generation_and_lists_them_all(local_aws: LocalAws, renewed_twice: str,
                                                               given: str) -> None:
    result = local_aws.run("status", "--job-name", given, "--json")
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert state["job_name"] == THIRD and state["status"] == "InProgress"
    assert [(g["job_name"], g["status"]) for g in state["generations"]] == [
        (FIRST, "Stopped"), (SECOND, "Stopped"), (THIRD, "InProgress")]
    assert state["held_for_successor"] == 0, "a generation runs: nothing waits for a successor"


def test_stop_stops_the_running_generation_and_tags_it_so_the_stack_never_renews_it(
        local_aws: LocalAws, renewed_twice: str) -> None:
    result = local_aws.run("stop", "--job-name", FIRST, "--yes")
    assert result.returncode == 0, result.stderr
    operations: List[str] = [op for op, _ in local_aws.sagemaker.calls]
    assert operations.index("AddTags") < operations.index("StopLabelingJob"), "tagged before the stop"
    assert [body["LabelingJobName"] for op, body in local_aws.sagemaker.calls if op == "StopLabelingJob"] == [THIRD]
    third_arn = local_aws.sagemaker.jobs[THIRD]["LabelingJobArn"]
    assert {"Key": "streaming-labeling:stopped-by", "Value": "cli"} in local_aws.sagemaker.tags[third_arn]
    assert local_aws.sagemaker.jobs["animals-dddddddddddd"]["LabelingJobStatus"] == "InProgress"

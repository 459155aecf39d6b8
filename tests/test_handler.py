"""The handler's naming rules and its asset's contract; its lifecycle is in test_handler_faults.py."""

from __future__ import annotations

import re
import sys
from typing import Any, Dict

import pytest

from .api_contract import request_violations
from .handler_harness import HANDLER_FILE, STACK_ID, base_properties, changed_properties, event, load_handler

HANDLER = load_handler()


def name_for(properties: Dict[str, Any], stack_id: str = STACK_ID, generation: int = 0) -> str:
    name: str = HANDLER.job_name(event("Create", "", properties, stack_id=stack_id), properties, generation)
    return name


@pytest.mark.parametrize("generation", [0, 1, 49])
def test_job_names_are_stable_lowercase_and_within_the_api_pattern(generation: int) -> None:
    props = base_properties(JobNamePrefix="A" * 50)
    name = name_for(props, generation=generation)
    assert name == name_for(base_properties(JobNamePrefix="A" * 50), generation=generation)
    assert name == name.lower() and len(name) <= 63
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name)
    assert not request_violations("DescribeLabelingJob", {"LabelingJobName": name})


def test_generation_zero_keeps_the_name_earlier_versions_gave() -> None:
    """Jobs deployed before name generations existed are still found under their physical id."""
    assert name_for(base_properties()) == "animals-b31716322d44"


def test_each_generation_property_change_and_stack_gives_a_new_name() -> None:
    props = base_properties()
    other_stack = STACK_ID.replace("5b4f0c90", "77777777")
    names = {name_for(props, generation=g) for g in range(HANDLER.MAX_GENERATIONS)}
    names |= {name_for(changed_properties()), name_for(props, stack_id=other_stack)}
    assert len(names) == HANDLER.MAX_GENERATIONS + 2


def test_non_job_properties_do_not_rename_the_job() -> None:
    assert name_for(base_properties()) == name_for(base_properties(WaitForStoppedOnDelete="true", ServiceTimeout="60"))


def test_the_handler_imports_only_the_standard_library_and_boto3() -> None:
    source = HANDLER_FILE.read_text()
    imported = set(re.findall(r"^(?:from|import) ([a-zA-Z_0-9]+)", source, flags=re.MULTILINE))
    third_party = {name for name in imported if name not in sys.stdlib_module_names and name != "__future__"}
    assert third_party <= {"boto3", "botocore"}, third_party


def test_the_handler_tags_jobs_with_the_tag_the_construct_scopes_its_policy_by() -> None:
    """The asset is standalone and keeps its own copy of the tag; both must be the same."""
    from streaming_labeling import conventions

    for name in ("STACK_TAG", "RESOURCE_TAG", "STOPPED_BY_TAG", "SUBSCRIBED_AT_TAG", "QUEUE_PREFIX"):
        assert getattr(HANDLER, name) == getattr(conventions, name), name

"""Generated worker templates render with python-liquid and show every label."""

from __future__ import annotations

import html
import json
from html.parser import HTMLParser
from typing import Any, List

import pytest
from liquid import Environment

from streaming_labeling import TaskType
from streaming_labeling.worker_ui import CROWD_ELEMENT, label_category_config, worker_template

TEMPLATE_TYPES = [t for t in TaskType.built_in() if not t.uses_built_in_ui]
LABELS = ["cat", "dog & puppy", 'bird "tweety"']


def ground_truth_environment() -> Environment:
    """Liquid as Ground Truth runs it: its two custom filters added."""
    env = Environment()
    env.filters["grant_read_access"] = lambda uri: f"https://signed.example/{uri[5:]}?X-Amz-Signature=abc"
    env.filters["to_json"] = lambda value: json.dumps(value)
    return env


def sample_task_input(task_type: TaskType) -> dict[str, Any]:
    source = "original-ref" if task_type.label_attribute_needs_ref else "original"
    return {
        "task": {
            "input": {
                "taskObject": "s3://input-bucket/images/cat.jpg" if task_type.name.startswith(("IMAGE", "BOUND", "SEM", "VER", "ADJ", "VIDEO"))
                else "The cat sat on the mat.",
                "manifestLine": {
                    "source-ref": "s3://input-bucket/images/cat.jpg",
                    source: {"annotations": [{"class_id": 0, "left": 1, "top": 2, "width": 3, "height": 4}]}
                    if "BOUNDING" in task_type.name else "s3://output-bucket/mask.png",
                    f"{source}-metadata": {"class-map": {"0": "cat"}},
                },
            }
        }
    }, source


class ElementCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: List[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


@pytest.mark.parametrize("task_type", TEMPLATE_TYPES, ids=lambda t: t.name)
def test_every_generated_template_renders_with_its_crowd_element_and_every_label(task_type: TaskType) -> None:
    task_input, source = sample_task_input(task_type)
    template = worker_template(task_type, LABELS, header="Label it", source_label_attribute_name=source)
    assert template is not None
    rendered = ground_truth_environment().from_string(template).render(**task_input)
    parser = ElementCollector()
    parser.feed(rendered)
    tags = [tag for tag, _ in parser.elements]
    assert "crowd-form" in tags
    element = CROWD_ELEMENT[task_type.name]
    attrs = next(a for tag, a in parser.elements if tag == element)
    labels_attr = attrs.get("categories") or attrs.get("labels")
    assert labels_attr is not None and json.loads(labels_attr) == LABELS
    assert "{{" not in rendered and "{%" not in rendered
    if task_type.name.startswith("TEXT"):
        assert "The cat sat on the mat." in rendered
    else:
        assert "https://signed.example/input-bucket/images/cat.jpg" in html.unescape(rendered)
    if task_type.is_adjustment_or_verification:
        prior = attrs.get("initial-value") or attrs.get("overlay")
        assert prior and ("cat" in prior or "mask.png" in prior), "the previous job's labels are shown"


def test_built_in_ui_types_have_no_template_and_custom_types_keep_theirs() -> None:
    assert worker_template(TaskType.NAMED_ENTITY_RECOGNITION, LABELS, header="x") is None
    custom = TaskType.custom(pre_annotation_lambda_arn="a", consolidation_lambda_arn="b", template="<p>{{ x }}</p>")
    assert worker_template(custom, [], header="x") == "<p>{{ x }}</p>"


def test_label_category_config_follows_the_documented_format() -> None:
    document = json.loads(label_category_config(TaskType.BOUNDING_BOX, ["car", "bus"]))
    assert document == {"document-version": "2018-11-28", "labels": [{"label": "car"}, {"label": "bus"}]}


def test_named_entity_recognition_carries_instructions_in_its_label_config() -> None:
    document = json.loads(
        label_category_config(TaskType.NAMED_ENTITY_RECOGNITION, ["person"], short_instructions="Mark names")
    )
    assert document["instructions"] == {"shortInstruction": "Mark names", "fullInstruction": "Mark names"}

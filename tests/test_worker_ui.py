"""Generated worker templates: the structure of AWS's own, rendered by python-liquid against realistic inputs.

AWS's templates are in ``tests/fixtures/aws_templates`` (each file names its source). For every
built-in type with a generated template, the crowd element, its ``name`` (the key of the worker's
answer), its attribute names, the label and object expressions and the slots equal AWS's. Then each
template is rendered as Ground Truth renders it (python-liquid plus its ``grant_read_access`` and
``to_json`` filters) with a task input like the pre-annotation Lambda's, including the previous job's
manifest line for review types, and the values the element receives are parsed.
"""

from __future__ import annotations

import html
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from liquid import Environment

from streaming_labeling import LabelAttribute, TaskType, TrustedHtml, VideoAnnotationType
from streaming_labeling.worker_ui import CROWD_ELEMENT, LabelFileFeatures, label_category_config, worker_template

FIXTURES = Path(__file__).parent / "fixtures" / "aws_templates"
TEMPLATE_TYPES = [t for t in TaskType.built_in() if not t.uses_built_in_ui]
LABELS = ["cat", "dog & puppy", 'bird "tweety"']
SOURCE = {"ref": "boxes-ref", "plain": "boxes"}

#: Task type -> AWS's template for it (the docs' API sections; the chained example for adjustments;
#: the element reference's overlay examples for verification, which have no API template).
AWS_TEMPLATE = {
    "IMAGE_MULTI_CLASS": "sms-image-classification--1.html",
    "IMAGE_MULTI_CLASS_MULTI_LABEL": "sms-image-classification-multilabel--1.html",
    "TEXT_MULTI_CLASS": "sms-text-classification--1.html",
    "TEXT_MULTI_CLASS_MULTI_LABEL": "sms-text-classification-multilabel--1.html",
    "BOUNDING_BOX": "sms-bounding-box--1.html",
    "SEMANTIC_SEGMENTATION": "sms-semantic-segmentation--1.html",
    "VIDEO_MULTI_CLASS": "sms-video-classification--1.html",
    "ADJUSTMENT_BOUNDING_BOX": "ground_truth_create_chained_streaming_labeling_job--2.rendered.html",
    "ADJUSTMENT_SEMANTIC_SEGMENTATION": "ground_truth_create_chained_streaming_labeling_job--3.rendered.html",
    "VERIFICATION_BOUNDING_BOX": "sms-ui-template-crowd-image-classifier--2.html",
    "VERIFICATION_SEMANTIC_SEGMENTATION": "sms-ui-template-crowd-image-classifier--3.html",
}
#: Attributes whose value is the same expression in AWS's template and ours.
SAME_VALUE = ("src", "categories", "labels")


class Structure(HTMLParser):
    """Tags in order with their attributes; the crowd element is the first ``crowd-*`` other than the form."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: List[Tuple[str, Dict[str, Optional[str]]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def element(self) -> Tuple[str, Dict[str, Optional[str]]]:
        return next((tag, attrs) for tag, attrs in self.tags if tag.startswith("crowd-") and tag != "crowd-form")

    def slots(self) -> List[str]:
        return [tag for tag, _ in self.tags
                if tag in ("full-instructions", "short-instructions", "classification-target", "video", "source")]


def aws(task_type: TaskType) -> Structure:
    return Structure((FIXTURES / AWS_TEMPLATE[task_type.name]).read_text())


def ours(task_type: TaskType, **kwargs: Any) -> str:
    source = SOURCE["ref" if task_type.label_attribute_needs_ref else "plain"]
    if task_type.name == "VERIFICATION_SEMANTIC_SEGMENTATION":
        source = "masks-ref"
    template = worker_template(task_type, header="Label it",
                               source_label_attribute_name=source if task_type.is_adjustment_or_verification else None,
                               **kwargs)
    assert template is not None
    return template


def test_every_generated_type_has_an_aws_template_to_compare_with() -> None:
    assert sorted(AWS_TEMPLATE) == sorted(t.name for t in TEMPLATE_TYPES)


@pytest.mark.parametrize("task_type", TEMPLATE_TYPES, ids=lambda t: t.name)
def test_the_template_has_aws_structure(task_type: TaskType) -> None:
    reference, generated = aws(task_type), Structure(ours(task_type))
    (aws_tag, aws_attrs), (tag, attrs) = reference.element(), generated.element()
    assert (tag, attrs["name"]) == (aws_tag, aws_attrs["name"]) == CROWD_ELEMENT[task_type.name]
    assert set(attrs) == set(aws_attrs), "the same attributes"
    for attribute in SAME_VALUE:
        if attribute in aws_attrs and task_type.name.startswith(("VERIFICATION_",)) is False:
            assert attrs[attribute] == aws_attrs[attribute], attribute
    if task_type.name.startswith("VERIFICATION_"):
        overlay_key = "boundingBox" if "BOUNDING" in task_type.name else "semanticSegmentation"
        assert overlay_key in (aws_attrs["overlay"] or "") and overlay_key in (attrs["overlay"] or "")
    else:
        assert generated.slots() == reference.slots(), "the same slots, in order"
    assert [t for t, _ in generated.tags[:2]] == ["script", "crowd-form"]
    assert generated.tags[0][1]["src"] == "https://assets.crowd.aws/crowd-html-elements.js"


# --- rendering ---------------------------------------------------------------------------------


def ground_truth_environment() -> Environment:
    """Liquid as Ground Truth runs it: its two custom filters added."""
    env = Environment()
    env.filters["grant_read_access"] = lambda uri: f"https://signed.example/{uri[5:]}?X-Amz-Signature=abc"
    env.filters["to_json"] = lambda value: json.dumps(value)
    return env


def task_input(task_type: TaskType) -> Dict[str, Any]:
    """What the pre-annotation Lambda passes: the object, the labels, and the manifest line it came from."""
    text = task_type.name.startswith("TEXT")
    obj = "The <b>cat</b> sat on the mat." if text else "s3://input-bucket/images/cat.jpg"
    line: Dict[str, Any] = {"source": obj} if text else {"source-ref": obj}
    if "BOUNDING_BOX" in task_type.name:  # an upstream bounding-box job's output, as AWS documents it
        line["boxes"] = line["boxes-ref"] = {
            "image_size": [{"width": 500, "height": 400, "depth": 3}],
            "annotations": [{"class_id": 0, "left": 10, "top": 20, "width": 30, "height": 40},
                            {"class_id": 2, "left": 50, "top": 60, "width": 70, "height": 80}]}
        line["boxes-metadata"] = line["boxes-ref-metadata"] = {
            "class-map": {"0": "cat", "1": "dog & puppy", "2": 'bird "tweety"'}, "type": "groundtruth/object-detection"}
    if "SEMANTIC_SEGMENTATION" in task_type.name:  # an upstream semantic-segmentation job's output
        line["boxes-ref"] = line["masks-ref"] = "s3://output-bucket/labels/masks/cat.png"
        line["boxes-ref-metadata"] = line["masks-ref-metadata"] = {"internal-color-map": {
            "0": {"class-name": "BACKGROUND", "hex-color": "#ffffff"},
            "1": {"class-name": "cat", "hex-color": "#2ca02c"},
            "2": {"class-name": 'bird "tweety"', "hex-color": "#1f77b4"}}}
    return {"task": {"input": {"taskObject": obj, "labels": LABELS, "manifestLine": line}}}


def rendered_element(task_type: TaskType, **kwargs: Any) -> Tuple[str, Dict[str, Optional[str]], str]:
    text = ground_truth_environment().from_string(ours(task_type, **kwargs)).render(**task_input(task_type))
    assert "{{" not in text and "{%" not in text
    tag, attrs = Structure(text).element()
    return tag, attrs, text


@pytest.mark.parametrize("task_type", TEMPLATE_TYPES, ids=lambda t: t.name)
def test_the_template_renders_the_object_and_the_labels_the_element_expects(task_type: TaskType) -> None:
    _, attrs, text = rendered_element(task_type)
    if task_type.name.startswith("VERIFICATION_"):
        assert json.loads(attrs["categories"] or "") == ["Correct", "Incorrect"]
    else:
        assert json.loads(attrs.get("categories") or attrs.get("labels") or "") == LABELS
    if task_type.name.startswith("TEXT"):
        assert "The &lt;b&gt;cat&lt;/b&gt; sat on the mat." in text, "text is shown as text"
    else:
        assert "https://signed.example/input-bucket/images/cat.jpg" in html.unescape(text)


def test_bounding_box_adjustment_starts_from_the_previous_boxes_with_their_labels() -> None:
    _, attrs, _ = rendered_element(TaskType.ADJUSTMENT_BOUNDING_BOX)
    assert json.loads(attrs["initial-value"] or "") == [
        {"label": "cat", "left": 10, "top": 20, "width": 30, "height": 40},
        {"label": 'bird "tweety"', "left": 50, "top": 60, "width": 70, "height": 80},
    ]


def test_bounding_box_verification_overlays_labels_as_strings_and_boxes_with_their_label() -> None:
    _, attrs, _ = rendered_element(TaskType.VERIFICATION_BOUNDING_BOX, verification_categories=["good", "bad"])
    overlay = json.loads(attrs["overlay"] or "")["boundingBox"]
    assert overlay["labels"] == LABELS
    assert [box["label"] for box in overlay["value"]] == ["cat", 'bird "tweety"']
    assert json.loads(attrs["categories"] or "") == ["good", "bad"]


@pytest.mark.parametrize("task_type", [TaskType.ADJUSTMENT_SEMANTIC_SEGMENTATION,
                                       TaskType.VERIFICATION_SEMANTIC_SEGMENTATION], ids=lambda t: t.name)
def test_semantic_segmentation_review_maps_labels_to_the_previous_colors(task_type: TaskType) -> None:
    _, attrs, _ = rendered_element(task_type)
    value = json.loads(attrs.get("initial-value") or attrs.get("overlay") or "")
    value = value.get("semanticSegmentation", value)
    assert value["labelMappings"] == {"cat": {"color": "#2ca02c"}, 'bird "tweety"': {"color": "#1f77b4"}}
    assert value["src"].startswith("https://signed.example/output-bucket/labels/masks/cat.png")


def test_multi_label_types_offer_a_none_of_the_above_choice() -> None:
    _, attrs, _ = rendered_element(TaskType.IMAGE_MULTI_CLASS_MULTI_LABEL, exclusion_category="None of the above")
    assert attrs["exclusion-category"] == "{ text: 'None of the above' }"


def test_instructions_are_text_unless_marked_as_trusted_html() -> None:
    plain = ours(TaskType.IMAGE_MULTI_CLASS, short_instructions="<b>cats</b> & dogs")
    assert "&lt;b&gt;cats&lt;/b&gt; &amp; dogs" in plain
    trusted = ours(TaskType.IMAGE_MULTI_CLASS, short_instructions="Good:",
                   full_instructions=TrustedHtml('<h3>Good example</h3><img src="https://example.com/good.jpg">'))
    assert '<h3>Good example</h3><img src="https://example.com/good.jpg">' in trusted


def test_built_in_ui_types_have_no_template_and_custom_types_keep_theirs() -> None:
    assert worker_template(TaskType.NAMED_ENTITY_RECOGNITION, header="x") is None
    custom = TaskType.custom(pre_annotation_lambda_arn="a", consolidation_lambda_arn="b", template="<p>{{ x }}</p>")
    assert worker_template(custom, header="x") == "<p>{{ x }}</p>"


# --- label-category files ----------------------------------------------------------------------


def test_a_2d_label_category_file_follows_the_documented_format() -> None:
    document = json.loads(label_category_config(TaskType.BOUNDING_BOX, ["car", "bus"]))
    assert document == {"document-version": "2018-11-28", "labels": [{"label": "car"}, {"label": "bus"}]}


def test_named_entity_recognition_always_carries_instructions() -> None:
    document = json.loads(label_category_config(TaskType.NAMED_ENTITY_RECOGNITION, ["person"], header="Mark names"))
    assert document["instructions"] == {"shortInstruction": "Mark names", "fullInstruction": "Mark names"}
    html_doc = json.loads(label_category_config(TaskType.NAMED_ENTITY_RECOGNITION, ["person"], header="x",
                                                full_instructions=TrustedHtml("<ul><li>People</li></ul>")))
    assert html_doc["instructions"]["fullInstruction"] == "<ul><li>People</li></ul>"


def test_a_frame_label_category_file_carries_the_documented_features() -> None:
    occluded = LabelAttribute("occluded", enum=["yes", "no"], edits_allowed="none")
    document = json.loads(label_category_config(
        TaskType.ADJUSTMENT_VIDEO_OBJECT_TRACKING, ["car", "person"], header="Track",
        audit_label_attribute_name="tracks-ref",
        features=LabelFileFeatures(
            label_attributes={"car": [LabelAttribute("doors", type="number", minimum=2, maximum=5)]},
            global_label_attributes=[occluded],
            frame_attributes=[LabelAttribute("weather", description="What is the weather?", enum=["sun", "rain"])],
            annotation_type=VideoAnnotationType.POLYGON,
            locked_labels=["person"],
        ),
    ))
    assert document == {
        "documentVersion": "2020-03-01",
        "auditLabelAttributeName": "tracks-ref",
        "annotationType": "Polygon",
        "instructions": {"shortInstruction": "Track", "fullInstruction": "Track"},
        "categoryGlobalAttributes": [{"name": "occluded", "type": "string", "enum": ["yes", "no"],
                                      "editsAllowed": "none"}],
        "frameAttributes": [{"name": "weather", "type": "string", "description": "What is the weather?",
                             "enum": ["sun", "rain"]}],
        "labels": [{"label": "car", "categoryAttributes": [{"name": "doors", "type": "number", "minimum": 2,
                                                            "maximum": 5}]},
                   {"label": "person", "editsAllowed": "none"}],
    }

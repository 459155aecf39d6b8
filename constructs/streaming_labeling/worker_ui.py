"""What workers see: the label-category file and the default Liquid worker template.

Labels are written into the generated template at synth time, not read from
``task.input.labels`` at task time, so a template can be rendered and checked
offline and does not depend on what a pre-annotation Lambda passes along.
"""

from __future__ import annotations

import html
import json
from types import MappingProxyType
from typing import Callable, Dict, Mapping, Optional, Sequence

from .task_types import TaskType

LABEL_CATEGORY_DOCUMENT_VERSION = "2018-11-28"
CROWD_HTML_ELEMENTS_SCRIPT = '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>'


def label_category_config(
    task_type: TaskType,
    labels: Sequence[str],
    *,
    short_instructions: Optional[str] = None,
    full_instructions: Optional[str] = None,
    audit_label_attribute_name: Optional[str] = None,
) -> str:
    """The label-category configuration file (``LabelCategoryConfigS3Uri``), as canonical JSON."""
    document: Dict[str, object] = {
        "document-version": LABEL_CATEGORY_DOCUMENT_VERSION,
        "labels": [{"label": label} for label in labels],
    }
    if task_type.needs_instructions_in_label_config or short_instructions or full_instructions:
        document["instructions"] = {
            "shortInstruction": short_instructions or "",
            "fullInstruction": full_instructions or short_instructions or "",
        }
    if audit_label_attribute_name and task_type.uses_built_in_ui and task_type.is_adjustment_or_verification:
        document["auditLabelAttributeName"] = audit_label_attribute_name
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _labels_attr(labels: Sequence[str]) -> str:
    return _attr(json.dumps(list(labels)))


def _instructions(short: str, full: str) -> str:
    return (
        f'    <short-instructions>{html.escape(short)}</short-instructions>\n'
        f'    <full-instructions header="Instructions">{html.escape(full)}</full-instructions>\n'
    )


_IMAGE_SRC = 'src="{{ task.input.taskObject | grant_read_access }}"'


def _prior(attribute: str) -> str:
    """Liquid path to the previous job's labels on the manifest line."""
    return f"task.input.manifestLine['{attribute}']"


def _image_classifier(tag: str) -> Callable[..., str]:
    def build(header: str, labels: Sequence[str], instructions: str, source: Optional[str]) -> str:
        return (
            f'  <{tag} name="category" {_IMAGE_SRC}\n'
            f'    header="{_attr(header)}" categories="{_labels_attr(labels)}">\n'
            f"{instructions}  </{tag}>\n"
        )

    return build


def _text_classifier(tag: str) -> Callable[..., str]:
    def build(header: str, labels: Sequence[str], instructions: str, source: Optional[str]) -> str:
        return (
            f'  <{tag} name="category" header="{_attr(header)}" categories="{_labels_attr(labels)}">\n'
            "    <classification-target>{{ task.input.taskObject | escape }}</classification-target>\n"
            f"{instructions}  </{tag}>\n"
        )

    return build


def _video_classifier(header: str, labels: Sequence[str], instructions: str, source: Optional[str]) -> str:
    return (
        f'  <crowd-classifier name="category" header="{_attr(header)}" categories="{_labels_attr(labels)}">\n'
        '    <classification-target><video src="{{ task.input.taskObject | grant_read_access }}" '
        'controls style="max-width: 100%"></video></classification-target>\n'
        f"{instructions}  </crowd-classifier>\n"
    )


def _bounding_box(header: str, labels: Sequence[str], instructions: str, source: Optional[str]) -> str:
    initial = ""
    if source:
        prior = _prior(source)
        initial = (
            '\n    initial-value="[{% for box in ' + prior + '.annotations %}'
            "{% capture class_id %}{{ box.class_id }}{% endcapture %}"
            "{% assign label = " + _prior(source + "-metadata") + "['class-map'][class_id] %}"
            "{ &quot;label&quot;: {{ label | to_json | escape }}, &quot;left&quot;: {{ box.left }}, "
            "&quot;top&quot;: {{ box.top }}, &quot;width&quot;: {{ box.width }}, "
            '&quot;height&quot;: {{ box.height }} }{% unless forloop.last %},{% endunless %}{% endfor %}]"'
        )
    return (
        f'  <crowd-bounding-box name="boundingBox" {_IMAGE_SRC}\n'
        f'    header="{_attr(header)}" labels="{_labels_attr(labels)}"{initial}>\n'
        f"{instructions}  </crowd-bounding-box>\n"
    )


def _semantic_segmentation(header: str, labels: Sequence[str], instructions: str, source: Optional[str]) -> str:
    initial = ""
    if source:
        initial = (
            '\n    initial-value="{ &quot;src&quot;: {{ '
            + _prior(source)
            + ' | grant_read_access | to_json | escape }} }"'
        )
    return (
        f'  <crowd-semantic-segmentation name="crowd-semantic-segmentation" {_IMAGE_SRC}\n'
        f'    header="{_attr(header)}" labels="{_labels_attr(labels)}"{initial}>\n'
        f"{instructions}  </crowd-semantic-segmentation>\n"
    )


def _verify_bounding_box(header: str, labels: Sequence[str], instructions: str, source: Optional[str]) -> str:
    overlay = ""
    if source:
        overlay = (
            '\n    overlay="{ &quot;boundingBox&quot;: { &quot;value&quot;: {{ '
            + _prior(source)
            + ".annotations | to_json | escape }}, &quot;labels&quot;: {{ "
            + _prior(source + "-metadata")
            + "['class-map'] | to_json | escape }} } }\""
        )
    return (
        f'  <crowd-image-classifier name="verification" {_IMAGE_SRC}\n'
        f'    header="{_attr(header)}" categories="{_labels_attr(labels)}"{overlay}>\n'
        f"{instructions}  </crowd-image-classifier>\n"
    )


def _verify_semantic_segmentation(
    header: str, labels: Sequence[str], instructions: str, source: Optional[str]
) -> str:
    overlay = ""
    if source:
        overlay = (
            '\n    overlay="{ &quot;semanticSegmentation&quot;: { &quot;src&quot;: {{ '
            + _prior(source)
            + " | grant_read_access | to_json | escape }} } }\""
        )
    return (
        f'  <crowd-image-classifier name="verification" {_IMAGE_SRC}\n'
        f'    header="{_attr(header)}" categories="{_labels_attr(labels)}"{overlay}>\n'
        f"{instructions}  </crowd-image-classifier>\n"
    )


_BUILDERS: Mapping[str, Callable[[str, Sequence[str], str, Optional[str]], str]] = MappingProxyType({
    "IMAGE_MULTI_CLASS": _image_classifier("crowd-image-classifier"),
    "IMAGE_MULTI_CLASS_MULTI_LABEL": _image_classifier("crowd-image-classifier-multi-select"),
    "BOUNDING_BOX": _bounding_box,
    "ADJUSTMENT_BOUNDING_BOX": _bounding_box,
    "SEMANTIC_SEGMENTATION": _semantic_segmentation,
    "ADJUSTMENT_SEMANTIC_SEGMENTATION": _semantic_segmentation,
    "TEXT_MULTI_CLASS": _text_classifier("crowd-classifier"),
    "TEXT_MULTI_CLASS_MULTI_LABEL": _text_classifier("crowd-classifier-multi-select"),
    "VIDEO_MULTI_CLASS": _video_classifier,
    "VERIFICATION_BOUNDING_BOX": _verify_bounding_box,
    "VERIFICATION_SEMANTIC_SEGMENTATION": _verify_semantic_segmentation,
})

#: Crowd element each generated template is built around (for tests and docs).
CROWD_ELEMENT: Mapping[str, str] = MappingProxyType({
    "IMAGE_MULTI_CLASS": "crowd-image-classifier",
    "IMAGE_MULTI_CLASS_MULTI_LABEL": "crowd-image-classifier-multi-select",
    "BOUNDING_BOX": "crowd-bounding-box",
    "ADJUSTMENT_BOUNDING_BOX": "crowd-bounding-box",
    "SEMANTIC_SEGMENTATION": "crowd-semantic-segmentation",
    "ADJUSTMENT_SEMANTIC_SEGMENTATION": "crowd-semantic-segmentation",
    "TEXT_MULTI_CLASS": "crowd-classifier",
    "TEXT_MULTI_CLASS_MULTI_LABEL": "crowd-classifier-multi-select",
    "VIDEO_MULTI_CLASS": "crowd-classifier",
    "VERIFICATION_BOUNDING_BOX": "crowd-image-classifier",
    "VERIFICATION_SEMANTIC_SEGMENTATION": "crowd-image-classifier",
})


def worker_template(
    task_type: TaskType,
    labels: Sequence[str],
    *,
    header: str,
    short_instructions: Optional[str] = None,
    full_instructions: Optional[str] = None,
    source_label_attribute_name: Optional[str] = None,
) -> Optional[str]:
    """The Liquid worker template for a task type, or None when the type uses a built-in UI.

    Custom task types return the user's own template unchanged.
    """
    if task_type.is_custom:
        return task_type.custom_template
    if task_type.uses_built_in_ui:
        return None
    build = _BUILDERS[task_type.name]
    short = short_instructions or header
    full = full_instructions or short
    body = build(header, labels, _instructions(short, full), source_label_attribute_name)
    return f"{CROWD_HTML_ELEMENTS_SCRIPT}\n<crowd-form>\n{body}</crowd-form>\n"

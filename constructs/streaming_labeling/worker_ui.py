"""What workers see: the label-category file and the Liquid worker template.

The templates follow AWS's own, from the "create a ... labeling job (API)" sections of
the SageMaker Developer Guide and AWS's chained streaming-job example: the same crowd
element, ``name`` (the key of the worker's answer that the built-in consolidation
Lambdas read), attributes and slots, with ``categories``/``labels`` read from
``task.input.labels`` as the pre-annotation Lambda passes them. Only ``header`` and
the instructions are the user's, as the guide says. ``tests/fixtures/aws_templates``
holds AWS's templates, and the tests compare structures.
"""

from __future__ import annotations

import enum
import html
import json
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from .task_types import InputModality, TaskType

#: The label-category file format of 2D task types (``document-version``) and of video
#: frame and 3D point cloud task types (``documentVersion``), as the guide documents them.
LABEL_CATEGORY_DOCUMENT_VERSION = "2018-11-28"
FRAME_LABEL_CATEGORY_DOCUMENT_VERSION = "2020-03-01"
CROWD_HTML_ELEMENTS_SCRIPT = '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>'
#: The answer choices of a verification job's classifier (the overlay shows the labels under review).
DEFAULT_VERIFICATION_CATEGORIES = ("Correct", "Incorrect")


class TrustedHtml(str):
    """Worker instructions written in HTML that you trust (lists, good and bad example images).

    A plain ``str`` is shown as text (escaped); ``TrustedHtml("<ol><li>...</li></ol>")`` is
    inserted as it is, as AWS's example instructions are.
    """


def instruction_markup(text: str) -> str:
    return str(text) if isinstance(text, TrustedHtml) else html.escape(text)


class VideoAnnotationType(enum.Enum):
    """What workers draw in a video frame job (``annotationType`` of the label-category file)."""

    BOUNDING_BOX = "BoundingBox"
    POLYLINE = "Polyline"
    POLYGON = "Polygon"
    KEYPOINT = "Keypoint"


@dataclass(frozen=True)
class LabelAttribute:
    """A label category attribute or frame attribute of a video frame or 3D point cloud job.

    ``type`` is ``"string"`` (free text, or one of ``enum``) or ``"number"`` (between
    ``minimum`` and ``maximum``); ``edits_allowed`` ("any" or "none") applies to review jobs.
    """

    name: str
    type: str = "string"
    description: Optional[str] = None
    enum: Optional[Sequence[str]] = None
    minimum: Optional[int] = None
    maximum: Optional[int] = None
    edits_allowed: Optional[str] = None
    is_required: Optional[bool] = None

    def to_json(self) -> Dict[str, Any]:
        document: Dict[str, Any] = {"name": self.name, "type": self.type}
        optional = {
            "description": self.description,
            "enum": list(self.enum) if self.enum is not None else None,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "editsAllowed": self.edits_allowed,
            "isRequired": self.is_required,
        }
        document.update({key: value for key, value in optional.items() if value is not None})
        return document


@dataclass(frozen=True)
class LabelFileFeatures:
    """The optional parts of a label-category file, where AWS supports them for the task type."""

    label_attributes: Mapping[str, Sequence[LabelAttribute]] = field(default_factory=lambda: MappingProxyType({}))
    global_label_attributes: Sequence[LabelAttribute] = ()
    frame_attributes: Sequence[LabelAttribute] = ()
    annotation_type: Optional[VideoAnnotationType] = None
    locked_labels: Sequence[str] = ()


def uses_frame_label_file(task_type: TaskType) -> bool:
    return task_type.modality in (InputModality.VIDEO_FRAME, InputModality.POINT_CLOUD)


def label_category_config(
    task_type: TaskType,
    labels: Sequence[str],
    *,
    header: str = "",
    short_instructions: Optional[str] = None,
    full_instructions: Optional[str] = None,
    audit_label_attribute_name: Optional[str] = None,
    features: LabelFileFeatures = LabelFileFeatures(),
) -> str:
    """The label-category configuration file (``LabelCategoryConfigS3Uri``), as canonical JSON."""
    frame_file = uses_frame_label_file(task_type)
    entries: List[Dict[str, Any]] = []
    for label in labels:
        entry: Dict[str, Any] = {"label": label}
        if features.label_attributes.get(label):
            entry["categoryAttributes"] = [attribute.to_json() for attribute in features.label_attributes[label]]
        if label in features.locked_labels:
            entry["editsAllowed"] = "none"
        entries.append(entry)
    document: Dict[str, Any] = {"labels": entries}
    if frame_file:
        document["documentVersion"] = FRAME_LABEL_CATEGORY_DOCUMENT_VERSION
    else:
        document["document-version"] = LABEL_CATEGORY_DOCUMENT_VERSION
    if task_type.needs_instructions_in_label_config or frame_file or short_instructions or full_instructions:
        short = short_instructions or header
        document["instructions"] = {
            "shortInstruction": instruction_markup(short),
            "fullInstruction": instruction_markup(full_instructions or short),
        }
    if features.global_label_attributes:
        document["categoryGlobalAttributes"] = [attribute.to_json() for attribute in features.global_label_attributes]
    if features.frame_attributes:
        document["frameAttributes"] = [attribute.to_json() for attribute in features.frame_attributes]
    if features.annotation_type is not None:
        document["annotationType"] = features.annotation_type.value
    if audit_label_attribute_name and task_type.is_adjustment_or_verification and frame_file:
        document["auditLabelAttributeName"] = audit_label_attribute_name
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


# --- templates ---------------------------------------------------------------------------------

_TASK_LABELS = "{{ task.input.labels | to_json | escape }}"
_IMAGE_SRC = "{{ task.input.taskObject | grant_read_access }}"


@dataclass(frozen=True)
class _Parts:
    header: str
    short: str
    full: str
    source: Optional[str]
    exclusion_category: Optional[str]
    verification_categories: Sequence[str]


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _prior(attribute: str) -> str:
    """Liquid path to the previous job's labels on the manifest line."""
    return f"task.input.manifestLine['{attribute}']"


def _element(tag: str, name: str, attributes: Sequence[tuple[str, str]], parts: _Parts, target: str = "") -> str:
    """One crowd element as AWS's templates write it: attributes, then target, full and short instructions."""
    lines = [f"  <{tag}", f'    name="{name}"']
    lines += [f'    {attribute}="{value}"' for attribute, value in attributes]
    lines.append("  >")
    if target:
        lines.append(target)
    lines += [
        f'    <full-instructions header="{_attr(parts.header)} instructions">',
        f"      {parts.full}",
        "    </full-instructions>",
        "    <short-instructions>",
        f"      {parts.short}",
        "    </short-instructions>",
        f"  </{tag}>",
    ]
    return "\n".join(lines) + "\n"


def _exclusion(parts: _Parts) -> List[tuple[str, str]]:
    if parts.exclusion_category is None:
        return []
    text = parts.exclusion_category.replace("\\", "\\\\").replace("'", "\\'")
    return [("exclusion-category", _attr(f"{{ text: '{text}' }}"))]


def _image_classifier(tag: str) -> Callable[[_Parts], str]:
    def build(parts: _Parts) -> str:
        attributes = [("src", _IMAGE_SRC), ("header", _attr(parts.header)), ("categories", _TASK_LABELS)]
        return _element(tag, tag, attributes + _exclusion(parts), parts)

    return build


def _text_classifier(tag: str) -> Callable[[_Parts], str]:
    def build(parts: _Parts) -> str:
        # AWS's template inserts the text unescaped; it is escaped here so that text is shown as text.
        target = (
            '    <classification-target style="white-space: pre-wrap">'
            "{{ task.input.taskObject | escape }}</classification-target>"
        )
        attributes = [("categories", _TASK_LABELS), ("header", _attr(parts.header))]
        return _element(tag, tag, attributes + _exclusion(parts), parts, target)

    return build


def _video_classifier(parts: _Parts) -> str:
    sources = "\n".join(
        f'        <source src="{_IMAGE_SRC}" type="video/{kind}"/>' for kind in ("mp4", "webm", "ogg")
    )
    target = (
        "    <classification-target>\n"
        '      <video width="100%" controls>\n'
        f"{sources}\n"
        "        Your browser does not support the video tag.\n"
        "      </video>\n"
        "    </classification-target>"
    )
    attributes = [("categories", _TASK_LABELS), ("header", _attr(parts.header))]
    return _element("crowd-classifier", "crowd-classifier", attributes, parts, target)


def _prior_boxes(source: str) -> str:
    """The previous job's boxes, each with its label from the class map (AWS's adjustment template)."""
    prior = _prior(source)
    class_map = _prior(source + "-metadata") + "['class-map']"
    return (
        "[{% for box in " + prior + ".annotations %}"
        "{% capture class_id %}{{ box.class_id }}{% endcapture %}"
        "{% assign label = " + class_map + "[class_id] %}"
        "{ &quot;label&quot;: {{ label | to_json | escape }}, &quot;left&quot;: {{ box.left }}, "
        "&quot;top&quot;: {{ box.top }}, &quot;width&quot;: {{ box.width }}, "
        "&quot;height&quot;: {{ box.height }} }{% unless forloop.last %}, {% endunless %}{% endfor %}]"
    )


def _prior_label_mappings(source: str) -> str:
    """``labelMappings`` from the previous job's ``internal-color-map``, BACKGROUND left out (AWS's template)."""
    color_map = _prior(source + "-metadata") + "['internal-color-map']"
    return (
        "{ {% assign separator = '' %}{% for entry in " + color_map + " %}"
        "{% if entry[1]['class-name'] != 'BACKGROUND' %}{{ separator }}"
        "{{ entry[1]['class-name'] | to_json | escape }}: { &quot;color&quot;: "
        "{{ entry[1]['hex-color'] | to_json | escape }} }{% assign separator = ', ' %}"
        "{% endif %}{% endfor %} }"
    )


def _prior_mask(source: str) -> str:
    return "{{ " + _prior(source) + " | grant_read_access | to_json | escape }}"


def _bounding_box(parts: _Parts) -> str:
    attributes = [("src", _IMAGE_SRC), ("header", _attr(parts.header)), ("labels", _TASK_LABELS)]
    if parts.source:
        attributes.append(("initial-value", _prior_boxes(parts.source)))
    return _element("crowd-bounding-box", "boundingBox", attributes, parts)


def _semantic_segmentation(parts: _Parts) -> str:
    attributes = [("src", _IMAGE_SRC), ("header", _attr(parts.header)), ("labels", _TASK_LABELS)]
    if parts.source:
        initial = (
            "{ &quot;src&quot;: " + _prior_mask(parts.source)
            + ", &quot;labelMappings&quot;: " + _prior_label_mappings(parts.source) + " }"
        )
        attributes.insert(0, ("initial-value", initial))
    return _element("crowd-semantic-segmentation", "crowd-semantic-segmentation", attributes, parts)


def _categories(parts: _Parts) -> str:
    return _attr(json.dumps(list(parts.verification_categories)))


def _verify_bounding_box(parts: _Parts) -> str:
    attributes = [("src", _IMAGE_SRC), ("header", _attr(parts.header)), ("categories", _categories(parts))]
    if parts.source:
        overlay = (
            "{ &quot;boundingBox&quot;: { &quot;labels&quot;: " + _TASK_LABELS
            + ", &quot;value&quot;: " + _prior_boxes(parts.source) + " } }"
        )
        attributes.append(("overlay", overlay))
    return _element("crowd-image-classifier", "boundingBoxClassification", attributes, parts)


def _verify_semantic_segmentation(parts: _Parts) -> str:
    attributes = [("src", _IMAGE_SRC), ("header", _attr(parts.header)), ("categories", _categories(parts))]
    if parts.source:
        overlay = (
            "{ &quot;semanticSegmentation&quot;: { &quot;labels&quot;: " + _TASK_LABELS
            + ", &quot;labelMappings&quot;: " + _prior_label_mappings(parts.source)
            + ", &quot;src&quot;: " + _prior_mask(parts.source) + " } }"
        )
        attributes.append(("overlay", overlay))
    return _element("crowd-image-classifier", "crowd-image-classifier", attributes, parts)


_BUILDERS: Mapping[str, Callable[[_Parts], str]] = MappingProxyType({
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

#: Crowd element and answer name each generated template is built around (for tests and docs).
CROWD_ELEMENT: Mapping[str, tuple[str, str]] = MappingProxyType({
    "IMAGE_MULTI_CLASS": ("crowd-image-classifier", "crowd-image-classifier"),
    "IMAGE_MULTI_CLASS_MULTI_LABEL": ("crowd-image-classifier-multi-select", "crowd-image-classifier-multi-select"),
    "BOUNDING_BOX": ("crowd-bounding-box", "boundingBox"),
    "ADJUSTMENT_BOUNDING_BOX": ("crowd-bounding-box", "boundingBox"),
    "SEMANTIC_SEGMENTATION": ("crowd-semantic-segmentation", "crowd-semantic-segmentation"),
    "ADJUSTMENT_SEMANTIC_SEGMENTATION": ("crowd-semantic-segmentation", "crowd-semantic-segmentation"),
    "TEXT_MULTI_CLASS": ("crowd-classifier", "crowd-classifier"),
    "TEXT_MULTI_CLASS_MULTI_LABEL": ("crowd-classifier-multi-select", "crowd-classifier-multi-select"),
    "VIDEO_MULTI_CLASS": ("crowd-classifier", "crowd-classifier"),
    "VERIFICATION_BOUNDING_BOX": ("crowd-image-classifier", "boundingBoxClassification"),
    "VERIFICATION_SEMANTIC_SEGMENTATION": ("crowd-image-classifier", "crowd-image-classifier"),
})

#: Task types whose element has ``exclusion-category`` ("none of the above").
SUPPORTS_EXCLUSION_CATEGORY = frozenset({"IMAGE_MULTI_CLASS_MULTI_LABEL", "TEXT_MULTI_CLASS_MULTI_LABEL"})


def worker_template(
    task_type: TaskType,
    *,
    header: str,
    short_instructions: Optional[str] = None,
    full_instructions: Optional[str] = None,
    source_label_attribute_name: Optional[str] = None,
    exclusion_category: Optional[str] = None,
    verification_categories: Sequence[str] = DEFAULT_VERIFICATION_CATEGORIES,
) -> Optional[str]:
    """The Liquid worker template for a task type, or None when the type uses a built-in UI.

    Custom task types return the user's own template unchanged. Labels are not written into
    it: they reach workers through the label-category file and ``task.input.labels``, as in
    AWS's templates.
    """
    if task_type.is_custom:
        return task_type.custom_template
    if task_type.uses_built_in_ui:
        return None
    short = short_instructions or header
    parts = _Parts(
        header=header,
        short=instruction_markup(short),
        full=instruction_markup(full_instructions or short),
        source=source_label_attribute_name,
        exclusion_category=exclusion_category,
        verification_categories=verification_categories,
    )
    body = _BUILDERS[task_type.name](parts)
    return f"{CROWD_HTML_ELEMENTS_SCRIPT}\n<crowd-form>\n{body}</crowd-form>\n"

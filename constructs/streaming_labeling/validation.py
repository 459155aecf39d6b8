"""Synth-time checks of every CreateLabelingJob rule that can be known before deploy.

Each rule returns messages that name the property, the value given and what
is allowed, so that a typo fails ``cdk synth`` instead of a deployment.
Values that are tokens are unknown until deploy time: they are skipped, not guessed.
The limits come from botocore's SageMaker model (shape patterns and ranges)
and the Ground Truth developer guide (per-task-type limits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional, Sequence

from aws_cdk import Token

from .task_types import InputModality, TaskType
from .worker_ui import (
    DEFAULT_VERIFICATION_CATEGORIES,
    SUPPORTS_EXCLUSION_CATEGORY,
    LabelAttribute,
    LabelFileFeatures,
    uses_frame_label_file,
)
from .workforce import ContentClassifier, Workforce, WorkforceKind

# Hash suffix appended to the prefix at deploy time: "-" + 12 hex characters.
JOB_NAME_HASH_LENGTH = 12
MAX_JOB_NAME_LENGTH = 63
MAX_JOB_NAME_PREFIX_LENGTH = MAX_JOB_NAME_LENGTH - 1 - JOB_NAME_HASH_LENGTH

_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
_KEYWORD = re.compile(r"^[A-Za-z0-9]+( [A-Za-z0-9]+)*$")
_TITLE = re.compile(r"^[\t\n\r -\uD7FF\uE000-\uFFFD]*$")
_WORKTEAM_ARN = re.compile(r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:workteam/.*$")
_LAMBDA_ARN = re.compile(r"^arn:aws[a-z\-]*:lambda:[a-z0-9\-]*:[0-9]{12}:function:.*$")
_S3_URI = re.compile(r"^s3://([^/]+)/?(.*)$")

MIN_TASK_TIME_LIMIT_SECONDS = 30
MIN_AVAILABILITY_SECONDS = 60
MAX_PUBLIC_AVAILABILITY_SECONDS = 12 * 3600
MAX_PRIVATE_AVAILABILITY_SECONDS = 30 * 24 * 3600
MIN_PUBLIC_PRICE_USD = 0.012
MAX_PUBLIC_PRICE_USD = 1.2


@dataclass
class JobSettings:
    """The job-level props of StreamingLabelingJob, in plain values (seconds, not Durations)."""

    task_type: TaskType
    workforce: Workforce
    task_title: str
    task_description: str
    labels: Sequence[str]
    job_name_prefix: str
    label_attribute_name: str
    workers_per_object: int = 1
    task_time_limit_seconds: int = 300
    task_availability_lifetime_seconds: Optional[int] = None
    max_concurrent_tasks: Optional[int] = None
    task_keywords: Optional[Sequence[str]] = None
    initial_manifest_uri: Optional[str] = None
    source_label_attribute_name: Optional[str] = None
    tags: Mapping[str, str] = field(default_factory=dict)
    #: The stack's region when it is known at synth time (None for environment-agnostic stacks).
    region: Optional[str] = None
    instructions: Optional[str] = None
    full_instructions: Optional[str] = None
    exclusion_category: Optional[str] = None
    verification_categories: Sequence[str] = DEFAULT_VERIFICATION_CATEGORIES
    features: LabelFileFeatures = field(default_factory=LabelFileFeatures)


_STRING_TOKEN = re.compile(r"\$\{Token\[|#\{Token\[")


def _known(value: Any) -> bool:
    """False for tokens, which are only known at deploy time.

    aws-cdk-lib encodes string tokens as ``${Token[...]}`` (``#{Token[...]}`` in lists),
    so strings are checked here without a round trip to the jsii runtime; a Python int is
    never a token (number tokens are special floats), so only floats go to ``Token``.
    """
    if isinstance(value, str):
        return _STRING_TOKEN.search(value) is None
    if isinstance(value, bool) or isinstance(value, int):
        return True
    if isinstance(value, float):
        return not Token.is_unresolved(value)
    return value is not None


def _range(prop: str, value: Optional[int], low: int, high: int, unit: str = "") -> List[str]:
    if value is None or not _known(value):
        return []
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        return [f"{prop}: {value!r}{unit} is out of range; allowed: {low} to {high}{unit}"]
    return []


def check_name(prop: str, value: str, max_length: int) -> List[str]:
    if not _known(value):
        return []
    if not 1 <= len(value) <= max_length or not _NAME.match(value):
        return [
            f"{prop}: {value!r} is not allowed; use 1 to {max_length} letters, digits and hyphens, "
            "starting and ending with a letter or digit (pattern [a-zA-Z0-9](-*[a-zA-Z0-9])*)"
        ]
    return []


def check_label_attribute_name(value: str, task_type: TaskType) -> List[str]:
    errors = check_name("label_attribute_name", value, 127)
    if errors or not _known(value):
        return errors
    if value.endswith("-metadata"):
        errors.append(f"label_attribute_name: {value!r} must not end with '-metadata' (the service adds that suffix)")
    if task_type.label_attribute_needs_ref and not value.endswith("-ref"):
        errors.append(
            f"label_attribute_name: {value!r} must end with '-ref' for task type {task_type.name} "
            f"(e.g. {value + '-ref'!r})"
        )
    if task_type.label_attribute_forbids_ref and value.endswith("-ref"):
        errors.append(f"label_attribute_name: {value!r} must not end with '-ref' for task type {task_type.name}")
    return errors


def check_labels_value(labels: Any) -> List[str]:
    """What ``labels`` must be before anything else is checked: a list of plain strings, known at synth."""
    if isinstance(labels, str):
        example = [part.strip() for part in labels.split(",") if part.strip()] or ["cat", "dog"]
        return [f"labels: {labels!r} is a string; labels takes a list of strings, e.g. labels={example!r}"]
    if labels is not None and not isinstance(labels, (list, tuple)):
        return [f"labels: {type(labels).__name__} given; labels takes a list of strings"]
    if labels and any(not isinstance(label, str) for label in labels):
        return [f"labels: {list(labels)!r} holds values that are not strings; labels takes a list of strings"]
    if labels and any(not _known(label) for label in labels):
        return [
            "labels: a deploy-time value (token) was given; labels are written into the worker template and "
            "the label-category file at synth time, so pass the list of strings itself"
        ]
    return []


def check_labels(labels: Sequence[str], task_type: TaskType) -> List[str]:
    if not _known(labels) or any(not _known(label) for label in labels):
        return []
    errors: List[str] = []
    count = len(labels)
    high = task_type.max_labels
    allowed = f"{task_type.min_labels} to {high}" if high else f"at least {task_type.min_labels}"
    if count < task_type.min_labels or (high is not None and count > high):
        errors.append(f"labels: {count} labels given for task type {task_type.name}; allowed: {allowed}")
    seen: set[str] = set()
    for label in labels:
        if not isinstance(label, str) or not label.strip():
            errors.append(f"labels: {label!r} is empty; every label needs 1 to 256 characters")
        elif len(label) > 256:
            errors.append(f"labels: {label[:20]!r}... has {len(label)} characters; allowed: 1 to 256")
        elif "{{" in label or "{%" in label:
            errors.append(f"labels: {label!r} contains a Liquid delimiter ('{{{{' or '{{%'), which is not allowed")
        if isinstance(label, str):
            folded = label.strip().lower()
            if folded in seen:
                errors.append(f"labels: {label!r} is given more than once; labels must be unique")
            seen.add(folded)
    return errors


def check_text(prop: str, value: str, low: int, high: int, pattern: Optional[re.Pattern[str]] = None) -> List[str]:
    if not _known(value):
        return []
    if not low <= len(value) <= high:
        return [f"{prop}: {len(value)} characters given; allowed: {low} to {high}"]
    if pattern is not None and not pattern.match(value):
        return [f"{prop}: {value!r} contains characters the API does not accept"]
    return []


def check_keywords(keywords: Optional[Sequence[str]]) -> List[str]:
    if keywords is None or not _known(keywords):
        return []
    errors: List[str] = []
    if not 1 <= len(keywords) <= 5:
        errors.append(f"task_keywords: {len(keywords)} keywords given; allowed: 1 to 5")
    for keyword in keywords:
        if not _known(keyword):
            continue
        if not 1 <= len(keyword) <= 30 or not _KEYWORD.match(keyword):
            errors.append(
                f"task_keywords: {keyword!r} is not allowed; each keyword is 1 to 30 letters and digits, "
                "words separated by single spaces"
            )
    return errors


def check_workforce(workforce: Workforce, task_type: TaskType, region: Optional[str] = None) -> List[str]:
    errors: List[str] = []
    arn = workforce.workteam_arn
    if workforce.kind is not WorkforceKind.PUBLIC and _known(arn):
        team_region = arn.split(":")[3] if arn.count(":") >= 5 else ""
        if region is not None and _known(region) and team_region and team_region != region:
            errors.append(
                f"workforce: the work team {arn!r} is in {team_region}, the stack in {region}; a labeling job "
                f"can only use a work team of its own region (allowed: a work team ARN in {region})"
            )
        if not _WORKTEAM_ARN.match(arn) or len(arn) > 256:
            errors.append(
                f"workforce: workteam ARN {arn!r} is not a work team ARN; expected "
                "arn:aws:sagemaker:<region>:<account>:workteam/<private-crowd|vendor-crowd>/<name>"
            )
        elif f":workteam/{workforce.kind.value}/" not in arn:
            errors.append(
                f"workforce: {arn!r} is not a {workforce.kind.value} work team; "
                f"Workforce.{workforce.kind.name.lower()}() expects ...:workteam/{workforce.kind.value}/<name>"
            )
    if workforce.is_public:
        price = workforce.price_per_task_usd
        if price is None:
            errors.append(
                "workforce: Workforce.public() needs price_per_task_usd; "
                f"allowed: {MIN_PUBLIC_PRICE_USD} to {MAX_PUBLIC_PRICE_USD} USD"
            )
        elif not MIN_PUBLIC_PRICE_USD <= float(price) <= MAX_PUBLIC_PRICE_USD or price != price.quantize(
            type(price)("0.001")
        ):
            errors.append(
                f"workforce: price_per_task_usd {price} is not allowed; allowed: {MIN_PUBLIC_PRICE_USD} to "
                f"{MAX_PUBLIC_PRICE_USD} USD in steps of a tenth of a cent"
            )
        if ContentClassifier.FREE_OF_PERSONALLY_IDENTIFIABLE_INFORMATION not in workforce.content_classifiers:
            errors.append(
                "workforce: the public workforce requires content_classifiers to include "
                "FREE_OF_PERSONALLY_IDENTIFIABLE_INFORMATION (the job fails without it)"
            )
        if not task_type.allows_public_workforce:
            errors.append(
                f"workforce: task type {task_type.name} cannot use the public workforce; "
                "use Workforce.private() or Workforce.vendor()"
            )
    return errors


def check_task_type(task_type: TaskType) -> List[str]:
    if not task_type.is_custom:
        return []
    errors: List[str] = []
    for prop, arn in (
        ("pre_annotation_lambda_arn", task_type.custom_pre_annotation_lambda_arn),
        ("consolidation_lambda_arn", task_type.custom_consolidation_lambda_arn),
    ):
        if arn is not None and _known(arn) and (not _LAMBDA_ARN.match(arn) or len(arn) > 2048):
            errors.append(
                f"task_type: TaskType.custom({prop}={arn!r}) is not a Lambda function ARN; "
                "expected arn:aws:lambda:<region>:<account>:function:<name>"
            )
    template = task_type.custom_template
    if template is not None and _known(template) and not template.strip():
        errors.append("task_type: TaskType.custom(template='') is empty; give the Liquid worker template")
    return errors


def check_tags(tags: Mapping[str, str]) -> List[str]:
    errors: List[str] = []
    if len(tags) > 50:
        errors.append(f"tags: {len(tags)} tags given; allowed: at most 50")
    for key, value in tags.items():
        if _known(key) and not 1 <= len(key) <= 128:
            errors.append(f"tags: key {key!r} has {len(key)} characters; allowed: 1 to 128")
        if _known(value) and len(value) > 256:
            errors.append(f"tags: value of {key!r} has {len(value)} characters; allowed: 0 to 256")
        if _known(key) and key.lower().startswith("aws:"):
            errors.append(f"tags: key {key!r} starts with 'aws:', which is reserved for AWS")
    return errors


def validate_job_settings(settings: JobSettings) -> List[str]:
    """Every rule, in one list; empty when the settings can be sent to CreateLabelingJob."""
    task_type = settings.task_type
    errors: List[str] = []
    errors += check_task_type(task_type)
    errors += check_name("job_name_prefix", settings.job_name_prefix, MAX_JOB_NAME_PREFIX_LENGTH)
    errors += check_label_attribute_name(settings.label_attribute_name, task_type)
    if (
        task_type.is_adjustment_or_verification
        and settings.source_label_attribute_name is not None
        and settings.source_label_attribute_name == settings.label_attribute_name
    ):
        errors.append(
            f"label_attribute_name: {settings.label_attribute_name!r} is the source job's label attribute; "
            "adjustment and verification jobs need a different one"
        )
    if not task_type.is_custom:
        errors += check_labels(settings.labels, task_type)
    errors += check_text("task_title", settings.task_title, 1, 128, _TITLE)
    errors += check_text("task_description", settings.task_description, 1, 255)
    errors += check_keywords(settings.task_keywords)
    errors += _range("workers_per_object", settings.workers_per_object, 1, 9)
    errors += _range(
        "task_time_limit",
        settings.task_time_limit_seconds,
        MIN_TASK_TIME_LIMIT_SECONDS,
        task_type.max_task_time_limit_seconds,
        " seconds",
    )
    max_availability = (
        MAX_PUBLIC_AVAILABILITY_SECONDS if settings.workforce.is_public else MAX_PRIVATE_AVAILABILITY_SECONDS
    )
    errors += _range(
        "task_availability_lifetime",
        settings.task_availability_lifetime_seconds,
        MIN_AVAILABILITY_SECONDS,
        max_availability,
        " seconds",
    )
    errors += _range("max_concurrent_tasks", settings.max_concurrent_tasks, 1, 5000)
    errors += check_workforce(settings.workforce, task_type, settings.region)
    errors += check_review_source(settings)
    errors += check_worker_ui(settings)
    uri = settings.initial_manifest_uri
    if uri is not None and _known(uri) and (not _S3_URI.match(uri) or len(uri) > 1024):
        errors.append(f"initial_manifest_uri: {uri!r} is not an S3 URI; expected s3://<bucket>/<key>")
    errors += check_tags(settings.tags)
    return errors


def check_exclusive(pairs: Sequence[tuple[str, Any, str, Any]]) -> List[str]:
    """``existing_x`` and ``x_props`` configure the same resource: at most one of them."""
    return [
        f"{existing_name} and {props_name} both given; pass either your own resource or props for a new one"
        for existing_name, existing, props_name, props in pairs
        if existing is not None and props is not None
    ]


def check_input_bucket(
    task_type: TaskType,
    *,
    create_input_bucket: bool,
    existing_input_bucket: bool,
    input_bucket_props: bool,
    send_uploads_to_input_topic: bool,
) -> List[str]:
    """The input bucket props agree with each other and with what the task type takes."""
    errors = []
    if send_uploads_to_input_topic and not task_type.accepts_s3_event_input:
        errors.append(
            f"send_uploads_to_input_topic: Ground Truth does not take S3 events for task type "
            f"{task_type.name}; publish {{\"source\": \"<text>\"}} messages to the input topic instead"
        )
    elif send_uploads_to_input_topic and not (create_input_bucket or existing_input_bucket):
        errors.append("send_uploads_to_input_topic: the job has no input bucket; allowed with "
                      "create_input_bucket=True or existing_input_bucket")
    if input_bucket_props and not create_input_bucket:
        errors.append("input_bucket_props: given with create_input_bucket=False; allowed values of "
                      "create_input_bucket with input_bucket_props: True")
    return errors


def check_review_source(settings: JobSettings) -> List[str]:
    """Review jobs name the label attribute of the job whose labels they review."""
    task_type = settings.task_type
    if not task_type.is_adjustment_or_verification or settings.source_label_attribute_name is not None:
        return []
    return [
        f"source_label_attribute_name: required for task type {task_type.name} (the label attribute of the job "
        "whose labels are reviewed, e.g. 'boxes'); or pass input_from=<that job>, which sets it"
    ]


_ATTRIBUTE_TYPES = ("OBJECT_DETECTION", "OBJECT_TRACKING")


def _supports_label_attributes(task_type: TaskType) -> bool:
    return uses_frame_label_file(task_type) and task_type.name.endswith(_ATTRIBUTE_TYPES)


def _types(predicate: Any) -> str:
    return ", ".join(t.name for t in TaskType.built_in() if predicate(t))


def check_attributes(prop: str, attributes: Sequence[LabelAttribute], *, frame: bool) -> List[str]:
    errors = []
    if len(attributes) > 10:
        errors.append(f"{prop}: {len(attributes)} attributes given; allowed: 0 to 10")
    for attribute in attributes:
        label = f"{prop}: attribute {attribute.name!r}"
        if not 1 <= len(attribute.name) <= 16:
            errors.append(f"{label} has a name of {len(attribute.name)} characters; allowed: 1 to 16")
        if attribute.type not in ("string", "number"):
            errors.append(f"{label} has type {attribute.type!r}; allowed: 'string', 'number'")
        if attribute.type == "number" and (attribute.minimum is None or attribute.maximum is None):
            errors.append(f"{label} is a number; minimum and maximum are required")
        if attribute.enum is not None and (attribute.type != "string" or not 1 <= len(attribute.enum) <= 10):
            errors.append(f"{label}: enum takes 1 to 10 values, with type 'string'")
        if attribute.edits_allowed not in (None, "any", "none"):
            errors.append(f"{label} has edits_allowed {attribute.edits_allowed!r}; allowed: 'any', 'none'")
        if frame and not attribute.description:
            errors.append(f"{label} needs a description (frame attributes are shown with one)")
        if attribute.description is not None and len(attribute.description) > 128:
            errors.append(f"{label} has a description of {len(attribute.description)} characters; allowed: 0 to 128")
    return errors


def check_worker_ui(settings: JobSettings) -> List[str]:
    """Worker-UI and label-file props are allowed only for the task types AWS supports them for."""
    task_type, features, labels = settings.task_type, settings.features, list(settings.labels)
    errors: List[str] = []
    if settings.exclusion_category is not None and task_type.name not in SUPPORTS_EXCLUSION_CATEGORY:
        errors.append(f"exclusion_category: not supported for task type {task_type.name}; allowed task types: "
                      f"{', '.join(sorted(SUPPORTS_EXCLUSION_CATEGORY))}")
    if tuple(settings.verification_categories) != DEFAULT_VERIFICATION_CATEGORIES:
        if not task_type.name.startswith("VERIFICATION_"):
            errors.append(f"verification_categories: not supported for task type {task_type.name}; allowed task "
                          f"types: {_types(lambda t: t.name.startswith('VERIFICATION_'))}")
        elif len(settings.verification_categories) < 2:
            errors.append("verification_categories: at least 2 choices; allowed: 2 to 10")
    if (features.label_attributes or features.global_label_attributes) and not _supports_label_attributes(task_type):
        errors.append(f"label_attributes: not supported for task type {task_type.name}; allowed task types: "
                      f"{_types(_supports_label_attributes)}")
    unknown = sorted(set(features.label_attributes) - set(labels))
    if unknown:
        errors.append(f"label_attributes: {unknown!r} are not among labels {labels!r}")
    for label, own in features.label_attributes.items():
        errors += check_attributes(f"label_attributes[{label!r}]", [*features.global_label_attributes, *own],
                                   frame=False)
    if features.global_label_attributes and not features.label_attributes:
        errors += check_attributes("global_label_attributes", features.global_label_attributes, frame=False)
    if features.frame_attributes:
        if not uses_frame_label_file(task_type):
            errors.append(f"frame_attributes: not supported for task type {task_type.name}; allowed task types: "
                          f"{_types(uses_frame_label_file)}")
        errors += check_attributes("frame_attributes", features.frame_attributes, frame=True)
    if features.annotation_type is not None and task_type.modality is not InputModality.VIDEO_FRAME:
        errors.append(f"annotation_type: not supported for task type {task_type.name}; allowed task types: "
                      f"{_types(lambda t: t.modality is InputModality.VIDEO_FRAME)}")
    if features.locked_labels:
        if not (uses_frame_label_file(task_type) and task_type.is_adjustment_or_verification):
            errors.append(f"locked_labels: not supported for task type {task_type.name}; allowed task types: "
                          f"{_types(lambda t: uses_frame_label_file(t) and t.is_adjustment_or_verification)}")
        missing = sorted(set(features.locked_labels) - set(labels))
        if missing:
            errors.append(f"locked_labels: {missing!r} are not among labels {labels!r}")
    if uses_frame_label_file(task_type):
        for label in labels:
            if _known(label) and len(label) > 16:
                errors.append(f"labels: {label!r} has {len(label)} characters; allowed for task type "
                              f"{task_type.name}: 1 to 16")
        short = settings.instructions or settings.task_title
        if _known(short) and len(short) >= 255:
            errors.append(f"instructions: {len(short)} characters; allowed for task type {task_type.name}: "
                          "under 255")
        full = settings.full_instructions
        if full is not None and _known(full) and len(full) >= 2048:
            errors.append(f"full_instructions: {len(full)} characters; allowed for task type {task_type.name}: "
                          "under 2,048")
    return errors

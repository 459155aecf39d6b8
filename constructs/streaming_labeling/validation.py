"""Every rule of StreamingLabelingJob's props that can be known before deploy, in one place.

Each rule returns messages that name the property, the value given and what is allowed;
the constructor raises them in one ``PropsError`` before anything is built, so that a typo
fails at the line that made it instead of a deployment.
Values that are tokens are unknown until deploy time: they are skipped, not guessed.
The limits come from botocore's SageMaker model (shape patterns and ranges)
and the Ground Truth developer guide (per-task-type limits).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, List, Mapping, Optional, Sequence, Tuple, Union

from aws_cdk import Duration, Stack, Token
from constructs import IConstruct

from .conventions import LIBRARY_TAGS, RESERVED_TAG_PREFIX
from .pipeline import REVIEW_SOURCES
from .regions import unsupported_region_message
from .task_types import BUILT_IN_LAMBDA_ACCOUNTS, InputModality, TaskType
from .worker_ui import (
    DEFAULT_VERIFICATION_CATEGORIES,
    SUPPORTS_EXCLUSION_CATEGORY,
    LabelAttribute,
    LabelFileFeatures,
    uses_frame_label_file,
)
from .workforce import ContentClassifier, Workforce, WorkforceKind

if TYPE_CHECKING:
    from .job_props import JobProps

# Hash suffix appended to the prefix at deploy time: "-" + 12 hex characters.
JOB_NAME_HASH_LENGTH = 12
MAX_JOB_NAME_LENGTH = 63
MAX_JOB_NAME_PREFIX_LENGTH = MAX_JOB_NAME_LENGTH - 1 - JOB_NAME_HASH_LENGTH

_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
_KEYWORD = re.compile(r"^[A-Za-z0-9]+( [A-Za-z0-9]+)*$")
_TITLE = re.compile(r"^[\t\n\r -\uD7FF\uE000-\uFFFD]*$")
_WORKTEAM_ARN = re.compile(r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:workteam/.*$")
_LAMBDA_ARN = re.compile(r"^arn:aws[a-z\-]*:lambda:[a-z0-9\-]*:[0-9]{12}:function:.*$")
#: A manifest is one object: ``s3://<bucket>/<key>`` with a key that names an object, not a prefix.
_MANIFEST_URI = re.compile(r"^s3://([^/]+)/(.*[^/])$", re.DOTALL)
MAX_S3_URI_LENGTH = 1024  # botocore's SageMaker model, shape S3Uri

#: botocore's SageMaker model, shapes TagKey (1 to 128 characters) and TagValue (0 to 256): both
#: ``([\p{L}\p{Z}\p{N}_.:/=+\-@]*)``. Python's ``re`` has no ``\p{...}``, so the classes are checked
#: by Unicode general category (L*, Z*, N*); tests/test_validation.py holds this against the model.
TAG_PATTERN = r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)"
TAG_CATEGORIES = ("L", "Z", "N")
TAG_PUNCTUATION = "_.:/=+-@"
TAG_KEY_LENGTH = (1, 128)
TAG_VALUE_LENGTH = (0, 256)

MIN_TASK_TIME_LIMIT_SECONDS = 30
DEFAULT_TASK_TIME_LIMIT_SECONDS = 300
MIN_AVAILABILITY_SECONDS = 60
MAX_PUBLIC_AVAILABILITY_SECONDS = 12 * 3600
MAX_PRIVATE_AVAILABILITY_SECONDS = 30 * 24 * 3600
MIN_PUBLIC_PRICE_USD = 0.012
MAX_PUBLIC_PRICE_USD = 1.2


@dataclass(frozen=True)
class JobSettings:
    """A job's props as declared and resolved (``job_props.py``), and the values the plan derives from them."""

    props: JobProps
    labels: Sequence[str]
    job_name_prefix: str
    label_attribute_name: str
    source_label_attribute_name: Optional[str] = None
    task_time_limit_seconds: int = DEFAULT_TASK_TIME_LIMIT_SECONDS
    task_availability_lifetime_seconds: Optional[int] = None
    #: The stack's region when it is known at synth time (None for environment-agnostic stacks).
    region: Optional[str] = None
    features: LabelFileFeatures = field(default_factory=LabelFileFeatures)

    @property
    def task_type(self) -> TaskType:
        return self.props["task_type"]

    @property
    def workforce(self) -> Workforce:
        return self.props["workforce"]

    def value(self, prop: str) -> Any:
        """A prop's value for a message: what the plan derived from it, else as given."""
        derived = self.__dataclass_fields__.get(prop)
        return getattr(self, prop) if derived is not None else self.props.get(prop)


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


# --- types: the checks a prop's declaration (``job_props.py``) names, run before anything uses a value ---

#: A prop's check: None when the value has the expected type, else a detail (may be "") for the message.
TypeCheck = Callable[[Any], Optional[str]]


def _is_int(value: Any) -> bool:
    """An int (not a bool), or a number token such as ``CfnParameter(type="Number").value_as_number``."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and Token.is_unresolved(value))


def instance_of(*types: type) -> TypeCheck:
    return lambda value: None if isinstance(value, types) else ""


def integer(value: Any) -> Optional[str]:
    if _is_int(value):
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return f"; write {value.strip()} without quotes"
    return ""


def _example_list(value: str) -> str:
    return f", e.g. {[part.strip() for part in value.split(',') if part.strip()] or [value]!r}"


def sequence_of(item: type, item_name: str) -> TypeCheck:
    def check(value: Any) -> Optional[str]:
        if isinstance(value, str):
            return _example_list(value) if item is str else ""
        if not isinstance(value, (list, tuple)):
            return ""
        wrong = [member for member in value if not isinstance(member, item)]
        return f" ({wrong[0]!r} is {article(type(wrong[0]).__name__)}, not {article(item_name)})" if wrong else None
    return check


def string_map(value: Any) -> Optional[str]:
    if not isinstance(value, Mapping):
        return ""
    for key, member in value.items():
        if not isinstance(key, str):
            return f" (key {key!r} is {article(type(key).__name__)}, not a str)"
        if not isinstance(member, str):
            return f" (the value of {key!r} is {member!r}, {article(type(member).__name__)}, not a str)"
    return None


def attribute_map(value: Any) -> Optional[str]:
    if not isinstance(value, Mapping):
        return ""
    for key, member in value.items():
        detail = sequence_of(LabelAttribute, "LabelAttribute")(member)
        if not isinstance(key, str) or detail is not None:
            return f" (entry {key!r})"
    return None


def has_attribute(attribute: str) -> TypeCheck:
    """jsii interfaces (ITopic, IBucket, ...) are protocols that isinstance cannot check: their ARN attribute."""
    return lambda value: None if hasattr(value, attribute) and not isinstance(value, str) else ""


def labels_value(value: Any) -> Optional[str]:
    """``labels`` gets its own wording (``check_labels_value``), with the other rules of its value."""
    return None


@dataclass(frozen=True)
class PropType:
    """What a prop takes, for the type check: ``nullable``: None means "not given" (the default applies)."""

    expected: str
    check: TypeCheck
    nullable: bool = True


def article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_prop_types(values: Mapping[str, Any], types: Mapping[str, PropType]) -> List[str]:
    """One message per prop whose value is not of the type the prop takes: the prop, the value, the type."""
    errors: List[str] = []
    for prop, value in values.items():
        rule = types.get(prop)
        if rule is None or (value is None and rule.nullable):
            continue
        detail = None if value is None else rule.check(value)
        if value is None or detail is not None:
            given = "None" if value is None else f"{shown(value)} ({article(type(value).__name__)})"
            errors.append(f"{prop}: {given} given; expected {rule.expected}{detail or ''}")
    return errors


class PropsError(TypeError, ValueError):
    """Props the construct cannot build: every message names the prop, the value given and what is allowed.

    Raised by the constructor before anything is built. A ``TypeError`` (wrong types, unknown or missing
    props) and a ``ValueError`` (wrong values), so that either ``except`` catches it.
    """


#: The name of this error before every prop error took one channel: props of the wrong type.
PropTypeError = PropsError


def raise_for_errors(path: Union[str, Callable[[], str]], errors: Sequence[str]) -> None:
    """The one channel of the props' errors. ``path``: the construct's path, or what returns it (read only
    for the error: a jsii round trip)."""
    if errors:
        where = path if isinstance(path, str) else path()
        raise PropsError(f"StreamingLabelingJob {where}: " + "\n  ".join(errors))


# --- values that must be known at synth time --------------------------------------------------

_WRITTEN_INTO_FILES = "it is written (escaped) into the worker template and label-category file at synth time"

#: Props whose value the construct transforms at synth time (a token cannot be), and why.
SYNTH_TIME_PROPS: Mapping[str, str] = MappingProxyType({
    "job_name_prefix": "it is lowercased into the job name and into the names in the execution role's IAM "
                       "resources (queue, log streams, job ARN) and the bucket log prefixes",
    "label_attribute_name": "it is checked against the task type's rules and becomes the source attribute "
                            "written into the worker templates of jobs chained to this one",
    "source_label_attribute_name": _WRITTEN_INTO_FILES,
    "task_title": _WRITTEN_INTO_FILES,
    "instructions": _WRITTEN_INTO_FILES,
    "full_instructions": _WRITTEN_INTO_FILES,
    "exclusion_category": _WRITTEN_INTO_FILES,
    "verification_categories": _WRITTEN_INTO_FILES,
})


def synth_time_error(prop: str, value: Any, reason: str) -> str:
    return f"{prop}: must be known at synth time (got a token, {shown(value)}); {reason}"


def check_known_at_synth(settings: JobSettings) -> List[str]:
    errors: List[str] = []
    for prop, reason in SYNTH_TIME_PROPS.items():
        value = settings.value(prop)
        if prop == "label_attribute_name" and _derived_from_token_prefix(settings):
            continue  # the prefix is reported
        values = value if isinstance(value, (list, tuple)) else [value]
        if value is not None and (not _known(value) or any(not _known(v) for v in values)):
            errors.append(synth_time_error(prop, value, reason))
    return errors


def _derived_from_token_prefix(settings: JobSettings) -> bool:
    """The default label attribute name of a token prefix: the token lowercased, no longer a token."""
    prefix = settings.job_name_prefix
    return not _known(prefix) and settings.label_attribute_name == default_label_attribute_name(
        prefix, settings.task_type)


def default_label_attribute_name(job_name_prefix: str, task_type: TaskType) -> str:
    """The prefix in lowercase, with ``-ref`` for task types that require it."""
    return job_name_prefix.lower() + ("-ref" if task_type.label_attribute_needs_ref else "")


def job_durations(
    task_time_limit: Duration, task_availability_lifetime: Optional[Duration]
) -> Tuple[int, Optional[int], List[str]]:
    """Both Duration props in whole seconds, and the errors of those that cannot be (then: the defaults)."""
    time_limit, errors = seconds_of("task_time_limit", task_time_limit, DEFAULT_TASK_TIME_LIMIT_SECONDS)
    availability, more = seconds_of("task_availability_lifetime", task_availability_lifetime, None)
    return (time_limit if time_limit is not None else DEFAULT_TASK_TIME_LIMIT_SECONDS), availability, errors + more


#: Attribute of a Duration's Python object: its whole seconds, read from the jsii runtime once.
_SECONDS_ATTR = "_streaming_labeling_seconds"


def seconds_of(prop: str, value: Optional[Duration], default: Optional[int]) -> Tuple[Optional[int], List[str]]:
    """A Duration prop in whole seconds; a token or a fraction of a second is an error naming the prop."""
    if value is None:
        return default, []
    known: Optional[int] = value.__dict__.get(_SECONDS_ATTR)
    if known is not None:  # a Duration is immutable: its seconds were read once (the default's, for every job)
        return known, []
    if value.is_unresolved():
        return default, [
            f"{prop}: must be known at synth time (got a token, Duration of {value.to_human_string()}); it is "
            "checked against the task type's limits and written into the request in seconds, so pass a "
            "Duration of a number, e.g. Duration.minutes(5)"
        ]
    try:
        seconds = value.to_seconds()
    except RuntimeError:  # jsii: "... cannot be converted into a whole number of seconds"
        return default, [f"{prop}: {value.to_human_string()} is not a whole number of seconds; "
                         "allowed: a Duration of whole seconds"]
    value.__dict__[_SECONDS_ATTR] = int(seconds)
    return int(seconds), []


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
    seen: dict[str, str] = {}
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
                errors.append(
                    f"labels: {seen[folded]!r} and {label!r} collide; labels are compared ignoring case and "
                    "leading and trailing spaces, and must be unique"
                )
            seen.setdefault(folded, label)
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


def _tag_text_problem(text: str) -> Optional[str]:
    """Why ``text`` does not match TAG_PATTERN, or None."""
    for char in text:
        if unicodedata.category(char)[0] not in TAG_CATEGORIES and char not in TAG_PUNCTUATION:
            return f"{char!r} is not allowed"
    return None


def check_tags(tags: Mapping[str, str]) -> List[str]:
    errors: List[str] = []
    most = 50 - LIBRARY_TAGS
    if len(tags) > most:
        errors.append(f"tags: {len(tags)} tags given; allowed: at most {most} (SageMaker allows 50 and the "
                      f"library sets {LIBRARY_TAGS} of its own)")
    allowed = f"letters, digits, spaces and {' '.join(TAG_PUNCTUATION)} (pattern {TAG_PATTERN})"
    for key, value in tags.items():
        if _known(key):
            low, high = TAG_KEY_LENGTH
            problem = _tag_text_problem(key)
            if not low <= len(key) <= high:
                errors.append(f"tags: key {key!r} has {len(key)} characters; allowed: {low} to {high}")
            elif problem:
                errors.append(f"tags: key {key!r}: {problem}; allowed: {allowed}")
            elif key.lower().startswith("aws:"):
                errors.append(f"tags: key {key!r} starts with 'aws:', which is reserved for AWS")
            elif key.lower().startswith(RESERVED_TAG_PREFIX):
                errors.append(f"tags: key {key!r} starts with {RESERVED_TAG_PREFIX!r}, which this library "
                              "reserves for the tags it sets itself")
        if _known(value):
            low, high = TAG_VALUE_LENGTH
            problem = _tag_text_problem(value)
            if len(value) > high:
                errors.append(f"tags: value of {key!r} has {len(value)} characters; allowed: {low} to {high}")
            elif problem:
                errors.append(f"tags: value {value!r} of {key!r}: {problem}; allowed: {allowed}")
    return errors


def check_manifest_uri(uri: Optional[str]) -> List[str]:
    """One manifest object, ``s3://<bucket>/<key>``; the bucket or key may be a token, the shape may not."""
    if uri is None:
        return []
    expected = "expected s3://<bucket>/<key> of the manifest object, e.g. 's3://my-bucket/manifests/start.manifest'"
    if not uri.startswith("s3://") and not _known(uri):
        return [f"initial_manifest_uri: must be known at synth time (got a token, {shown(uri)}); the execution "
                f"role is granted read on the manifest object, so give s3://<bucket>/<key> (the bucket and the "
                f"key may each be a token)"]
    if _MANIFEST_URI.match(uri) is None:
        return [f"initial_manifest_uri: {shown(uri)} is not an S3 object URI; {expected}"]
    if _known(uri) and len(uri) > MAX_S3_URI_LENGTH:
        return [f"initial_manifest_uri: {len(uri)} characters given; allowed: at most {MAX_S3_URI_LENGTH}"]
    return []


def manifest_object_arn(partition: str, uri: Optional[str]) -> Optional[str]:
    """``arn:<partition>:s3:::<bucket>/<key>`` of a valid manifest URI (see ``check_manifest_uri``)."""
    match = _MANIFEST_URI.match(uri) if uri is not None else None
    return f"arn:{partition}:s3:::{match.group(1)}/{match.group(2)}" if match else None


def validate_job_settings(settings: JobSettings) -> List[str]:
    """Every rule, in one list; empty when the settings can be sent to CreateLabelingJob."""
    task_type = settings.task_type
    errors: List[str] = check_known_at_synth(settings)
    errors += check_task_type(task_type)
    errors += check_name("job_name_prefix", settings.job_name_prefix, MAX_JOB_NAME_PREFIX_LENGTH)
    if not _derived_from_token_prefix(settings):
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
    errors += check_text("task_title", settings.props["task_title"], 1, 128, _TITLE)
    errors += check_text("task_description", settings.props["task_description"], 1, 255)
    errors += check_keywords(settings.props["task_keywords"])
    errors += _range("workers_per_object", settings.props["workers_per_object"], 1, 9)
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
    errors += _range("max_concurrent_tasks", settings.props["max_concurrent_tasks"], 1, 5000)
    errors += check_workforce(settings.workforce, task_type, settings.region)
    errors += check_review_source(settings)
    errors += check_worker_ui(settings)
    errors += check_manifest_uri(settings.props["initial_manifest_uri"])
    errors += check_tags(settings.props["tags"] or {})
    return errors


def check_exclusive(props: Mapping[str, Any], pairs: Sequence[Tuple[str, str]]) -> List[str]:
    """``existing_x`` and ``x_props`` configure the same resource: at most one of them."""
    return [
        f"{existing} and {new} both given; pass either your own resource or props for a new one"
        for existing, new in pairs
        if props.get(existing) is not None and props.get(new) is not None
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
    if settings.props["exclusion_category"] is not None and task_type.name not in SUPPORTS_EXCLUSION_CATEGORY:
        errors.append(f"exclusion_category: not supported for task type {task_type.name}; allowed task types: "
                      f"{', '.join(sorted(SUPPORTS_EXCLUSION_CATEGORY))}")
    if tuple(settings.props["verification_categories"]) != DEFAULT_VERIFICATION_CATEGORIES:
        if not task_type.name.startswith("VERIFICATION_"):
            errors.append(f"verification_categories: not supported for task type {task_type.name}; allowed task "
                          f"types: {_types(lambda t: t.name.startswith('VERIFICATION_'))}")
        elif len(settings.props["verification_categories"]) < 2:
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
        short = settings.props["instructions"] or settings.props["task_title"]
        if _known(short) and len(short) >= 255:
            errors.append(f"instructions: {len(short)} characters; allowed for task type {task_type.name}: "
                          "under 255")
        full = settings.props["full_instructions"]
        if full is not None and _known(full) and len(full) >= 2048:
            errors.append(f"full_instructions: {len(full)} characters; allowed for task type {task_type.name}: "
                          "under 2,048")
    return errors


# --- chaining and regions: the rules of input_from and of the stack's region --------------------------


def check_pairing(downstream: TaskType, upstream: TaskType) -> List[str]:
    """A synth error for a pairing AWS does not support; custom task types pair with anything."""
    if downstream.is_custom or upstream.is_custom:
        return []
    sources = REVIEW_SOURCES.get(downstream.name)
    if sources is not None and upstream.name not in sources:
        return [
            f"input_from: task type {downstream.name} reviews the labels of {' or '.join(sources)} jobs; "
            f"the upstream job is {upstream.name}"
        ]
    if sources is None and downstream.modality is not upstream.modality:
        return [
            f"input_from: task type {downstream.name} labels {downstream.modality.value} objects; the upstream "
            f"job ({upstream.name}) passes on {upstream.modality.value} objects"
        ]
    return []


def check_chained_props(*, input_from: object, existing_input_topic: object, input_topic_props: object,
                        send_uploads_to_input_topic: Optional[bool]) -> List[str]:
    if input_from is None:
        return []
    errors = []
    if existing_input_topic is not None or input_topic_props is not None:
        errors.append("input_from: the job's input topic is the upstream job's output topic; "
                      "existing_input_topic and input_topic_props are not allowed with it")
    if send_uploads_to_input_topic:
        errors.append("send_uploads_to_input_topic: not allowed with input_from; the upstream job's output topic "
                      "is not this job's to publish uploads to")
    return errors


def check_same_environment(upstream_path: str, upstream_env: Tuple[str, str], env: Tuple[str, str]) -> List[str]:
    """Ground Truth takes input topics of the job's own region; the upstream job's resources are referenced.

    ``*_env`` are ``(account, region)`` of the two stacks, tokens for environment-agnostic stacks.
    aws-cdk-lib cannot reference resources across environments (its error is about a bucket's physical
    name), so a difference is reported here, naming ``input_from``.
    """
    (up_account, up_region), (account, region) = upstream_env, env
    up_known = (not Token.is_unresolved(up_account), not Token.is_unresolved(up_region))
    known = (not Token.is_unresolved(account), not Token.is_unresolved(region))
    if up_known[1] and known[1] and up_region != region:
        return [
            f"input_from: the upstream job {upstream_path} is in {up_region}, this job's stack in {region}; "
            f"Ground Truth requires the input topic in the job's own region (allowed: an upstream job in {region})"
        ]
    if up_known[0] and known[0] and up_account != account:
        return [
            f"input_from: the upstream job {upstream_path} is in account {up_account}, this job's stack in account "
            f"{account}; the upstream job's topic, buckets and key are referenced from this stack, which aws-cdk-lib "
            f"cannot do across accounts (allowed: an upstream job in {account})"
        ]
    if up_known != known:
        def shown(account_: str, region_: str) -> str:
            return "/".join(part if not Token.is_unresolved(part) else "(agnostic)" for part in (account_, region_))

        return [
            f"input_from: the upstream job {upstream_path} is in the environment {shown(up_account, up_region)}, "
            f"this job's stack in {shown(account, region)}; give both stacks the same env (account and region): "
            "Ground Truth requires the input topic in the job's own region"
        ]
    return []


def other_environment_errors(upstream: IConstruct, stack: Stack) -> List[str]:
    """Known before anything is built: aws-cdk-lib would fail resolving a cross-environment reference."""
    upstream_stack = Stack.of(upstream)
    return check_same_environment(
        upstream.node.path, (upstream_stack.account, upstream_stack.region), (stack.account, stack.region)
    )[:1]


def imported_upstream_errors(
    upstream_path: str, task_type: TaskType, upstream_task_type: Optional[TaskType], *,
    labels_given: bool, upstream_labels: Sequence[str], source_label_attribute_name: Optional[str],
    upstream_label_attribute_name: Optional[str],
) -> List[str]:
    """What a job chained to an imported job needs that ``from_job_attributes`` was not given."""
    errors = []
    if upstream_task_type is None and not task_type.is_custom:
        errors.append(f"input_from: the imported job {upstream_path} was given no task_type; pass "
                      "task_type= to from_job_attributes, so that the pairing of the two jobs can be checked")
    if task_type.is_adjustment_or_verification:
        if source_label_attribute_name is None and upstream_label_attribute_name is None:
            errors.append(f"input_from: the imported job {upstream_path} was given no label_attribute_name, "
                          f"which task type {task_type.name} reviews; pass label_attribute_name= to "
                          "from_job_attributes, or source_label_attribute_name= to this job")
        if not labels_given and not upstream_labels:
            errors.append(f"input_from: the imported job {upstream_path} was given no labels, which task type "
                          f"{task_type.name} reviews; pass labels= to from_job_attributes or to this job")
    return errors


def region_errors(region: Optional[str], accounts: Optional[Mapping[str, str]]) -> List[str]:
    """A synth error for a known region without built-in Lambdas (an environment-agnostic stack: none)."""
    table = accounts or BUILT_IN_LAMBDA_ACCOUNTS
    return [unsupported_region_message(region, dict(table))] if region is not None and region not in table else []

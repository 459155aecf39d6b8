"""The props of StreamingLabelingJob, each declared once.

``JobProps`` is the table: one entry per prop, its type (the annotation, which type checkers
read through ``**props: Unpack[JobProps]``), and in its ``Prop`` what the runtime type check
expects, the default, the documentation and an example value. The constructor's signature and
docstring, the type check (``PROP_TYPES``) and the resolved props the plan reads all derive
from it: adding a prop is one entry here plus the code that maps it (``request.py`` for a
CreateLabelingJob member). ``tests/test_props_table.py`` synthesizes each entry's example and
fails for a prop whose value reaches no template: declared, but mapped nowhere.
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import KW_ONLY, dataclass, field
from types import MappingProxyType
from typing import (
    Annotated,
    Any,
    Callable,
    Dict,
    List,
    Mapping,
    Optional,
    Required,
    Sequence,
    Tuple,
    TypedDict,
    cast,
    get_args,
    get_origin,
    get_type_hints,
)

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from .base import IStreamingLabelingJob, StreamingLabelingJobBase
from .task_types import TaskType
from .validation import (
    PropType,
    TypeCheck,
    attribute_map,
    check_labels_value,
    check_prop_types,
    has_attribute,
    instance_of,
    integer,
    labels_value,
    sequence_of,
    string_map,
)
from .worker_ui import DEFAULT_VERIFICATION_CATEGORIES, LabelAttribute, VideoAnnotationType
from .workforce import Workforce

#: What makes an example value in a scope (topics, buckets, keys and roles need one).
Example = Callable[[Construct], Any]


@dataclass(frozen=True)
class Prop:
    """One prop's declaration, besides its type.

    ``expected`` and ``check``: the runtime type check and its wording. ``example``: a value unlike
    the default, and ``example_with`` the other props it needs (a task type it applies to), which
    ``tests/test_props_table.py`` uses to prove that the prop reaches the template.
    """

    expected: str
    check: TypeCheck
    _: KW_ONLY
    doc: str
    example: Example
    default: Any = None
    example_with: Mapping[str, Any] = field(default_factory=dict)


def upstream_job(value: Any) -> Optional[str]:
    return None if isinstance(value, StreamingLabelingJobBase) else ""


_STR_LIST = "a list of str"
_ATTRIBUTES = "a list of LabelAttribute, e.g. [LabelAttribute('color', enum=['red', 'blue'])]"
_DURATION = "a Duration, e.g. Duration.minutes(5)"


def _example_upstream(scope: Construct) -> IStreamingLabelingJob:
    """A job of another app, as ``from_job_attributes`` makes it."""
    from .base import ImportedStreamingLabelingJob

    def arn(service: str, resource: str) -> str:
        return f"arn:aws:{service}:us-east-1:111122223333:{resource}"

    return ImportedStreamingLabelingJob(
        scope, "Upstream", job_name="boxes-0123456789ab",
        input_topic=sns.Topic.from_topic_arn(scope, "UpstreamIn", arn("sns", "boxes-in")),
        output_topic=sns.Topic.from_topic_arn(scope, "UpstreamOut", arn("sns", "boxes-out")),
        output_bucket=s3.Bucket.from_bucket_name(scope, "UpstreamBucket", "boxes-output"),
        encryption_key=kms.Key.from_key_arn(scope, "UpstreamKey",
                                            arn("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab")),
        task_type=TaskType.BOUNDING_BOX, labels=("label0", "label1", "label2"), label_attribute_name="boxes",
    )


class JobProps(TypedDict, total=False):
    """The keyword arguments of ``StreamingLabelingJob``."""

    task_type: Required[Annotated[TaskType, Prop(
        "a TaskType, e.g. TaskType.BOUNDING_BOX or TaskType.custom(...)", instance_of(TaskType),
        doc=(
        "a built-in ``TaskType`` member or ``TaskType.custom(...)``."),
        example=lambda _: TaskType.IMAGE_MULTI_CLASS,
    )]]
    workforce: Required[Annotated[Workforce, Prop(
        "a Workforce, e.g. Workforce.private('arn:aws:sagemaker:...:workteam/private-crowd/...')",
        instance_of(Workforce),
        doc=(
        "``Workforce.private(arn)``, ``Workforce.vendor(arn)`` or ``Workforce.public(...)``."),
        example=lambda _: Workforce.private(
            "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/reviewers"),
    )]]
    task_title: Required[Annotated[str, Prop(
        "a str", instance_of(str),
        doc=(
        "shown to workers in the task list (1-128 characters)."),
        example=lambda _: "Draw a box around each animal",
    )]]
    task_description: Required[Annotated[str, Prop(
        "a str", instance_of(str),
        doc=(
        "shown to workers (1-255 characters)."),
        example=lambda _: "One tight box per animal",
    )]]
    labels: Annotated[Optional[Sequence[str]], Prop(
        "a list of str", labels_value,
        doc=(
        "the label categories. Required for built-in task types."),
        example=lambda _: ["cat", "dog"],
    )]
    instructions: Annotated[Optional[str], Prop(
        "a str or TrustedHtml", instance_of(str),
        doc=(
        "short instructions in the worker UI (and in the label-category file of NER, video frame and 3D "
        "jobs). A ``str`` is shown as text; ``TrustedHtml(\"<ol>...</ol>\")`` is inserted as HTML. Default: "
        "the task title."),
        example=lambda _: "Draw tight boxes.",
    )]
    full_instructions: Annotated[Optional[str], Prop(
        "a str or TrustedHtml", instance_of(str),
        doc=(
        "full instructions, text or ``TrustedHtml``. Default: ``instructions``."),
        example=lambda _: "Draw a tight box around every animal you see.",
    )]
    exclusion_category: Annotated[Optional[str], Prop(
        "a str", instance_of(str),
        doc=(
        "the \"none of the above\" choice of multi-label classification UIs (``exclusion-category``). "
        "Default: none."),
        example=lambda _: "none of these",
        example_with={"task_type": TaskType.IMAGE_MULTI_CLASS_MULTI_LABEL},
    )]
    verification_categories: Annotated[Sequence[str], Prop(
        _STR_LIST, sequence_of(str, "str"), default=DEFAULT_VERIFICATION_CATEGORIES,
        doc=(
        "the choices of a verification job's workers; the labels under review are shown over the image. "
        "Default: ``(\"Correct\", \"Incorrect\")``."),
        example=lambda _: ["Right", "Wrong"],
        example_with={"task_type": TaskType.VERIFICATION_BOUNDING_BOX},
    )]
    label_attributes: Annotated[Optional[Mapping[str, Sequence[LabelAttribute]]], Prop(
        "a mapping of label (str) to a list of LabelAttribute", attribute_map,
        doc=(
        "label -> ``LabelAttribute`` list (``categoryAttributes``), for video frame and 3D point cloud object "
        "detection and tracking. Default: none."),
        example=lambda _: {"label0": [LabelAttribute("color", enum=["red", "blue"])]},
        example_with={"task_type": TaskType.VIDEO_OBJECT_DETECTION},
    )]
    global_label_attributes: Annotated[Optional[Sequence[LabelAttribute]], Prop(
        _ATTRIBUTES, sequence_of(LabelAttribute, "LabelAttribute"),
        doc=(
        "attributes of every label (``categoryGlobalAttributes``), same types."),
        example=lambda _: [LabelAttribute("occluded", enum=["yes", "no"])],
        example_with={"task_type": TaskType.VIDEO_OBJECT_DETECTION},
    )]
    frame_attributes: Annotated[Optional[Sequence[LabelAttribute]], Prop(
        _ATTRIBUTES, sequence_of(LabelAttribute, "LabelAttribute"),
        doc=(
        "attributes of each frame or point cloud (``frameAttributes``), for video frame and 3D point cloud "
        "types. Default: none."),
        example=lambda _: [LabelAttribute("weather", description="The weather", enum=["sun", "rain"])],
        example_with={"task_type": TaskType.VIDEO_OBJECT_DETECTION},
    )]
    annotation_type: Annotated[Optional[VideoAnnotationType], Prop(
        "a VideoAnnotationType, e.g. VideoAnnotationType.POLYGON", instance_of(VideoAnnotationType),
        doc=(
        "what workers draw in video frame jobs (``annotationType``). Default: the service's, bounding boxes."),
        example=lambda _: VideoAnnotationType.POLYGON,
        example_with={"task_type": TaskType.VIDEO_OBJECT_DETECTION},
    )]
    locked_labels: Annotated[Optional[Sequence[str]], Prop(
        _STR_LIST, sequence_of(str, "str"),
        doc=(
        "labels workers may not edit in a video frame or 3D point cloud adjustment job (``editsAllowed: "
        "none``). Default: none."),
        example=lambda _: ["label0"],
        example_with={"task_type": TaskType.ADJUSTMENT_POINT_CLOUD_3D_OBJECT_DETECTION},
    )]
    task_keywords: Annotated[Optional[Sequence[str]], Prop(
        _STR_LIST, sequence_of(str, "str"),
        doc=(
        "1-5 keywords workers can search for. Default: none."),
        example=lambda _: ["animals"],
    )]
    workers_per_object: Annotated[int, Prop(
        "an int", integer, default=1,
        doc=(
        "workers who label each object (1-9). Default: 1."),
        example=lambda _: 3,
    )]
    task_time_limit: Annotated[Optional[Duration], Prop(
        _DURATION, instance_of(Duration),
        doc=(
        "time a worker has for one task. Default: 5 minutes."),
        example=lambda _: Duration.minutes(10),
    )]
    task_availability_lifetime: Annotated[Optional[Duration], Prop(
        "a Duration, e.g. Duration.hours(12)", instance_of(Duration),
        doc=(
        "time a task stays available to workers. Default: the service's default."),
        example=lambda _: Duration.hours(12),
    )]
    max_concurrent_tasks: Annotated[Optional[int], Prop(
        "an int", integer,
        doc=(
        "objects out with workers at once (1-5000). Default: the service's, 1000."),
        example=lambda _: 100,
    )]
    label_attribute_name: Annotated[Optional[str], Prop(
        "a str", instance_of(str),
        doc=(
        "key of the labels in output records. Default: ``job_name_prefix``, with ``-ref`` appended for task "
        "types that require it."),
        example=lambda _: "boxes",
    )]
    source_label_attribute_name: Annotated[Optional[str], Prop(
        "a str", instance_of(str),
        doc=(
        "for verification and adjustment types, the label attribute of the job whose labels workers review; "
        "shown in the generated template. Default: none."),
        example=lambda _: "first-pass",
        example_with={"task_type": TaskType.ADJUSTMENT_BOUNDING_BOX},
    )]
    input_from: Annotated[Optional[IStreamingLabelingJob], Prop(
        "a StreamingLabelingJob (the upstream job, or one of from_job_attributes)", upstream_job,
        doc=(
        "an upstream job whose output topic is this job's data source (AWS's chained streaming labeling job): "
        "a ``StreamingLabelingJob`` or one of ``from_job_attributes``. This job's role may subscribe to that "
        "topic, use its key and read the objects its messages point at; its output bucket gets the CORS rule "
        "workers' browsers need (an imported bucket: a warning). ``source_label_attribute_name`` defaults to "
        "the upstream job's ``label_attribute_name``, and ``labels`` of review types to the upstream job's "
        "labels. Default: none."),
        example=_example_upstream,
    )]
    job_name_prefix: Annotated[Optional[str], Prop(
        "a str", instance_of(str),
        doc=(
        "start of the generated job name ``<prefix>-<12 hex>`` (1-50 characters). Default: the construct id "
        "in lowercase."),
        example=lambda _: "animals",
    )]
    initial_manifest_uri: Annotated[Optional[str], Prop(
        "a str, e.g. 's3://my-bucket/manifests/start.manifest'", instance_of(str),
        doc=(
        "``s3://`` URI of a manifest of objects to label at start. Default: none."),
        example=lambda _: "s3://my-bucket/manifests/start.manifest",
    )]
    tags: Annotated[Optional[Mapping[str, str]], Prop(
        "a mapping of str to str, e.g. {'team': 'vision'}", string_map,
        doc=(
        "tags of the labeling job. Default: none."),
        example=lambda _: {"team": "vision"},
    )]
    send_uploads_to_input_topic: Annotated[Optional[bool], Prop(
        "a bool", instance_of(bool),
        doc=(
        "publish S3 object-created events of the input bucket to the input topic. Default: true for non-text "
        "task types when this construct creates the input bucket."),
        example=lambda _: False,
    )]
    create_input_bucket: Annotated[Optional[bool], Prop(
        "a bool", instance_of(bool),
        doc=(
        "create an input bucket for data objects sent as ``source-ref``. Default: true, except for text task "
        "types, which take only inline ``{\"source\": ...}`` objects."),
        example=lambda _: False,
        example_with={"send_uploads_to_input_topic": False},
    )]
    removal_policy: Annotated[RemovalPolicy, Prop(
        "a RemovalPolicy, e.g. RemovalPolicy.DESTROY", instance_of(RemovalPolicy), default=RemovalPolicy.RETAIN,
        doc=(
        "what happens to the buckets and key when the stack is deleted. Default: RETAIN. DESTROY empties and "
        "deletes them, after the job has reached Stopped."),
        example=lambda _: RemovalPolicy.DESTROY,
    )]
    renew_after_idle_stop: Annotated[bool, Prop(
        "a bool", instance_of(bool), default=True,
        doc=(
        "when Ground Truth stops the job for 10 idle days, start the next generation of its name from the "
        "same request, within minutes and without a deploy; what is published while no job listens waits in a "
        "holding queue of the construct's own and reaches the successor. Stops by CloudFormation, by "
        "``streaming-labeling stop`` or by a person while the job was busy are never renewed, nor a Failed "
        "job. Default: true."),
        example=lambda _: False,
    )]
    existing_input_topic: Annotated[Optional[sns.ITopic], Prop(
        "an sns.ITopic", has_attribute("topic_arn"),
        doc=(
        "your own input topic instead of a new one."),
        example=lambda scope: sns.Topic(scope, "MyInputTopic"),
    )]
    input_topic_props: Annotated[Optional[sns.TopicProps], Prop(
        "an sns.TopicProps", instance_of(sns.TopicProps),
        doc=(
        "props of the new input topic; every field reaches the topic, except that the job's key, SSL-only "
        "publishing and a standard (not FIFO) topic are enforced, with a warning ``streaming-"
        "labeling:OverriddenProp:<prop>.<field>`` for each value replaced."),
        example=lambda _: sns.TopicProps(display_name="Animals in"),
    )]
    existing_output_topic: Annotated[Optional[sns.ITopic], Prop(
        "an sns.ITopic", has_attribute("topic_arn"),
        doc=(
        "your own output topic instead of a new one."),
        example=lambda scope: sns.Topic(scope, "MyOutputTopic"),
    )]
    output_topic_props: Annotated[Optional[sns.TopicProps], Prop(
        "an sns.TopicProps", instance_of(sns.TopicProps),
        doc=(
        "props of the new output topic."),
        example=lambda _: sns.TopicProps(display_name="Animals out"),
    )]
    existing_input_bucket: Annotated[Optional[s3.IBucket], Prop(
        "an s3.IBucket", has_attribute("bucket_arn"),
        doc=(
        "your own input bucket instead of a new one."),
        example=lambda scope: s3.Bucket(scope, "MyInputBucket"),
    )]
    input_bucket_props: Annotated[Optional[s3.BucketProps], Prop(
        "an s3.BucketProps", instance_of(s3.BucketProps),
        doc=(
        "props of the new input bucket; every field reaches the bucket. Default: versioned, access-logged. "
        "Enforced (with a warning for each value replaced): SSE-KMS with the job's key, all public access "
        "blocked, SSL only, ACLs disabled."),
        example=lambda _: s3.BucketProps(bucket_name="my-animals-in"),
    )]
    existing_output_bucket: Annotated[Optional[s3.IBucket], Prop(
        "an s3.IBucket", has_attribute("bucket_arn"),
        doc=(
        "your own output bucket instead of a new one."),
        example=lambda scope: s3.Bucket(scope, "MyOutputBucket"),
    )]
    output_bucket_props: Annotated[Optional[s3.BucketProps], Prop(
        "an s3.BucketProps", instance_of(s3.BucketProps),
        doc=(
        "props of the new output bucket."),
        example=lambda _: s3.BucketProps(bucket_name="my-animals-out"),
    )]
    existing_encryption_key: Annotated[Optional[kms.IKey], Prop(
        "a kms.IKey", has_attribute("key_arn"),
        doc=(
        "your own KMS key instead of a new one."),
        example=lambda scope: kms.Key(scope, "MyKey", enable_key_rotation=True),
    )]
    encryption_key_props: Annotated[Optional[kms.KeyProps], Prop(
        "a kms.KeyProps", instance_of(kms.KeyProps),
        doc=(
        "props of the new key; every field reaches the key. Enforced: rotation on, a symmetric encryption "
        "key."),
        example=lambda _: kms.KeyProps(description="Animals"),
    )]
    existing_role: Annotated[Optional[iam.IRole], Prop(
        "an iam.IRole", has_attribute("role_arn"),
        doc=(
        "your own execution role; the job's statements are attached to it."),
        example=lambda scope: iam.Role(scope, "MyRole",
                                       assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")),
    )]
    access_logs_bucket: Annotated[Optional[s3.IBucket], Prop(
        "an s3.IBucket", has_attribute("bucket_arn"),
        doc=(
        "where new data buckets write access logs. Default: one bucket per stack."),
        example=lambda scope: s3.Bucket(scope, "MyAccessLogs"),
    )]
    built_in_lambda_accounts: Annotated[Optional[Mapping[str, str]], Prop(
        "a mapping of region to account (str to str)", string_map,
        doc=(
        "region -> account of the built-in task Lambdas. Default: the twelve regions listed in the SageMaker "
        "API reference."),
        example=lambda _: {"us-east-1": "111122223333"},
    )]



@dataclass(frozen=True)
class Declared:
    """A prop as the table declares it: its name, type, whether it must be given, and its ``Prop``."""

    name: str
    annotation: Any
    required: bool
    nullable: bool
    prop: Prop

    @property
    def type_rule(self) -> PropType:
        return PropType(self.prop.expected, self.prop.check, nullable=self.nullable)


def _declared(table: type) -> Tuple[Declared, ...]:
    declared: List[Declared] = []
    for name, hint in get_type_hints(table, include_extras=True).items():
        required = get_origin(hint) is Required
        if required:
            (hint,) = get_args(hint)
        annotation, prop = get_args(hint)[0], get_args(hint)[1]
        if not isinstance(prop, Prop):
            raise TypeError(f"JobProps.{name}: its Annotated metadata must be a Prop")
        nullable = type(None) in get_args(annotation)
        declared.append(Declared(name, annotation, required, nullable, prop))
    return tuple(declared)


#: Every prop, in the table's order (the constructor's). The functions below read it when called.
DECLARED: Tuple[Declared, ...] = _declared(JobProps)
#: What each prop takes, for the type check run before any value is used.
PROP_TYPES: Mapping[str, PropType] = MappingProxyType({entry.name: entry.type_rule for entry in DECLARED})


def props_errors(given: Mapping[str, Any]) -> List[str]:
    """Unknown props (with the closest declared name), missing required ones and values of the wrong type."""
    names = [entry.name for entry in DECLARED]
    errors: List[str] = []
    for name in given:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean {close[0]}?" if close else "; see help(StreamingLabelingJob)"
            errors.append(f"{name}: not a prop of StreamingLabelingJob{hint}")
    errors += [f"{entry.name}: required; expected {entry.prop.expected}"
               for entry in DECLARED if entry.required and entry.name not in given]
    types = {entry.name: entry.type_rule for entry in DECLARED}
    errors += check_labels_value(given.get("labels"))
    return errors + check_prop_types({name: value for name, value in given.items() if name in types}, types)


def with_defaults(given: Mapping[str, Any]) -> JobProps:
    """Every declared prop: as given, else its default (``props_errors`` found nothing)."""
    values: Dict[str, Any] = {entry.name: given.get(entry.name, entry.prop.default) for entry in DECLARED}
    return cast(JobProps, values)


def constructor_signature() -> inspect.Signature:
    """``(scope, construct_id, *, task_type, ...)``: what ``help()`` and notebooks show for ``**props``."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("scope", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Construct),
        inspect.Parameter("construct_id", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str),
    ] + [
        inspect.Parameter(entry.name, keyword, annotation=entry.annotation,
                          default=inspect.Parameter.empty if entry.required else entry.prop.default)
        for entry in DECLARED
    ]
    return inspect.Signature(parameters, return_annotation=None)


def constructor_doc(summary: str) -> str:
    """The constructor's docstring: ``summary``, then each prop's ``:param:`` line from the table."""
    lines = [summary, ""] + [f":param {entry.name}: {entry.prop.doc}" for entry in DECLARED]
    return "\n".join(lines)


def example_of(entry: Declared, scope: Construct) -> Any:
    """The entry's example value, made in ``scope`` when it is a resource."""
    return entry.prop.example(scope)

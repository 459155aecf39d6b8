"""Bad input fails at synth time with a message naming the property, the value and what is allowed."""

from __future__ import annotations

import inspect
import re
import sys
import unicodedata
from dataclasses import replace
from decimal import Decimal
from typing import Any, Callable, Dict, Optional

import aws_cdk as cdk
import pytest
import regex
from aws_cdk import assertions
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from streaming_labeling import StreamingLabelingJob, TaskType, Workforce
from streaming_labeling.job_props import PROP_TYPES, with_defaults
from streaming_labeling.validation import (
    TAG_KEY_LENGTH,
    TAG_PATTERN,
    TAG_VALUE_LENGTH,
    JobSettings,
    PropsError,
    check_tags,
    validate_job_settings,
)
from streaming_labeling.worker_ui import LabelAttribute, LabelFileFeatures, VideoAnnotationType
from streaming_labeling.workforce import ContentClassifier

from . import apps
from .api_contract import sagemaker_model

# Deploy-time values (tokens) for the rows below, as a CfnParameter gives them.
_TOKENS = cdk.Stack(apps.new_app(), "Tokens")
TOKEN = cdk.CfnParameter(_TOKENS, "Text").value_as_string
NUMBER_TOKEN = cdk.CfnParameter(_TOKENS, "Number", type="Number").value_as_number

VALID = JobSettings(
    props=with_defaults(dict(task_type=TaskType.IMAGE_MULTI_CLASS, workforce=Workforce.private(apps.WORKTEAM),
                             task_title="Which animal?", task_description="Pick one", labels=["cat", "dog"])),
    labels=["cat", "dog"],
    job_name_prefix="animals",
    label_attribute_name="animals",
)
_DERIVED = set(JobSettings.__dataclass_fields__) - {"props"}


def settings_with(base: JobSettings = VALID, **changes: Any) -> JobSettings:
    """``base`` with some props and derived values changed (the rows name either)."""
    props = {name: value for name, value in changes.items() if name not in _DERIVED}
    derived = {name: value for name, value in changes.items() if name in _DERIVED}
    return replace(base, props={**base.props, **props}, **derived)  # type: ignore[typeddict-item]

# (case id, changes to the valid settings, fragments the one error message must contain)
CASES: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("prefix pattern", {"job_name_prefix": "bad_prefix!"}, ("job_name_prefix", "'bad_prefix!'", "1 to 50")),
    ("prefix too long", {"job_name_prefix": "a" * 51}, ("job_name_prefix", "1 to 50")),
    ("prefix empty", {"job_name_prefix": ""}, ("job_name_prefix", "''")),
    ("attribute pattern", {"label_attribute_name": "bad attr"}, ("label_attribute_name", "'bad attr'")),
    ("attribute too long", {"label_attribute_name": "a" * 128}, ("label_attribute_name", "1 to 127")),
    ("attribute -metadata", {"label_attribute_name": "x-metadata"}, ("label_attribute_name", "-metadata")),
    ("attribute needs -ref",
     {"task_type": TaskType.SEMANTIC_SEGMENTATION, "label_attribute_name": "seg"},
     ("label_attribute_name", "'seg'", "-ref", "SEMANTIC_SEGMENTATION")),
    ("attribute forbids -ref",
     {"task_type": TaskType.VERIFICATION_SEMANTIC_SEGMENTATION, "label_attribute_name": "seg-ref",
      "source_label_attribute_name": "boxes-ref"},
     ("label_attribute_name", "must not end with '-ref'")),
    ("verification reuses source attribute",
     {"task_type": TaskType.VERIFICATION_BOUNDING_BOX, "label_attribute_name": "boxes",
      "source_label_attribute_name": "boxes"},
     ("label_attribute_name", "'boxes'", "different")),
    ("workers 0", {"workers_per_object": 0}, ("workers_per_object", "0", "1 to 9")),
    ("workers 10", {"workers_per_object": 10}, ("workers_per_object", "10", "1 to 9")),
    ("time limit short", {"task_time_limit_seconds": 29}, ("task_time_limit", "29", "30 to 28800")),
    ("time limit long for images", {"task_time_limit_seconds": 28801}, ("task_time_limit", "28801", "30 to 28800")),
    ("time limit long for 3D",
     {"task_type": TaskType.POINT_CLOUD_3D_OBJECT_DETECTION, "task_time_limit_seconds": 2592001},
     ("task_time_limit", "2592001", "30 to 2592000")),
    ("availability short", {"task_availability_lifetime_seconds": 59}, ("task_availability_lifetime", "60 to")),
    ("availability long private", {"task_availability_lifetime_seconds": 2592001},
     ("task_availability_lifetime", "2592001", "60 to 2592000")),
    ("availability long public",
     {"workforce": Workforce.public(price_per_task_usd="0.036"), "task_availability_lifetime_seconds": 43201},
     ("task_availability_lifetime", "43201", "60 to 43200")),
    ("concurrency 0", {"max_concurrent_tasks": 0}, ("max_concurrent_tasks", "0", "1 to 5000")),
    ("concurrency 5001", {"max_concurrent_tasks": 5001}, ("max_concurrent_tasks", "5001", "1 to 5000")),
    ("keywords none", {"task_keywords": []}, ("task_keywords", "0 keywords", "1 to 5")),
    ("keywords six", {"task_keywords": ["a", "b", "c", "d", "e", "f"]}, ("task_keywords", "6 keywords", "1 to 5")),
    ("keyword too long", {"task_keywords": ["a" * 31]}, ("task_keywords", "1 to 30")),
    ("keyword characters", {"task_keywords": ["no-dashes"]}, ("task_keywords", "'no-dashes'")),
    ("title empty", {"task_title": ""}, ("task_title", "1 to 128")),
    ("title long", {"task_title": "t" * 129}, ("task_title", "129", "1 to 128")),
    ("description long", {"task_description": "d" * 256}, ("task_description", "256", "1 to 255")),
    ("too few labels", {"labels": ["cat"]}, ("labels", "1 labels", "IMAGE_MULTI_CLASS", "at least 2")),
    ("too many labels", {"task_type": TaskType.BOUNDING_BOX, "labels": [f"l{i}" for i in range(51)]},
     ("labels", "51 labels", "1 to 50")),
    ("too many video labels", {"task_type": TaskType.VIDEO_OBJECT_DETECTION, "label_attribute_name": "v-ref",
                               "labels": [f"l{i}" for i in range(31)]}, ("labels", "31 labels", "1 to 30")),
    ("duplicate label", {"labels": ["cat", "Cat"]}, ("labels", "'cat' and 'Cat' collide", "unique")),
    ("labels differing in case",
     {"task_type": TaskType.BOUNDING_BOX, "labels": ["Pos", "pos"]},
     ("labels: 'Pos' and 'pos' collide", "compared ignoring case and leading and trailing spaces")),
    ("labels differing in spaces", {"labels": ["cat", " cat "]}, ("labels: 'cat' and ' cat ' collide",)),
    ("empty label", {"labels": ["cat", " "]}, ("labels", "' '", "empty")),
    ("long label", {"labels": ["cat", "x" * 257]}, ("labels", "257 characters", "1 to 256")),
    ("workteam arn shape", {"workforce": Workforce.private("my-team")}, ("workforce", "'my-team'", "workteam/")),
    ("workteam kind",
     {"workforce": Workforce.private("arn:aws:sagemaker:us-east-1:111122223333:workteam/vendor-crowd/v")},
     ("workforce", "private-crowd")),
    ("manifest not s3", {"initial_manifest_uri": "https://example.com/m.json"},
     ("initial_manifest_uri", "'https://example.com/m.json'", "s3://")),
    ("manifest without a key", {"initial_manifest_uri": "s3://bucket"},
     ("initial_manifest_uri", "'s3://bucket'", "s3://<bucket>/<key>")),
    ("manifest with an empty key", {"initial_manifest_uri": "s3://bucket/"},
     ("initial_manifest_uri", "'s3://bucket/'", "s3://<bucket>/<key>")),
    ("manifest a prefix", {"initial_manifest_uri": "s3://bucket/manifests/"},
     ("initial_manifest_uri", "'s3://bucket/manifests/'", "manifest object")),
    ("manifest too long", {"initial_manifest_uri": "s3://bucket/" + "k" * 1013},
     ("initial_manifest_uri", "1025 characters", "at most 1024")),
    ("manifest a token", {"initial_manifest_uri": TOKEN},
     ("initial_manifest_uri", "must be known at synth time", "token", "s3://<bucket>/<key>")),
    ("public without price", {"workforce": Workforce.public()}, ("workforce", "price_per_task_usd", "0.012 to 1.2")),
    ("public price too high", {"workforce": Workforce.public(price_per_task_usd=Decimal("2.5"))},
     ("workforce", "2.5", "0.012 to 1.2")),
    ("public without PII classifier",
     {"workforce": Workforce.public(price_per_task_usd="0.036",
                                    content_classifiers=[ContentClassifier.FREE_OF_ADULT_CONTENT])},
     ("workforce", "FREE_OF_PERSONALLY_IDENTIFIABLE_INFORMATION")),
    ("public for 3D",
     {"workforce": Workforce.public(price_per_task_usd="0.036"), "task_type": TaskType.POINT_CLOUD_3D_OBJECT_DETECTION,
      "labels": ["car"]},
     ("workforce", "POINT_CLOUD_3D_OBJECT_DETECTION", "cannot use the public workforce")),
    ("custom lambda arn",
     {"task_type": TaskType.custom(pre_annotation_lambda_arn="pre", consolidation_lambda_arn=
                                   "arn:aws:lambda:us-east-1:111122223333:function:acs", template="<p></p>")},
     ("task_type", "'pre'", "Lambda function ARN")),
    ("workteam in another region",
     {"workforce": Workforce.private("arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/t"),
      "region": "eu-west-1"},
     ("workforce", "us-east-1", "eu-west-1", "its own region")),
    ("review without its source",
     {"task_type": TaskType.ADJUSTMENT_VIDEO_OBJECT_DETECTION, "label_attribute_name": "v-ref", "labels": ["car"]},
     ("source_label_attribute_name", "required", "ADJUSTMENT_VIDEO_OBJECT_DETECTION", "input_from")),
    ("exclusion category on a single-label type", {"exclusion_category": "None"},
     ("exclusion_category", "IMAGE_MULTI_CLASS", "IMAGE_MULTI_CLASS_MULTI_LABEL, TEXT_MULTI_CLASS_MULTI_LABEL")),
    ("verification categories elsewhere", {"verification_categories": ("yes", "no", "maybe")},
     ("verification_categories", "VERIFICATION_BOUNDING_BOX, VERIFICATION_SEMANTIC_SEGMENTATION")),
    ("label attributes on 2D", {"features": LabelFileFeatures(global_label_attributes=(LabelAttribute("x"),))},
     ("label_attributes", "IMAGE_MULTI_CLASS", "VIDEO_OBJECT_DETECTION")),
    ("frame attributes on 2D", {"features": LabelFileFeatures(
        frame_attributes=(LabelAttribute("weather", description="d"),))},
     ("frame_attributes", "IMAGE_MULTI_CLASS", "POINT_CLOUD_3D_SEMANTIC_SEGMENTATION")),
    ("frame attribute without description",
     {"task_type": TaskType.POINT_CLOUD_3D_OBJECT_DETECTION, "labels": ["car"],
      "features": LabelFileFeatures(frame_attributes=(LabelAttribute("weather"),))},
     ("frame_attributes", "'weather'", "description")),
    ("number attribute without range",
     {"task_type": TaskType.POINT_CLOUD_3D_OBJECT_DETECTION, "labels": ["car"],
      "features": LabelFileFeatures(global_label_attributes=(LabelAttribute("doors", type="number"),))},
     ("global_label_attributes", "'doors'", "minimum and maximum")),
    ("annotation type on 3D",
     {"task_type": TaskType.POINT_CLOUD_3D_OBJECT_DETECTION, "labels": ["car"],
      "features": LabelFileFeatures(annotation_type=VideoAnnotationType.POLYGON)},
     ("annotation_type", "POINT_CLOUD_3D_OBJECT_DETECTION", "VIDEO_OBJECT_DETECTION")),
    ("locked labels outside review",
     {"task_type": TaskType.POINT_CLOUD_3D_OBJECT_DETECTION, "labels": ["car"],
      "features": LabelFileFeatures(locked_labels=("car",))},
     ("locked_labels", "POINT_CLOUD_3D_OBJECT_DETECTION", "ADJUSTMENT_POINT_CLOUD_3D_OBJECT_DETECTION")),
    ("3D label too long",
     {"task_type": TaskType.POINT_CLOUD_3D_OBJECT_DETECTION, "labels": ["a-very-long-label-name"]},
     ("labels", "'a-very-long-label-name'", "1 to 16")),
    ("too many tags", {"tags": {f"k{i}": "v" for i in range(46)}}, ("tags", "46", "at most 45", "5 of its own")),
    ("reserved tag", {"tags": {"aws:owner": "me"}}, ("tags", "'aws:owner'", "reserved")),
    ("tag the library sets", {"tags": {"streaming-labeling:stack": "mine"}},
     ("tags: key 'streaming-labeling:stack'", "reserves")),
    ("tag key character", {"tags": {"cost#center": "42"}},
     ("tags: key 'cost#center'", "'#' is not allowed", "letters, digits, spaces and _ . : / = + - @")),
    ("tag value character", {"tags": {"teams": "vision,nlp"}},
     ("tags: value 'vision,nlp' of 'teams'", "',' is not allowed", "letters, digits, spaces")),
    ("tag key empty", {"tags": {"": "x"}}, ("tags: key ''", "0 characters", "1 to 128")),
    ("tag key long", {"tags": {"k" * 129: "x"}}, ("tags", "129 characters", "1 to 128")),
    ("tag value long", {"tags": {"k": "v" * 257}}, ("tags: value of 'k'", "257 characters", "0 to 256")),
    # Props the construct transforms at synth time cannot be deploy-time values (tokens).
    ("prefix a token", {"job_name_prefix": TOKEN},
     ("job_name_prefix: must be known at synth time (got a token", "IAM resources")),
    ("prefix a token, attribute derived from it", {"job_name_prefix": TOKEN, "label_attribute_name": TOKEN.lower()},
     ("job_name_prefix: must be known at synth time",)),
    ("attribute a token", {"label_attribute_name": TOKEN}, ("label_attribute_name: must be known at synth time",)),
    ("title a token", {"task_title": TOKEN}, ("task_title: must be known at synth time", "worker template")),
    ("instructions a token", {"instructions": TOKEN}, ("instructions: must be known at synth time",)),
    ("full instructions a token", {"full_instructions": TOKEN}, ("full_instructions: must be known at synth time",)),
    ("exclusion category a token", {"task_type": TaskType.IMAGE_MULTI_CLASS_MULTI_LABEL, "exclusion_category": TOKEN},
     ("exclusion_category: must be known at synth time",)),
    ("verification categories a token",
     {"task_type": TaskType.VERIFICATION_BOUNDING_BOX, "source_label_attribute_name": "boxes",
      "verification_categories": ("yes", TOKEN)},
     ("verification_categories: must be known at synth time",)),
    ("source attribute a token",
     {"task_type": TaskType.VERIFICATION_BOUNDING_BOX, "source_label_attribute_name": TOKEN},
     ("source_label_attribute_name: must be known at synth time", "worker template")),
]


@pytest.mark.parametrize("changes,fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_names_the_property_the_value_and_what_is_allowed(
    changes: dict[str, Any], fragments: tuple[str, ...]
) -> None:
    errors = validate_job_settings(settings_with(**changes))
    assert len(errors) == 1, errors
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])


def test_valid_settings_pass() -> None:
    assert validate_job_settings(VALID) == []
    public = settings_with(workforce=Workforce.public(price_per_task_usd="0.036"))
    assert validate_job_settings(public) == []


def test_tokens_of_props_passed_through_to_the_request_are_skipped_not_guessed() -> None:
    """Values the request carries as they are: the service checks them at deploy time."""
    settings = settings_with(
        workers_per_object=NUMBER_TOKEN, max_concurrent_tasks=NUMBER_TOKEN,  # type: ignore[arg-type]
        workforce=Workforce.private(TOKEN), task_description=TOKEN, task_keywords=[TOKEN],
        tags={TOKEN: TOKEN, "team": TOKEN}, initial_manifest_uri=f"s3://{TOKEN}/{TOKEN}",
    )
    assert validate_job_settings(settings) == []


def test_every_prop_of_the_construct_has_a_type_rule() -> None:
    params = set(inspect.signature(StreamingLabelingJob.__init__).parameters) - {"self", "scope", "construct_id"}
    assert params == set(PROP_TYPES)


# --- the construct: props in, the error out -------------------------------------------------------

Build = Callable[[cdk.App], Dict[str, Any]]


def _upstream_in(account: Optional[str], region: Optional[str]) -> Build:
    def build(app: cdk.App) -> Dict[str, Any]:
        env = cdk.Environment(account=account, region=region) if account else None
        upstream = StreamingLabelingJob(cdk.Stack(app, "Upstream", env=env), "Boxes",
                                        **apps.job_kwargs(TaskType.BOUNDING_BOX, region=region or "us-east-1"))
        return {"task_type": TaskType.VERIFICATION_BOUNDING_BOX, "input_from": upstream,
                "source_label_attribute_name": None}
    return build


def _with(**props: Any) -> Build:
    return lambda app: props


def _token_duration(prop: str) -> Build:
    def build(app: cdk.App) -> Dict[str, Any]:
        stack = app.node.find_child("Job")
        return {prop: cdk.Duration.seconds(cdk.CfnParameter(stack, "Seconds", type="Number").value_as_number)}
    return build


def _token_prefix(app: cdk.App) -> Dict[str, Any]:
    return {"job_name_prefix": cdk.CfnParameter(app.node.find_child("Job"), "Prefix").value_as_string}


_HERE = "111122223333", "us-east-1"

# (case id, (account, region) of the job's stack or None, the props, fragments the error must contain)
PROP_CASES: list[tuple[str, Optional[tuple[str, str]], Build, tuple[str, ...]]] = [
    ("title None", None, _with(task_title=None), ("task_title: None given; expected a str",)),
    ("description None", None, _with(task_description=None), ("task_description: None given; expected a str",)),
    ("time limit an int", None, _with(task_time_limit=300),
     ("task_time_limit: 300 (an int) given; expected a Duration, e.g. Duration.minutes(5)",)),
    ("availability an int", None, _with(task_availability_lifetime=3600),
     ("task_availability_lifetime: 3600 (an int) given; expected a Duration",)),
    ("workforce an ARN", None, _with(workforce=apps.WORKTEAM),
     (f"workforce: {apps.WORKTEAM!r} (a str) given; expected a Workforce, e.g. Workforce.private(",)),
    ("task type a name", None, _with(task_type="BOUNDING_BOX"),
     ("task_type: 'BOUNDING_BOX' (a str) given; expected a TaskType, e.g. TaskType.BOUNDING_BOX",)),
    ("input_from a name", None, _with(input_from="Up"),
     ("input_from: 'Up' (a str) given; expected a StreamingLabelingJob",)),
    ("tag value an int", None, _with(tags={"cost-center": 1}),
     ("tags: {'cost-center': 1} (a dict) given; expected a mapping of str to str", "the value of 'cost-center' is 1")),
    ("tags a list", None, _with(tags=[("k", "v")]), ("tags: [('k', 'v')] (a list) given; expected a mapping",)),
    ("workers a numeric string", None, _with(workers_per_object="3"),
     ("workers_per_object: '3' (a str) given; expected an int; write 3 without quotes",)),
    ("workers a bool", None, _with(workers_per_object=True), ("workers_per_object: True (a bool) given; expected an int",)),
    ("workers a float", None, _with(workers_per_object=2.0), ("workers_per_object: 2.0 (a float) given; expected an int",)),
    ("concurrency a string", None, _with(max_concurrent_tasks="100"),
     ("max_concurrent_tasks: '100' (a str) given; expected an int",)),
    ("keywords a string", None, _with(task_keywords="images"),
     ("task_keywords: 'images' (a str) given; expected a list of str, e.g. ['images']",)),
    ("keywords not strings", None, _with(task_keywords=["images", 3]),
     ("task_keywords: ['images', 3] (a list) given; expected a list of str (3 is an int, not a str)",)),
    ("verification categories a string", None, _with(verification_categories="yes,no"),
     ("verification_categories: 'yes,no' (a str) given; expected a list of str, e.g. ['yes', 'no']",)),
    ("prefix an int", None, _with(job_name_prefix=5), ("job_name_prefix: 5 (an int) given; expected a str",)),
    ("manifest not a str", None, _with(initial_manifest_uri=["s3://b/m"]),
     ("initial_manifest_uri: ['s3://b/m'] (a list) given; expected a str",)),
    ("bucket props of a topic", None, _with(input_bucket_props=sns.TopicProps()),
     ("input_bucket_props:", "(a TopicProps) given; expected an s3.BucketProps",)),
    ("existing topic an ARN", None, _with(existing_input_topic="arn:aws:sns:us-east-1:111122223333:t"),
     ("existing_input_topic: 'arn:aws:sns:us-east-1:111122223333:t' (a str) given; expected an sns.ITopic",)),
    ("create bucket a string", None, _with(create_input_bucket="yes"),
     ("create_input_bucket: 'yes' (a str) given; expected a bool",)),
    ("prefix a parameter", None, _token_prefix,
     ("job_name_prefix: must be known at synth time (got a token, '${Token[",)),
    ("time limit a token", None, _token_duration("task_time_limit"),
     ("task_time_limit: must be known at synth time (got a token, Duration of <token> seconds)",
      "e.g. Duration.minutes(5)")),
    ("availability a token", None, _token_duration("task_availability_lifetime"),
     ("task_availability_lifetime: must be known at synth time",)),
    ("time limit in millis", None, _with(task_time_limit=cdk.Duration.millis(1500)),
     ("task_time_limit: 1 second 500 millis is not a whole number of seconds",)),
    ("input_from another region", ("111122223333", "eu-west-1"), _upstream_in(*_HERE),
     ("input_from: the upstream job Upstream/Boxes is in us-east-1, this job's stack in eu-west-1",
      "Ground Truth requires the input topic in the job's own region")),
    ("input_from another account", ("444455556666", "us-east-1"), _upstream_in(*_HERE),
     ("input_from: the upstream job Upstream/Boxes is in account 111122223333, this job's stack in account "
      "444455556666",)),
    ("input_from an env-specific stack", None, _upstream_in(*_HERE),
     ("input_from: the upstream job Upstream/Boxes is in the environment 111122223333/us-east-1",
      "same env")),
]


def synth_error(env: Optional[tuple[str, str]], build: Build) -> str:
    """The error a user sees: raised by the constructor or by synthesis; never a synthesized template."""
    app = apps.new_app()
    stack = cdk.Stack(app, "Job", env=cdk.Environment(account=env[0], region=env[1]) if env else None)
    props = build(app)
    region = env[1] if env else "us-east-1"
    task_type = props.get("task_type")
    kwargs = {**apps.job_kwargs(task_type if isinstance(task_type, TaskType) else TaskType.BOUNDING_BOX,
                                region=region), **props}
    with pytest.raises(Exception) as raised:
        StreamingLabelingJob(stack, "Job", **kwargs)
        app.synth()
    return str(raised.value)


@pytest.mark.parametrize("env,build,fragments", [c[1:] for c in PROP_CASES], ids=[c[0] for c in PROP_CASES])
def test_each_bad_prop_is_an_error_naming_the_prop_the_value_and_what_is_expected(
    env: Optional[tuple[str, str]], build: Build, fragments: tuple[str, ...]
) -> None:
    message = synth_error(env, build)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert re.search(r"\d{30}", message) is None, message  # a token number is never printed as a number
    assert "Traceback" not in message and "CannotUseCrossEnvironment" not in message


def test_a_token_prefix_never_reaches_the_template() -> None:
    """Before: the prefix, lowercased, was written as '${token[token.N]}' into the request and IAM resources."""
    message = synth_error(None, lambda app: {**_token_prefix(app), "label_attribute_name": "boxes"})
    assert message.count("must be known at synth time") == 1, message


# --- tags: the SageMaker model's patterns ---------------------------------------------------------------


def test_tag_rules_are_the_models_tag_key_and_tag_value() -> None:
    model = sagemaker_model()
    key, value = model.shape_for("TagKey").metadata, model.shape_for("TagValue").metadata
    assert key["pattern"] == value["pattern"] == TAG_PATTERN
    assert (key["min"], key["max"]) == TAG_KEY_LENGTH
    assert (value["min"], value["max"]) == TAG_VALUE_LENGTH


def test_the_tag_character_check_is_the_models_pattern_for_every_assigned_code_point() -> None:
    """Python's re has no \\p{L}: the library checks Unicode categories; held here against the pattern itself."""
    pattern = regex.compile(TAG_PATTERN)
    differing = []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) in ("Cn", "Cs"):  # unassigned in this Python's Unicode, surrogates
            continue
        by_model = pattern.fullmatch(char) is not None
        by_library = check_tags({"k": char}) == []
        if by_model != by_library:
            differing.append(f"U+{code:04X}")
    assert differing == []


def test_errors_are_raised_by_the_constructor_before_anything_is_built() -> None:
    """One channel: every prop error (types, values, environments) is a PropsError from the constructor."""
    app = apps.new_app()
    stack = cdk.Stack(app, "Invalid")
    with pytest.raises(PropsError, match=r"Invalid/Job: workers_per_object: 12 is out of range; allowed: 1 to 9"):
        StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.IMAGE_MULTI_CLASS, workers_per_object=12))
    assert stack.node.try_find_child("Job") is None
    with pytest.raises(ValueError):  # a PropsError is a ValueError and a TypeError
        StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.IMAGE_MULTI_CLASS, workers_per_object=12))
    with pytest.raises(TypeError, match="workers_per_object: 'x' .a str. given; expected an int"):
        StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.IMAGE_MULTI_CLASS, workers_per_object="x"))


def test_an_existing_resource_together_with_props_for_it_is_an_error() -> None:
    app = apps.new_app()
    stack = cdk.Stack(app, "Both")
    topic = sns.Topic(stack, "Mine")
    with pytest.raises(PropsError, match="existing_input_topic and input_topic_props both given"):
        StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.BOUNDING_BOX), existing_input_topic=topic,
                             input_topic_props=sns.TopicProps(display_name="x"))


def test_an_unsupported_region_fails_synth_and_lists_the_supported_ones() -> None:
    app = apps.new_app()
    stack = cdk.Stack(app, "Stockholm", env=cdk.Environment(account="111122223333", region="eu-north-1"))
    with pytest.raises(PropsError, match=r"no built-in task Lambdas in eu-north-1; supported regions: ap-northeast-1"):
        StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.BOUNDING_BOX))


def test_text_jobs_refuse_s3_event_input() -> None:
    app = apps.new_app()
    stack = cdk.Stack(app, "TextS3")
    with pytest.raises(PropsError, match="send_uploads_to_input_topic"):
        StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.TEXT_MULTI_CLASS),
                             send_uploads_to_input_topic=True)


@pytest.mark.parametrize(
    "labels,fragments",
    [
        ("cat,dog", ("labels: 'cat,dog' is a string", "labels=['cat', 'dog']")),
        (("cat", 3), ("labels:", "not strings")),
        ("TOKEN", ("labels: a deploy-time value (token)", "synth time")),
    ],
    ids=["a string", "not strings", "a list token"],
)
def test_labels_that_are_not_a_list_of_strings_are_an_error_naming_labels(labels: Any, fragments: tuple[str, ...]) -> None:
    app = apps.new_app()
    stack = cdk.Stack(app, "Labels")
    if labels == "TOKEN":
        labels = cdk.Fn.split(",", cdk.CfnParameter(stack, "Labels").value_as_string)
    with pytest.raises(PropsError) as raised:
        StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.IMAGE_MULTI_CLASS, labels=labels))
    for fragment in fragments:
        assert fragment in str(raised.value)
    assert "0 labels given" not in str(raised.value)  # the type is reported alone, before any rule of values


# --- the initial manifest: validated, and readable by the job ------------------------------------------


def _execution_statements(template: Dict[str, Any]) -> list[Dict[str, Any]]:
    policies = apps.resources_of_type(template, "AWS::IAM::ManagedPolicy", "JobExecutionPolicy")
    return [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_the_execution_role_may_read_exactly_the_initial_manifest() -> None:
    app = apps.new_app()
    stack = cdk.Stack(app, "Manifest")
    StreamingLabelingJob(stack, "Job", **apps.job_kwargs(
        TaskType.BOUNDING_BOX, initial_manifest_uri="s3://my-manifests/streaming/start.manifest"))
    statements = _execution_statements(assertions.Template.from_stack(stack).to_json())
    manifest = [s for s in statements if s.get("Sid") == "ReadInitialManifest"]
    assert manifest == [{
        "Sid": "ReadInitialManifest", "Effect": "Allow", "Action": "s3:GetObject",
        "Resource": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::my-manifests/streaming/start.manifest"]]},
    }]


def test_a_manifest_in_a_bucket_of_the_app_is_granted_by_reference() -> None:
    app = apps.new_app()
    stack = cdk.Stack(app, "Manifest")
    bucket = s3.Bucket(stack, "Manifests")
    StreamingLabelingJob(stack, "Job", **apps.job_kwargs(
        TaskType.BOUNDING_BOX, initial_manifest_uri=f"s3://{bucket.bucket_name}/start.manifest"))
    statements = _execution_statements(assertions.Template.from_stack(stack).to_json())
    [manifest] = [s for s in statements if s.get("Sid") == "ReadInitialManifest"]
    bucket_id = next(iter(apps.resources_of_type(assertions.Template.from_stack(stack).to_json(),
                                                 "AWS::S3::Bucket", "Manifests")))
    assert manifest["Resource"] == {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": bucket_id}, "/start.manifest"]]}


def test_no_manifest_no_manifest_statement() -> None:
    template = apps.example()[0]
    assert not [s for s in _execution_statements(template) if s.get("Sid") == "ReadInitialManifest"]

"""Bad input fails at synth time with a message naming the property, the value and what is allowed."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns

from streaming_labeling import StreamingLabelingJob, TaskType, Workforce
from streaming_labeling.validation import JobSettings, validate_job_settings
from streaming_labeling.worker_ui import LabelAttribute, LabelFileFeatures, VideoAnnotationType
from streaming_labeling.workforce import ContentClassifier

from . import apps

VALID = JobSettings(
    task_type=TaskType.IMAGE_MULTI_CLASS,
    workforce=Workforce.private(apps.WORKTEAM),
    task_title="Which animal?",
    task_description="Pick one",
    labels=["cat", "dog"],
    job_name_prefix="animals",
    label_attribute_name="animals",
)

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
    ("duplicate label", {"labels": ["cat", "Cat"]}, ("labels", "'Cat'", "unique")),
    ("empty label", {"labels": ["cat", " "]}, ("labels", "' '", "empty")),
    ("long label", {"labels": ["cat", "x" * 257]}, ("labels", "257 characters", "1 to 256")),
    ("workteam arn shape", {"workforce": Workforce.private("my-team")}, ("workforce", "'my-team'", "workteam/")),
    ("workteam kind",
     {"workforce": Workforce.private("arn:aws:sagemaker:us-east-1:111122223333:workteam/vendor-crowd/v")},
     ("workforce", "private-crowd")),
    ("manifest not s3", {"initial_manifest_uri": "https://example.com/m.json"},
     ("initial_manifest_uri", "'https://example.com/m.json'", "s3://")),
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
    ("too many tags", {"tags": {f"k{i}": "v" for i in range(51)}}, ("tags", "51", "at most 50")),
    ("reserved tag", {"tags": {"aws:owner": "me"}}, ("tags", "'aws:owner'", "reserved")),
]


@pytest.mark.parametrize("changes,fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_names_the_property_the_value_and_what_is_allowed(
    changes: dict[str, Any], fragments: tuple[str, ...]
) -> None:
    errors = validate_job_settings(replace(VALID, **changes))
    assert len(errors) == 1, errors
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])


def test_valid_settings_pass() -> None:
    assert validate_job_settings(VALID) == []
    public = replace(VALID, workforce=Workforce.public(price_per_task_usd="0.036"))
    assert validate_job_settings(public) == []


def test_tokens_are_skipped_not_guessed() -> None:
    stack = cdk.Stack(apps.new_app(), "Tokens")
    prefix_param = cdk.CfnParameter(stack, "Prefix").value_as_string
    workers = cdk.CfnParameter(stack, "Workers", type="Number").value_as_number
    arn = cdk.CfnParameter(stack, "Team").value_as_string
    settings = replace(VALID, job_name_prefix=prefix_param, workers_per_object=workers,  # type: ignore[arg-type]
                       workforce=Workforce.private(arn), task_title=prefix_param, labels=[prefix_param, "dog"])
    assert validate_job_settings(settings) == []


def test_errors_are_registered_on_the_node_and_fail_synth() -> None:
    app = apps.new_app()
    stack = cdk.Stack(app, "Invalid")
    StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.IMAGE_MULTI_CLASS, workers_per_object=12))
    with pytest.raises(Exception, match=r"workers_per_object: 12 is out of range; allowed: 1 to 9"):
        app.synth()


def test_an_existing_resource_together_with_props_for_it_is_an_error() -> None:
    app = apps.new_app()
    stack = cdk.Stack(app, "Both")
    topic = sns.Topic(stack, "Mine")
    StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.BOUNDING_BOX), existing_input_topic=topic,
                         input_topic_props=sns.TopicProps(display_name="x"))
    with pytest.raises(Exception, match="existing_input_topic and input_topic_props both given"):
        app.synth()


def test_an_unsupported_region_fails_synth_and_lists_the_supported_ones() -> None:
    app = apps.new_app()
    stack = cdk.Stack(app, "Stockholm", env=cdk.Environment(account="111122223333", region="eu-north-1"))
    StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.BOUNDING_BOX))
    with pytest.raises(Exception, match=r"no built-in task Lambdas in eu-north-1; supported regions: ap-northeast-1"):
        app.synth()


def test_text_jobs_refuse_s3_event_input() -> None:
    app = apps.new_app()
    stack = cdk.Stack(app, "TextS3")
    StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.TEXT_MULTI_CLASS), send_uploads_to_input_topic=True)
    with pytest.raises(Exception, match="send_uploads_to_input_topic"):
        app.synth()


@pytest.mark.parametrize(
    "labels,fragments",
    [
        ("cat,dog", ("labels: 'cat,dog' is a string", "labels=['cat', 'dog']")),
        (("cat", 3), ("labels:", "not strings")),
        ("TOKEN", ("labels: a deploy-time value (token)", "synth time")),
    ],
    ids=["a string", "not strings", "a list token"],
)
def test_labels_that_are_not_a_list_of_strings_fail_synth_naming_labels(labels: Any, fragments: tuple[str, ...]) -> None:
    app = apps.new_app()
    stack = cdk.Stack(app, "Labels")
    if labels == "TOKEN":
        labels = cdk.Fn.split(",", cdk.CfnParameter(stack, "Labels").value_as_string)
    StreamingLabelingJob(stack, "Job", **apps.job_kwargs(TaskType.IMAGE_MULTI_CLASS, labels=labels))
    with pytest.raises(Exception) as raised:
        app.synth()
    for fragment in fragments:
        assert fragment in str(raised.value)

"""The built-in task-type catalog against the ARNs listed in botocore's SageMaker model."""

from __future__ import annotations

import re

from streaming_labeling import BUILT_IN_LAMBDA_ACCOUNTS, TaskType

from .api_contract import sagemaker_model

LAMBDA_ARN = re.compile(r"arn:aws:lambda:([a-z0-9-]+):(\d{12}):function:(PRE|ACS)-([A-Za-z0-9]+)")
UI_ARN = re.compile(r"arn:aws:sagemaker:[a-z-]+:(\d{12}):human-task-ui/([A-Za-z]+)")
NOT_STREAMING = {"PassThrough"}  # generative-AI passthrough, not a labeling task type


def documented_lambdas(kind: str) -> set[tuple[str, str, str]]:
    model = sagemaker_model()
    if kind == "PRE":
        doc = model.shape_for("HumanTaskConfig").members["PreHumanTaskLambdaArn"].documentation
    else:
        doc = model.shape_for("AnnotationConsolidationConfig").members["AnnotationConsolidationLambdaArn"].documentation
    return {(region, account, suffix) for region, account, k, suffix in LAMBDA_ARN.findall(doc) if k == kind}


def catalog_lambdas() -> set[tuple[str, str, str]]:
    return {
        (region, account, task_type.lambda_suffix or "")
        for task_type in TaskType.built_in()
        for region, account in BUILT_IN_LAMBDA_ACCOUNTS.items()
    }


def test_every_documented_pre_annotation_lambda_is_in_the_catalog_and_nothing_else() -> None:
    documented = {entry for entry in documented_lambdas("PRE") if entry[2] not in NOT_STREAMING}
    assert documented == catalog_lambdas()


def test_every_documented_consolidation_lambda_is_in_the_catalog_and_nothing_else() -> None:
    documented = {entry for entry in documented_lambdas("ACS") if entry[2] not in NOT_STREAMING}
    assert documented == catalog_lambdas()


def test_built_in_worker_uis_match_the_documented_human_task_ui_arns() -> None:
    doc = sagemaker_model().shape_for("UiConfig").members["HumanTaskUiArn"].documentation
    documented = {name for _, name in UI_ARN.findall(doc)}
    accounts = {account for account, _ in UI_ARN.findall(doc)}
    catalog = {t.human_task_ui_name for t in TaskType.built_in() if t.human_task_ui_name}
    assert catalog == documented
    assert accounts == {"394669845002"}
    uses_ui = {t.name for t in TaskType.built_in() if t.uses_built_in_ui}
    assert {"NAMED_ENTITY_RECOGNITION", "VIDEO_OBJECT_DETECTION", "POINT_CLOUD_3D_OBJECT_TRACKING"} <= uses_ui
    assert "VIDEO_MULTI_CLASS" not in uses_ui, "video classification uses a template"


def test_members_are_the_api_names_in_upper_snake_case() -> None:
    def snake(suffix: str) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", suffix.replace("3D", "")).upper()

    for task_type in TaskType.built_in():
        assert getattr(TaskType, task_type.name) is task_type
        expected = snake(task_type.lambda_suffix or "")
        assert task_type.name.replace("POINT_CLOUD_3D", "POINT_CLOUD") == expected, task_type


def test_label_attribute_ref_rules_follow_the_api_documentation() -> None:
    doc = sagemaker_model().shape_for("CreateLabelingJobRequest").members["LabelAttributeName"].documentation
    ref_section = doc.split("must</i> end with")[1].split("</ul>")[0]
    named = set(re.findall(r"<code>([A-Za-z0-9]+)\)?</code>", ref_section))
    forbidden = {"VerificationSemanticSegmentation"}
    assert forbidden <= named
    by_suffix = {t.lambda_suffix: t for t in TaskType.built_in()}
    assert {t.lambda_suffix for t in TaskType.built_in() if t.label_attribute_needs_ref} == named - forbidden
    assert all(by_suffix[s].label_attribute_forbids_ref for s in forbidden)

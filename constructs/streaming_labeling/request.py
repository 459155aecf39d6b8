"""Props to the custom resource's properties: the contract between the construct and its handler.

Pure functions of plain values and token strings, with no resources: the handler
(``handler/jobs.py``) adds the job name and the S3 URIs of the files it writes,
and sends the result as a ``CreateLabelingJob`` request. ``tests/test_request_contract.py``
holds every task type's result against botocore's SageMaker model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

from .conventions import INPUT_BUCKET_TAG
from .job_handler import CONFIG_PREFIX
from .regions import BuiltInArns
from .validation import JobSettings
from .worker_ui import label_category_config, worker_template
from .workforce import Workforce

#: Where the job writes its labels in the output bucket.
OUTPUT_PREFIX = "labels/"
#: Raised when every deployed resource must reach the new handler once. Not part of a job's
#: identity, so the Update keeps the running job. 2: jobs are tagged with their stack. 3: names carry
#: the resource's scope, and the answer its GenerationArnPrefix (rules hear their own job only).
PROTOCOL = "3"


@dataclass(frozen=True)
class Wiring:
    """Token strings of what one job is wired to, read from the jsii runtime once."""

    input_topic: str
    output_topic: str
    input_bucket: Optional[str]
    input_bucket_name: Optional[str]
    output_bucket: str
    output_bucket_name: str
    key: str
    role: str

    @property
    def output_s3_uri(self) -> str:
        return f"s3://{self.output_bucket_name}/{OUTPUT_PREFIX}"


def create_labeling_job_request(
    settings: JobSettings, built_in: Optional[BuiltInArns], workforce: Workforce, wiring: Wiring
) -> Dict[str, Any]:
    """The CreateLabelingJob request, less the job name and the config files' URIs."""
    task_type = settings.task_type
    if built_in is not None:
        pre_arn = built_in.pre_annotation_lambda_arn
        acs_arn = built_in.consolidation_lambda_arn
    else:
        pre_arn = task_type.custom_pre_annotation_lambda_arn or ""
        acs_arn = task_type.custom_consolidation_lambda_arn or ""
    human_task: Dict[str, Any] = {
        "WorkteamArn": workforce.workteam_arn,
        "PreHumanTaskLambdaArn": pre_arn,
        "TaskTitle": settings.props["task_title"],
        "TaskDescription": settings.props["task_description"],
        "NumberOfHumanWorkersPerDataObject": settings.props["workers_per_object"],
        "TaskTimeLimitInSeconds": settings.task_time_limit_seconds,
        "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn": acs_arn},
    }
    if built_in is not None and task_type.uses_built_in_ui:
        human_task["UiConfig"] = {"HumanTaskUiArn": built_in.human_task_ui_arn}
    if settings.props["task_keywords"]:
        human_task["TaskKeywords"] = list(settings.props["task_keywords"])
    if settings.task_availability_lifetime_seconds is not None:
        human_task["TaskAvailabilityLifetimeInSeconds"] = settings.task_availability_lifetime_seconds
    if settings.props["max_concurrent_tasks"] is not None:
        human_task["MaxConcurrentTaskCount"] = settings.props["max_concurrent_tasks"]
    price = workforce.public_task_price()
    if price is not None:
        human_task["PublicWorkforceTaskPrice"] = price

    data_source: Dict[str, Any] = {"SnsDataSource": {"SnsTopicArn": wiring.input_topic}}
    if settings.props["initial_manifest_uri"]:
        data_source["S3DataSource"] = {"ManifestS3Uri": settings.props["initial_manifest_uri"]}
    input_config: Dict[str, Any] = {"DataSource": data_source}
    if workforce.content_classifiers:
        input_config["DataAttributes"] = {
            "ContentClassifiers": [classifier.value for classifier in workforce.content_classifiers]
        }
    request: Dict[str, Any] = {
        "LabelAttributeName": settings.label_attribute_name,
        "InputConfig": input_config,
        "OutputConfig": {
            "S3OutputPath": wiring.output_s3_uri,
            "SnsTopicArn": wiring.output_topic,
            "KmsKeyId": wiring.key,
        },
        "RoleArn": wiring.role,
        "HumanTaskConfig": human_task,
    }
    tags = dict(settings.props["tags"] or {})
    if wiring.input_bucket_name is not None:
        tags[INPUT_BUCKET_TAG] = wiring.input_bucket_name
    if tags:
        request["Tags"] = [{"Key": key, "Value": value} for key, value in sorted(tags.items())]
    return request


def custom_resource_properties(
    settings: JobSettings,
    built_in: Optional[BuiltInArns],
    wiring: Wiring,
    *,
    wait_for_stopped_on_delete: bool,
    holding_queue_url: Optional[str] = None,
) -> Dict[str, Any]:
    """Everything the handler reads: the request, the files it writes next to the job, how to delete."""
    task_type, labels = settings.task_type, list(settings.labels)
    properties: Dict[str, Any] = {
        "JobNamePrefix": settings.job_name_prefix.lower(),
        "Request": create_labeling_job_request(settings, built_in, settings.workforce, wiring),
        "ConfigS3Prefix": f"s3://{wiring.output_bucket_name}/{CONFIG_PREFIX}",
        "ConfigKmsKeyId": wiring.key,
        "WaitForStoppedOnDelete": "true" if wait_for_stopped_on_delete else "false",
        "Protocol": PROTOCOL,
        # Renewal after an idle stop: on with a holding queue. Neither is part of the job's identity.
        "RenewAfterIdleStop": "true" if holding_queue_url is not None else "false",
    }
    if holding_queue_url is not None:
        properties["HoldingQueueUrl"] = holding_queue_url
    if labels:
        properties["LabelCategoryConfig"] = label_category_config(
            task_type,
            labels,
            header=settings.props["task_title"],
            short_instructions=settings.props["instructions"],
            full_instructions=settings.props["full_instructions"],
            audit_label_attribute_name=settings.source_label_attribute_name,
            features=settings.features,
        )
    template = worker_template(
        task_type,
        header=settings.props["task_title"],
        short_instructions=settings.props["instructions"],
        full_instructions=settings.props["full_instructions"],
        source_label_attribute_name=settings.source_label_attribute_name,
        exclusion_category=settings.props["exclusion_category"],
        verification_categories=settings.props["verification_categories"],
    )
    if template is not None:
        properties["UiTemplate"] = template
    return properties

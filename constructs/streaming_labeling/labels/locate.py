"""Which jobs an export reads: the job named (any generation's name, or a construct of a deployed stack),
its generations, and with ``pipeline`` every job upstream of it (its ``input_from``, transitively).

A downstream job's input topic is its upstream job's output topic (that is how ``input_from`` chains
them, DG ``sms-streaming-chain``), so the pipeline is found from the jobs themselves: an imported
upstream job of another stack is followed as well as one of the same stack.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, Iterator, List, Optional, Tuple

from botocore.exceptions import ClientError

from ..cli.target import Aws, current_job, describe_job
from ..handler import shared
from .model import Dataset, LabelsError, Stage, refused

#: The resource type of the construct's job (``builders.RESOURCE_TYPE``; not imported: that module loads aws-cdk-lib).
JOB_RESOURCE_TYPE = "Custom::SageMakerStreamingLabelingJob"
MANIFEST = "manifests/output/output.manifest"


def job_of_stack(aws: Aws, stack: str, construct: Optional[str]) -> str:
    """The generation-0 name (the physical id) of the job a stack's construct deployed.

    ``construct`` is the construct's path inside the stack (``Animals``, or ``Team/Animals``); it may be
    left out when the stack has one job.
    """
    cloudformation = aws.client("cloudformation")
    try:
        resources = [resource for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack)
                     for resource in page.get("StackResourceSummaries", [])
                     if resource.get("ResourceType") == JOB_RESOURCE_TYPE and resource.get("PhysicalResourceId")]
        template = cloudformation.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
    except ClientError as error:
        message = str(error.response.get("Error", {}).get("Message", ""))
        if "does not exist" in message:
            raise LabelsError(f"No stack named {stack!r} in {aws.region}.") from error
        raise
    body: Dict[str, Any] = json.loads(template) if isinstance(template, str) else dict(template)
    jobs = {construct_path(body, str(r["LogicalResourceId"])): str(r["PhysicalResourceId"]) for r in resources}
    if not jobs:
        raise LabelsError(f"Stack {stack} has no StreamingLabelingJob.")
    if construct is None:
        if len(jobs) == 1:
            return next(iter(jobs.values()))
        raise LabelsError(f"Stack {stack} has {len(jobs)} jobs: name one with --construct ({', '.join(sorted(jobs))}).")
    wanted = construct.strip("/")
    if wanted in jobs:
        return jobs[wanted]
    raise LabelsError(f"Stack {stack} has no StreamingLabelingJob {construct!r}; its jobs: {', '.join(sorted(jobs))}.")


def construct_path(template: Dict[str, Any], logical_id: str) -> str:
    """The path inside its stack of the construct a job resource belongs to.

    From the resource's ``aws:cdk:path`` (``Stack/Team/Animals/Resource/Default`` -> ``Team/Animals``) when the
    app wrote path metadata, else from the logical id (``Animals6F4865E6`` -> ``Animals``: CDK appends an
    8-character hash to the construct's path without separators).
    """
    path = str(template.get("Resources", {}).get(logical_id, {}).get("Metadata", {}).get("aws:cdk:path", ""))
    parts = path.split("/")[1:]
    while parts and parts[-1] in ("Resource", "Default"):  # the CustomResource and its CfnResource
        parts.pop()
    if parts:
        return "/".join(parts)
    return re.sub(r"[0-9A-F]{8}$", "", logical_id) or logical_id


def read_json(aws: Aws, uri: str) -> Any:
    bucket, key = shared.split_s3_uri(uri)
    return json.loads(aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def label_names(aws: Aws, job: Dict[str, Any]) -> Tuple[str, ...]:
    """The job's label categories in order (its label category file), empty when it has none."""
    uri = job.get("LabelCategoryConfigS3Uri")
    if not uri:
        return ()
    try:
        document = read_json(aws, str(uri))
    except ClientError as error:
        raise refused(error, str(uri), str(job["LabelingJobName"]), "the label categories") from error
    except ValueError as error:
        raise LabelsError(f"The label category file of labeling job {job['LabelingJobName']} ({uri}) is not "
                          f"JSON: {error}.") from error
    entries = document.get("labels", []) if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise LabelsError(f"The label category file of labeling job {job['LabelingJobName']} ({uri}) has no "
                          '"labels" list (Ground Truth\'s format: {"labels": [{"label": "cat"}, ...]}).')
    return tuple(str(entry.get("label")) for entry in entries if isinstance(entry, dict))


def manifest_uri(job: Dict[str, Any]) -> str:
    """Where a job's output manifest is: ``LabelingJobOutput`` when the job says, else the documented layout."""
    given = job.get("LabelingJobOutput", {}).get("OutputDatasetS3Uri")
    if given:
        return str(given)
    path = str(job.get("OutputConfig", {}).get("S3OutputPath", ""))
    return f"{path.rstrip('/')}/{job['LabelingJobName']}/{MANIFEST}"


def stage_of(aws: Aws, job_name: str) -> Tuple[Stage, Dict[str, Any]]:
    """A job's stage (all generations of its resource) and the newest generation's description."""
    job, family = current_job(aws, job_name, strict=True)
    described = {str(job["LabelingJobName"]): job}
    for generation in family:
        if generation.name not in described:
            described[generation.name] = describe_job(aws, generation.name)
    names = tuple(generation.name for generation in family) or (str(job["LabelingJobName"]),)
    newest = described[names[-1]]
    stage = Stage(
        job_names=names,
        label_attribute=str(newest["LabelAttributeName"]),
        labels=label_names(aws, newest),
        workers=int(newest.get("HumanTaskConfig", {}).get("NumberOfHumanWorkersPerDataObject", 1)),
        manifest_uris=tuple(manifest_uri(described[name]) for name in names),
    )
    return stage, newest


def input_topic(job: Dict[str, Any]) -> Optional[str]:
    value = job.get("InputConfig", {}).get("DataSource", {}).get("SnsDataSource", {}).get("SnsTopicArn")
    return str(value) if value else None


def streaming_jobs(aws: Aws) -> Iterator[Dict[str, Any]]:
    """Every streaming job of the account and region, newest first, described."""
    sagemaker = aws.client("sagemaker")
    pages = sagemaker.get_paginator("list_labeling_jobs").paginate(SortBy="CreationTime", SortOrder="Descending")
    for page in pages:
        for summary in page.get("LabelingJobSummaryList", []):
            if input_topic(summary) is not None:
                yield describe_job(aws, str(summary["LabelingJobName"]))


def upstream_of(aws: Aws, job: Dict[str, Any]) -> Optional[str]:
    """The name of the job whose output topic is ``job``'s input topic (its ``input_from``), if any."""
    topic = input_topic(job)
    if topic is None:
        return None
    for candidate in streaming_jobs(aws):
        if candidate.get("OutputConfig", {}).get("SnsTopicArn") == topic:
            return str(candidate["LabelingJobName"])
    return None


def resolve(aws: Aws, *, job_name: Optional[str] = None, stack: Optional[str] = None,
            construct: Optional[str] = None, pipeline: bool = False) -> Dataset:
    """The stages an export reads, upstream first."""
    if job_name is None and stack is None:
        raise LabelsError("Name the job (job_name / --job-name) or its stack (stack / --stack).")
    if job_name is not None and (stack is not None or construct is not None):
        raise LabelsError("Name the job either by its name or by its stack and construct, not both.")
    if construct is not None and stack is None:
        raise LabelsError("A construct is looked up in a stack: name the stack too (--stack).")
    if job_name is None:
        assert stack is not None
        job_name = job_of_stack(aws, stack, construct)
    stage, job = stage_of(aws, job_name)
    stages: List[Stage] = [stage]
    while pipeline:
        upstream = upstream_of(aws, job)
        if upstream is None:
            break
        stage, job = stage_of(aws, upstream)
        if any(set(stage.job_names) & set(known.job_names) for known in stages):
            raise LabelsError(f"The jobs' topics form a loop at {stage.name}: not a pipeline.")
        stages.insert(0, stage)
    if pipeline and len(stages) == 1:
        raise LabelsError(f"Labeling job {stages[0].name} has no upstream job (its input topic is no other job's "
                          "output topic): name the last stage of the pipeline, or leave out --pipeline.")
    return Dataset(stages=tuple(stages))


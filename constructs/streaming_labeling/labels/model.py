"""What an export knows about the jobs whose labels it reads: the stages, their generations, their labels.

Standard library and botocore only: notebooks and training scripts import the export without aws-cdk-lib.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Mapping, Optional, Tuple

from botocore.exceptions import ClientError

#: The ``type`` of a label's metadata (DG ``sms-data-output``), by what an export can make of it.
BOXES = ("groundtruth/object-detection",)
SEGMENTATION = ("groundtruth/semantic-segmentation",)
CLASSIFICATION = ("groundtruth/image-classification", "groundtruth/text-classification",
                  "groundtruth/label-verification")
MULTI_LABEL = ("groundtruth/image-classification-multilabel", "groundtruth/text-classification-multilabel")


class LabelsError(RuntimeError):
    """Why labels cannot be exported, in the sentence a person needs (no labels yet, no access, a format
    that does not fit the task type, no such job)."""


@dataclass(frozen=True)
class Stage:
    """One labeling job of a pipeline: a construct's resource with all its generations.

    ``labels`` are the job's label categories in the order of its label category file, so that a
    bounding box's ``class_id`` (and a mask's color-map index minus one) is an index into them.
    """

    #: Every generation's name, oldest first; the last is the one that runs now (or ran last).
    job_names: Tuple[str, ...]
    #: The output-manifest key holding this stage's label (``LabelAttributeName``).
    label_attribute: str
    #: The job's label categories, in order (empty when the job has none, e.g. a custom task).
    labels: Tuple[str, ...]
    #: ``NumberOfHumanWorkersPerDataObject`` of the newest generation: the output line does not say how
    #: many workers answered, the job says how many it asks.
    workers: int
    #: ``s3://.../<job name>/manifests/output/output.manifest`` of each generation, in ``job_names``' order.
    manifest_uris: Tuple[str, ...]

    @property
    def name(self) -> str:
        return self.job_names[-1]

    @property
    def metadata_attribute(self) -> str:
        return f"{self.label_attribute}-metadata"


@dataclass(frozen=True)
class Dataset:
    """The jobs an export reads: upstream stages first, the job the user named last."""

    stages: Tuple[Stage, ...]

    @property
    def last(self) -> Stage:
        return self.stages[-1]


def label_type(record: Mapping[str, Any], stage: Stage) -> Optional[str]:
    """The ``type`` of ``stage``'s label on a record, None when the record has no label of that stage."""
    metadata = record.get(stage.metadata_attribute)
    if isinstance(metadata, dict):
        value = metadata.get("type")
        return str(value) if value is not None else None
    return None


#: How label dates are compared: ``creation-date``'s documented form, UTC (DG ``sms-data-output``).
LABEL_DATE = "%Y-%m-%dT%H:%M:%S.%f"


def label_date(record: Mapping[str, Any], stage: Stage) -> str:
    """When ``stage``'s label was made (``creation-date``, or ``creation_date`` of custom tasks), '' if unknown.

    In one form, so that dates compare as text: ``2026-11-01T10:00:00`` and ``...10:00:00.000000`` are one
    instant, and a zone (``Z``, ``+00:00``) is turned into UTC. A date that does not parse is kept as is.
    """
    metadata = record.get(stage.metadata_attribute)
    if not isinstance(metadata, dict):
        return ""
    text = str(metadata.get("creation-date") or metadata.get("creation_date") or "")
    return normal_date(text)


def normal_date(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime(LABEL_DATE)


#: S3's and KMS's "you may not": the bucket policy, the role's policy or the key policy refused.
REFUSED_CODES = frozenset({"403", "AccessDenied", "AccessDeniedException", "KMS.AccessDeniedException",
                           "KMSAccessDeniedException"})


def refused(error: ClientError, uri: str, job_name: str, what: str) -> LabelsError:
    """The sentence for a failed read of ``uri``: no access (and how to get it), missing, or the error."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    if code in REFUSED_CODES:
        return LabelsError(f"Not allowed to read {what} of labeling job {job_name} ({uri}: {code}): the job's "
                           "output bucket and its key must be readable (the construct's grant_read_output() "
                           "grants both).")
    if code in ("404", "NoSuchKey", "NotFound"):
        return LabelsError(f"{what[0].upper()}{what[1:]} of labeling job {job_name} are missing ({uri}).")
    return LabelsError(f"Could not read {what} of labeling job {job_name} ({uri}): {code or error}.")

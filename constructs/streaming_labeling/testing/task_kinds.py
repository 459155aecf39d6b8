"""Which built-in task types the local Ground Truth emulates, and what each one is.

The type is read from the job's ``PRE-<Suffix>`` Lambda ARN (ground-truth-facts.md §5), as
the built-in pre-annotation and consolidation Lambdas are what make a job that type. Video
frame, video classification and 3D point cloud types are not emulated: their worker answers
are not documented (ground-truth-runtime-facts.md §6), so a job of one fails naming its type.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

from ..task_types import BUILT_IN_LAMBDA_ACCOUNTS, TaskType
from ..worker_ui import CROWD_ELEMENT


class Kind(enum.Enum):
    """What workers do, which decides their answer and its consolidation."""

    CLASSIFICATION = "classification"
    MULTI_LABEL = "multi-label"
    BOUNDING_BOX = "bounding-box"
    SEMANTIC_SEGMENTATION = "semantic-segmentation"
    NAMED_ENTITY = "named-entity"
    VERIFICATION = "verification"


@dataclass(frozen=True)
class Emulated:
    task_type: TaskType
    kind: Kind
    #: The ``type`` of the output metadata (DG:``sms-data-output``, runtime facts §4.2).
    output_type: str
    adjustment: bool = False

    @property
    def text(self) -> bool:
        return self.task_type.name.startswith("TEXT") or self.kind is Kind.NAMED_ENTITY

    @property
    def default_element_name(self) -> str:
        """The crowd element's ``name`` of the built-in template (worker-ui-facts.md)."""
        if self.kind is Kind.NAMED_ENTITY:
            return "crowd-entity-annotation"
        return CROWD_ELEMENT[self.task_type.name][1]


_T = TaskType
EMULATED: Mapping[str, Emulated] = {
    e.task_type.lambda_suffix or "": e
    for e in (
        Emulated(_T.IMAGE_MULTI_CLASS, Kind.CLASSIFICATION, "groundtruth/image-classification"),
        Emulated(_T.TEXT_MULTI_CLASS, Kind.CLASSIFICATION, "groundtruth/text-classification"),
        Emulated(_T.IMAGE_MULTI_CLASS_MULTI_LABEL, Kind.MULTI_LABEL, "groundtruth/image-classification-multilabel"),
        Emulated(_T.TEXT_MULTI_CLASS_MULTI_LABEL, Kind.MULTI_LABEL, "groundtruth/text-classification-multilabel"),
        Emulated(_T.NAMED_ENTITY_RECOGNITION, Kind.NAMED_ENTITY, "groundtruth/text-span"),
        Emulated(_T.BOUNDING_BOX, Kind.BOUNDING_BOX, "groundtruth/object-detection"),
        Emulated(_T.ADJUSTMENT_BOUNDING_BOX, Kind.BOUNDING_BOX, "groundtruth/object-detection", adjustment=True),
        Emulated(_T.VERIFICATION_BOUNDING_BOX, Kind.VERIFICATION, "groundtruth/label-verification"),
        Emulated(_T.SEMANTIC_SEGMENTATION, Kind.SEMANTIC_SEGMENTATION, "groundtruth/semantic-segmentation"),
        Emulated(_T.ADJUSTMENT_SEMANTIC_SEGMENTATION, Kind.SEMANTIC_SEGMENTATION,
                 "groundtruth/semantic-segmentation", adjustment=True),
        Emulated(_T.VERIFICATION_SEMANTIC_SEGMENTATION, Kind.VERIFICATION, "groundtruth/label-verification"),
    )
}

_LAMBDA_ARN = re.compile(r"^arn:aws[a-z\-]*:lambda:([a-z0-9\-]*):([0-9]{12}):function:(PRE|ACS)-(.+)$")


class NotEmulated(Exception):
    """The job's task type is not one the local Ground Truth emulates (the message names it)."""


def emulated_type(human_task_config: Mapping[str, Any], region: str) -> Emulated:
    """The emulated type of a job from its PRE and ACS Lambda ARNs, or ``NotEmulated``."""
    pre = str(human_task_config.get("PreHumanTaskLambdaArn", ""))
    acs = str(human_task_config.get("AnnotationConsolidationConfig", {}).get("AnnotationConsolidationLambdaArn", ""))
    found = _LAMBDA_ARN.match(pre)
    if not found or found.group(3) != "PRE":
        raise NotEmulated(
            f"the task type of PreHumanTaskLambdaArn {pre or '(none)'!r} is not emulated by the local Ground Truth: "
            "only built-in task types (PRE-<TaskType> Lambdas) are; custom task types are not"
        )
    arn_region, account, _, suffix = found.groups()
    known = {t.lambda_suffix: t for t in TaskType.built_in()}
    if suffix not in EMULATED:
        name = known[suffix].name if suffix in known else suffix
        raise NotEmulated(
            f"task type {suffix} ({name}) is not emulated by the local Ground Truth; emulated types: "
            + ", ".join(sorted(EMULATED))
        )
    expected = BUILT_IN_LAMBDA_ACCOUNTS.get(region)
    if arn_region != region or account != expected:
        raise NotEmulated(
            f"PreHumanTaskLambdaArn {pre} is not Ground Truth's built-in PRE-{suffix} Lambda in {region} "
            f"(account {expected})"
        )
    acs_found = _LAMBDA_ARN.match(acs)
    if acs_found is None or acs_found.group(3) != "ACS" or acs_found.group(4) != suffix:
        raise NotEmulated(
            f"AnnotationConsolidationLambdaArn {acs or '(none)'!r} is not ACS-{suffix}: "
            "mixing task types is not emulated"
        )
    return EMULATED[suffix]


def element_names() -> Dict[str, str]:
    return {suffix: e.default_element_name for suffix, e in EMULATED.items()}


def lookup(suffix: str) -> Optional[Emulated]:
    return EMULATED.get(suffix)

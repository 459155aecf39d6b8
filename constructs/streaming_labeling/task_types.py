"""Built-in Ground Truth task types and where their AWS-owned resources live.

Ground Truth runs each built-in task type through a pair of AWS-owned Lambda
functions (``PRE-<Suffix>`` before a worker sees an object, ``ACS-<Suffix>`` to
consolidate the answers) that exist only in a fixed set of regions, each region
owned by one AWS account. Some task types draw their worker UI from an
AWS-owned ``human-task-ui`` resource; the rest take a Liquid template that we
generate. Everything here is data, cross-checked in the tests against the
ARNs listed in botocore's SageMaker service model.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, Mapping, Optional, Sequence

#: Region -> AWS account that owns the built-in PRE-/ACS- Lambda functions.
#: Source: botocore's SageMaker model, ``HumanTaskConfig.PreHumanTaskLambdaArn``.
BUILT_IN_LAMBDA_ACCOUNTS: Mapping[str, str] = MappingProxyType({
    "us-east-1": "432418664414",
    "us-east-2": "266458841044",
    "us-west-2": "081040173940",
    "ca-central-1": "918755190332",
    "eu-west-1": "568282634449",
    "eu-west-2": "487402164563",
    "eu-central-1": "203001061592",
    "ap-northeast-1": "477331159723",
    "ap-northeast-2": "845288260483",
    "ap-south-1": "565803892007",
    "ap-southeast-1": "377565633583",
    "ap-southeast-2": "454466003867",
})

#: Account that owns the built-in ``human-task-ui`` resources in every region.
HUMAN_TASK_UI_ACCOUNT = "394669845002"

#: Account that owns the public (Mechanical Turk) work team in every region.
PUBLIC_WORKTEAM_ACCOUNT = "394669845002"


class InputModality(enum.Enum):
    """What a data object is; decides CORS, S3 event input and time limits."""

    IMAGE = "image"
    TEXT = "text"
    VIDEO = "video"
    VIDEO_FRAME = "video-frame"
    POINT_CLOUD = "point-cloud"
    CUSTOM = "custom"


@dataclass(frozen=True)
class TaskType:
    """A Ground Truth task type: a built-in one from the class attributes, or ``TaskType.custom``.

    Built-in members carry the API's task-type name in UPPER_SNAKE_CASE, e.g.
    ``TaskType.BOUNDING_BOX`` runs ``PRE-BoundingBox`` / ``ACS-BoundingBox``.
    """

    name: str
    """Name of the member, e.g. ``BOUNDING_BOX``; ``CUSTOM`` for custom types."""

    lambda_suffix: Optional[str]
    """``BoundingBox`` in ``PRE-BoundingBox``; None for custom task types."""

    modality: InputModality
    human_task_ui_name: Optional[str] = None
    """Built-in worker UI (``human-task-ui/<name>``); None when a Liquid template is used."""

    label_attribute_needs_ref: bool = False
    """The API requires the label attribute name to end in ``-ref``."""

    label_attribute_forbids_ref: bool = False
    """The API requires the label attribute name NOT to end in ``-ref``."""

    max_labels: Optional[int] = None
    """Label-category limit of the API; None means no documented limit."""

    min_labels: int = 1
    needs_instructions_in_label_config: bool = False
    """Named-entity recognition reads its instructions from the label category file."""

    is_adjustment_or_verification: bool = False
    custom_pre_annotation_lambda_arn: Optional[str] = None
    custom_consolidation_lambda_arn: Optional[str] = None
    custom_template: Optional[str] = field(default=None, repr=False, compare=False)

    @property
    def is_custom(self) -> bool:
        return self.lambda_suffix is None

    @property
    def uses_built_in_ui(self) -> bool:
        return self.human_task_ui_name is not None

    @property
    def accepts_s3_event_input(self) -> bool:
        """Ground Truth does not take S3 event notifications for text tasks."""
        return self.modality is not InputModality.TEXT

    @property
    def needs_full_cors(self) -> bool:
        """3D point cloud and video frame UIs also read and write the output bucket."""
        return self.modality in (InputModality.VIDEO_FRAME, InputModality.POINT_CLOUD)

    @property
    def max_task_time_limit_seconds(self) -> int:
        """Longest task time limit the service documents for this kind of task."""
        if self.needs_full_cors:
            return 30 * 24 * 3600
        return 8 * 3600

    @property
    def allows_public_workforce(self) -> bool:
        return not self.needs_full_cors

    @staticmethod
    def custom(
        *,
        pre_annotation_lambda_arn: str,
        consolidation_lambda_arn: str,
        template: str,
    ) -> TaskType:
        """A custom task type: your own Lambdas and your own Liquid worker template.

        The execution role is granted ``lambda:InvokeFunction`` on both functions.
        """
        return TaskType(
            name="CUSTOM",
            lambda_suffix=None,
            modality=InputModality.CUSTOM,
            custom_pre_annotation_lambda_arn=pre_annotation_lambda_arn,
            custom_consolidation_lambda_arn=consolidation_lambda_arn,
            custom_template=template,
        )

    # Members are assigned after the class body (frozen dataclass instances).
    BOUNDING_BOX: ClassVar[TaskType]
    IMAGE_MULTI_CLASS: ClassVar[TaskType]
    IMAGE_MULTI_CLASS_MULTI_LABEL: ClassVar[TaskType]
    SEMANTIC_SEGMENTATION: ClassVar[TaskType]
    TEXT_MULTI_CLASS: ClassVar[TaskType]
    TEXT_MULTI_CLASS_MULTI_LABEL: ClassVar[TaskType]
    NAMED_ENTITY_RECOGNITION: ClassVar[TaskType]
    VIDEO_MULTI_CLASS: ClassVar[TaskType]
    VIDEO_OBJECT_DETECTION: ClassVar[TaskType]
    VIDEO_OBJECT_TRACKING: ClassVar[TaskType]
    POINT_CLOUD_3D_OBJECT_DETECTION: ClassVar[TaskType]
    POINT_CLOUD_3D_OBJECT_TRACKING: ClassVar[TaskType]
    POINT_CLOUD_3D_SEMANTIC_SEGMENTATION: ClassVar[TaskType]
    VERIFICATION_BOUNDING_BOX: ClassVar[TaskType]
    ADJUSTMENT_BOUNDING_BOX: ClassVar[TaskType]
    VERIFICATION_SEMANTIC_SEGMENTATION: ClassVar[TaskType]
    ADJUSTMENT_SEMANTIC_SEGMENTATION: ClassVar[TaskType]
    ADJUSTMENT_VIDEO_OBJECT_DETECTION: ClassVar[TaskType]
    ADJUSTMENT_VIDEO_OBJECT_TRACKING: ClassVar[TaskType]
    ADJUSTMENT_POINT_CLOUD_3D_OBJECT_DETECTION: ClassVar[TaskType]
    ADJUSTMENT_POINT_CLOUD_3D_OBJECT_TRACKING: ClassVar[TaskType]
    ADJUSTMENT_POINT_CLOUD_3D_SEMANTIC_SEGMENTATION: ClassVar[TaskType]

    @staticmethod
    def built_in() -> Sequence[TaskType]:
        """Every built-in task type that a streaming job supports."""
        return BUILT_IN_TASK_TYPES


_I, _T, _V, _VF, _P = (
    InputModality.IMAGE,
    InputModality.TEXT,
    InputModality.VIDEO,
    InputModality.VIDEO_FRAME,
    InputModality.POINT_CLOUD,
)

BUILT_IN_TASK_TYPES: Sequence[TaskType] = (
    TaskType("BOUNDING_BOX", "BoundingBox", _I, max_labels=50),
    TaskType("IMAGE_MULTI_CLASS", "ImageMultiClass", _I, min_labels=2),
    TaskType(
        "IMAGE_MULTI_CLASS_MULTI_LABEL", "ImageMultiClassMultiLabel", _I, max_labels=50, min_labels=2,
    ),
    TaskType(
        "SEMANTIC_SEGMENTATION", "SemanticSegmentation", _I, label_attribute_needs_ref=True,
    ),
    TaskType("TEXT_MULTI_CLASS", "TextMultiClass", _T, min_labels=2),
    TaskType(
        "TEXT_MULTI_CLASS_MULTI_LABEL", "TextMultiClassMultiLabel", _T, max_labels=50, min_labels=2,
    ),
    TaskType(
        "NAMED_ENTITY_RECOGNITION", "NamedEntityRecognition", _T,
        human_task_ui_name="NamedEntityRecognition", needs_instructions_in_label_config=True,
    ),
    TaskType("VIDEO_MULTI_CLASS", "VideoMultiClass", _V, max_labels=30),
    TaskType(
        "VIDEO_OBJECT_DETECTION", "VideoObjectDetection", _VF,
        human_task_ui_name="VideoObjectDetection", label_attribute_needs_ref=True, max_labels=30,
    ),
    TaskType(
        "VIDEO_OBJECT_TRACKING", "VideoObjectTracking", _VF,
        human_task_ui_name="VideoObjectTracking", label_attribute_needs_ref=True, max_labels=30,
    ),
    TaskType(
        "POINT_CLOUD_3D_OBJECT_DETECTION", "3DPointCloudObjectDetection", _P,
        human_task_ui_name="PointCloudObjectDetection", max_labels=30,
    ),
    TaskType(
        "POINT_CLOUD_3D_OBJECT_TRACKING", "3DPointCloudObjectTracking", _P,
        human_task_ui_name="PointCloudObjectTracking", label_attribute_needs_ref=True, max_labels=30,
    ),
    TaskType(
        "POINT_CLOUD_3D_SEMANTIC_SEGMENTATION", "3DPointCloudSemanticSegmentation", _P,
        human_task_ui_name="PointCloudSemanticSegmentation", label_attribute_needs_ref=True, max_labels=30,
    ),
    TaskType(
        "VERIFICATION_BOUNDING_BOX", "VerificationBoundingBox", _I, is_adjustment_or_verification=True,
    ),
    TaskType(
        "ADJUSTMENT_BOUNDING_BOX", "AdjustmentBoundingBox", _I, is_adjustment_or_verification=True, max_labels=50,
    ),
    TaskType(
        "VERIFICATION_SEMANTIC_SEGMENTATION", "VerificationSemanticSegmentation", _I, label_attribute_forbids_ref=True,
        is_adjustment_or_verification=True,
    ),
    TaskType(
        "ADJUSTMENT_SEMANTIC_SEGMENTATION", "AdjustmentSemanticSegmentation", _I, label_attribute_needs_ref=True,
        is_adjustment_or_verification=True,
    ),
    TaskType(
        "ADJUSTMENT_VIDEO_OBJECT_DETECTION", "AdjustmentVideoObjectDetection", _VF,
        human_task_ui_name="VideoObjectDetection", label_attribute_needs_ref=True,
        is_adjustment_or_verification=True, max_labels=30,
    ),
    TaskType(
        "ADJUSTMENT_VIDEO_OBJECT_TRACKING", "AdjustmentVideoObjectTracking", _VF,
        human_task_ui_name="VideoObjectTracking", label_attribute_needs_ref=True,
        is_adjustment_or_verification=True, max_labels=30,
    ),
    TaskType(
        "ADJUSTMENT_POINT_CLOUD_3D_OBJECT_DETECTION", "Adjustment3DPointCloudObjectDetection", _P,
        human_task_ui_name="PointCloudObjectDetection", is_adjustment_or_verification=True, max_labels=30,
    ),
    TaskType(
        "ADJUSTMENT_POINT_CLOUD_3D_OBJECT_TRACKING", "Adjustment3DPointCloudObjectTracking", _P,
        human_task_ui_name="PointCloudObjectTracking", label_attribute_needs_ref=True,
        is_adjustment_or_verification=True, max_labels=30,
    ),
    TaskType(
        "ADJUSTMENT_POINT_CLOUD_3D_SEMANTIC_SEGMENTATION", "Adjustment3DPointCloudSemanticSegmentation", _P,
        human_task_ui_name="PointCloudSemanticSegmentation", label_attribute_needs_ref=True,
        is_adjustment_or_verification=True, max_labels=30,
    ),
)

for _task_type in BUILT_IN_TASK_TYPES:
    setattr(TaskType, _task_type.name, _task_type)

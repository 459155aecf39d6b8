"""A CDK construct for a running SageMaker Ground Truth streaming labeling job."""

from .job import StreamingLabelingJob
from .monitoring import JobAlarms, JobStatus
from .task_types import BUILT_IN_LAMBDA_ACCOUNTS, InputModality, TaskType
from .worker_ui import LabelAttribute, TrustedHtml, VideoAnnotationType
from .workforce import ContentClassifier, Workforce, WorkforceKind

__all__ = [
    "BUILT_IN_LAMBDA_ACCOUNTS",
    "ContentClassifier",
    "InputModality",
    "JobAlarms",
    "JobStatus",
    "LabelAttribute",
    "StreamingLabelingJob",
    "TaskType",
    "TrustedHtml",
    "VideoAnnotationType",
    "Workforce",
    "WorkforceKind",
]

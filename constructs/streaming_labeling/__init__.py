"""A CDK construct for a running SageMaker Ground Truth streaming labeling job.

The names below are imported on first use, so that the ``streaming-labeling`` command line
(``streaming_labeling.cli``) starts without loading aws-cdk-lib and its Node runtime.
"""

from __future__ import annotations

from importlib import import_module
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import IStreamingLabelingJob, StreamingLabelingJobBase
    from .job import StreamingLabelingJob
    from .labels import LabelsError, read_labels
    from .monitoring import JobAlarms, JobStatus
    from .task_types import BUILT_IN_LAMBDA_ACCOUNTS, InputModality, TaskType
    from .worker_ui import LabelAttribute, TrustedHtml, VideoAnnotationType
    from .workforce import ContentClassifier, Workforce, WorkforceKind

_HOME = MappingProxyType({
    "StreamingLabelingJob": ".job",
    "IStreamingLabelingJob": ".base",
    "StreamingLabelingJobBase": ".base",
    "JobAlarms": ".monitoring",
    "JobStatus": ".monitoring",
    "LabelsError": ".labels",
    "read_labels": ".labels",
    "BUILT_IN_LAMBDA_ACCOUNTS": ".task_types",
    "InputModality": ".task_types",
    "TaskType": ".task_types",
    "LabelAttribute": ".worker_ui",
    "TrustedHtml": ".worker_ui",
    "VideoAnnotationType": ".worker_ui",
    "ContentClassifier": ".workforce",
    "Workforce": ".workforce",
    "WorkforceKind": ".workforce",
})

__all__ = [
    "BUILT_IN_LAMBDA_ACCOUNTS",
    "ContentClassifier",
    "IStreamingLabelingJob",
    "InputModality",
    "JobAlarms",
    "JobStatus",
    "LabelAttribute",
    "LabelsError",
    "StreamingLabelingJob",
    "StreamingLabelingJobBase",
    "TaskType",
    "TrustedHtml",
    "VideoAnnotationType",
    "Workforce",
    "WorkforceKind",
    "read_labels",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(home, __name__), name)

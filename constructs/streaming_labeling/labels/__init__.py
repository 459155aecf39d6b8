"""The labeled dataset of a streaming labeling job, for notebooks, training scripts and the command line.

``read_labels(job_name=...)`` yields one record per labeled object: its output-manifest line as a dict
(Ground Truth's documented format, DG ``sms-data-output``), the latest label across all generations of
the job. ``streaming-labeling labels`` writes the same records as JSON lines, COCO or CSV.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any, Dict, Iterator, Optional, Union

import boto3

from ..cli.errors import CliError
from ..cli.target import Aws
from .dataset import Progress, Reader, object_id
from .locate import resolve
from .model import Dataset, LabelsError, Stage

__all__ = ["Dataset", "LabelsError", "Stage", "object_id", "open_dataset", "parse_since", "read_labels"]

Since = Union[None, str, date, datetime, timedelta]
RELATIVE = re.compile(r"^(\d+)\s*([dhm])$")
#: ``creation-date`` of a label: ``YYYY-MM-DDTHH:MM:SS.ffffff``, UTC without a zone (DG ``sms-data-output``).
LABEL_DATE = "%Y-%m-%dT%H:%M:%S.%f"


def parse_since(value: Since, now: Optional[datetime] = None) -> Optional[str]:
    """``since`` as a label date to compare with: an ISO date or time (UTC unless it names a zone), a
    ``date``/``datetime``, or an age (``7d``, ``12h``, ``30m``, or a ``timedelta``) before now."""
    if value is None:
        return None
    now = now or datetime.now(UTC)
    moment: datetime
    if isinstance(value, timedelta):
        moment = now - value
    elif isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        relative = RELATIVE.match(text)
        if relative:
            amount, unit = int(relative.group(1)), relative.group(2)
            moment = now - timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: amount})
        else:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError as error:
                raise LabelsError(f"since={value!r} is neither a date or time (2026-11-30, 2026-11-30T08:00:00Z) "
                                  "nor an age (7d, 12h, 30m).") from error
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime(LABEL_DATE)


def open_dataset(aws: Aws, *, job_name: Optional[str] = None, stack: Optional[str] = None,
                 construct: Optional[str] = None, pipeline: bool = False,
                 progress: Optional[Progress] = None) -> Reader:
    """The reader of a job's (or a pipeline's) labels; LabelsError when the job cannot be found."""
    try:
        dataset = resolve(aws, job_name=job_name, stack=stack, construct=construct, pipeline=pipeline)
    except CliError as error:
        raise LabelsError(error.format_message()) from error
    return Reader(aws.client("s3"), dataset, progress)


def read_labels(job_name: Optional[str] = None, *, stack: Optional[str] = None, construct: Optional[str] = None,
                pipeline: bool = False, since: Since = None, region: Optional[str] = None,
                profile: Optional[str] = None, session: Optional[boto3.session.Session] = None,
                ) -> Iterator[Dict[str, Any]]:
    """One record per labeled object of a streaming job: its output-manifest line, as a dict.

    :param job_name: any generation's name of the job (a renewal after an idle stop starts a new one);
        or name ``stack`` (and ``construct``, its path in the stack, if the stack has several jobs).
    :param pipeline: follow ``input_from`` upstream: each record carries every stage's label
        (``<attr>`` and ``<attr>-metadata`` of each job), the job named being the last stage.
    :param since: only objects with a label from then on (a date, a time, or an age such as ``"7d"``).
    :param region, profile, session: the AWS session; default: the standard credential chain, and
        ``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_<SERVICE>`` as every SDK reads them.

    Every object appears once, the latest label winning across generations (by its ``creation-date``).
    The job and its output manifests are looked up when this is called (a LabelsError says why they
    cannot be: no such job, no labels yet, not allowed); the labels are read as the records are
    consumed, with memory that does not grow with the dataset.
    """
    aws = Aws(region=region, profile=profile) if session is None else Aws.of(session)
    after = parse_since(since)
    reader = open_dataset(aws, job_name=job_name, stack=stack, construct=construct, pipeline=pipeline)
    reader.manifests()  # "no labels yet" and "not allowed" now, not at the first record
    return reader.records(since=after)

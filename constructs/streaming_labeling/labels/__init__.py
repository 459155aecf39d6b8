"""The labeled dataset of a streaming labeling job, for notebooks, training scripts and the command line.

``read_labels(job_name=...)`` yields one record per labeled object: its output-manifest line as a dict
(Ground Truth's documented format, DG ``sms-data-output``), the latest label across all generations of
the job. ``streaming-labeling labels`` writes the same records as JSON lines, COCO or CSV.
"""

from __future__ import annotations

import re
import sqlite3
import tempfile
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, Dict, Iterator, Optional, Union

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ..cli.errors import CliError, explain
from ..cli.target import Aws
from .dataset import Progress, Reader, object_id
from .locate import resolve
from .model import LABEL_DATE, Dataset, LabelsError, Stage

__all__ = ["Dataset", "LabelsError", "Stage", "object_id", "parse_since", "read_labels"]

Since = Union[None, str, date, datetime, timedelta]
RELATIVE = re.compile(r"^(\d+)\s*([dhm])$")


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
    with as_labels_error():
        dataset = resolve(aws, job_name=job_name, stack=stack, construct=construct, pipeline=pipeline)
        return Reader(aws.client("s3"), dataset, progress)


@contextmanager
def as_labels_error() -> Iterator[None]:
    """AWS's and the session's errors as a LabelsError with the one line the command line prints."""
    try:
        yield
    except CliError as error:
        raise LabelsError(error.format_message()) from error
    except (ClientError, BotoCoreError) as error:
        raise LabelsError(explain(error)) from error
    except sqlite3.Error as error:  # the scratch file: a full or read-only TMPDIR
        raise LabelsError(f"The export's scratch database in {tempfile.gettempdir()} failed ({error}): set "
                          "TMPDIR to a folder with room for about three times the manifests.") from error


def read_labels(job_name: Optional[str] = None, *, stack: Optional[str] = None, construct: Optional[str] = None,
                pipeline: bool = False, since: Since = None, region: Optional[str] = None,
                profile: Optional[str] = None, session: Optional[boto3.session.Session] = None,
                ) -> Iterator[Dict[str, Any]]:
    """One record per labeled object of a streaming job: its output-manifest line, as a dict.

    :param job_name: any generation's name of the job (a renewal after an idle stop starts a new one);
        or name ``stack`` (and ``construct``, its path in the stack, if the stack has several jobs).
    :param pipeline: follow ``input_from`` upstream: each record carries every stage's label
        (``<attr>`` and ``<attr>-metadata`` of each job), the job named being the last stage.
    :param since: only objects with a label from then on (a date, a time, or an age such as ``"7d"``); a
        ``datetime`` without a zone, like the labels' own dates, is UTC (pass ``datetime.now(UTC)``, not
        ``datetime.now()``).
    :param region, profile, session: the AWS session; default: the standard credential chain, and
        ``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_<SERVICE>`` as every SDK reads them.

    Every object appears once, the latest label winning across generations (by its ``creation-date``).
    The job and its output manifests are looked up when this is called (a LabelsError says why they
    cannot be: no such job, no labels yet, not allowed); the labels are read as the records are
    consumed, with memory that does not grow with the dataset.
    """
    if session is not None and (region is not None or profile is not None):
        raise LabelsError("read_labels: pass a session, or region/profile for one, not both.")
    after = parse_since(since)
    with as_labels_error():
        aws = Aws(region=region, profile=profile, session=session)
        reader = open_dataset(aws, job_name=job_name, stack=stack, construct=construct, pipeline=pipeline)
        reader.manifests()  # "no labels yet" and "not allowed" now, not at the first record
    return guarded(reader.records(since=after))


def guarded(records: Iterator[Dict[str, Any]]) -> Iterator[Dict[str, Any]]:
    with as_labels_error():
        yield from records

"""``streaming-labeling labels``: a job's labeled dataset to a file or standard output.

Standard output carries only the data (JSON lines, a COCO document or CSV); the progress bar and the
summary go to standard error. A file given with ``--output`` is written beside itself and renamed
when complete, so an interrupted export leaves no half-written dataset under that name.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, Optional, TextIO, Tuple

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from ..handler import shared
from ..labels import LabelsError, formats, guarded, open_dataset, parse_since
from .errors import CliError
from .target import Aws


@contextmanager
def destination(path: Optional[str]) -> Iterator[TextIO]:
    """Standard output, or a temporary file next to ``path`` renamed to it once everything is written."""
    if path is None or path == "-":
        if isinstance(sys.stdout, io.TextIOWrapper):
            sys.stdout.reconfigure(encoding="utf-8")  # JSON and CSV are UTF-8, whatever the locale says
        yield sys.stdout
        sys.stdout.flush()
        return
    directory = os.path.dirname(os.path.abspath(path))
    handle, scratch = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".part")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(scratch, 0o666 & ~umask)  # as open() would create it (mkstemp's file is private)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(scratch, path)
    except BaseException:
        os.unlink(scratch)
        raise


@contextmanager
def progress(console: Console) -> Iterator[Optional[Callable[[int, int], None]]]:
    """A bar of the manifests' bytes read, on a terminal only. It must not redirect standard output (rich's
    default while a bar shows): that is where the data goes."""
    if not console.is_terminal:
        yield None
        return
    bar = Progress(TextColumn("reading labels"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                   console=console, transient=True, redirect_stdout=False, redirect_stderr=False)
    task = bar.add_task("labels", total=None)
    with bar:
        yield lambda done, total: bar.update(task, completed=done, total=total)


def reader_of_objects(aws: Aws) -> Callable[[str], bytes]:
    """``read_object(uri)`` for the COCO writer (segmentation masks)."""
    s3 = aws.client("s3")

    def read(uri: str) -> bytes:
        bucket, key = shared.split_s3_uri(uri)
        body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    return read


def export(aws: Aws, console: Console, *, job_name: Optional[str], stack: Optional[str], construct: Optional[str],
           pipeline: bool, since: Optional[str], fmt: str, output: Optional[str]) -> Tuple[int, int, str]:
    """Write the dataset; (objects written, objects skipped, the job named). LabelsError becomes CliError."""
    try:
        after = parse_since(since)
        with progress(console) as report:  # the bar is gone before a byte of data is written
            reader = open_dataset(aws, job_name=job_name, stack=stack, construct=construct, pipeline=pipeline,
                                  progress=report)
            records = guarded(reader.records(since=after))
            first = next(records, None)  # every manifest is read by now
        stage = reader.dataset.last
        if fmt != "manifest":
            # the last stage's first label: with --pipeline the first record may not carry one yet
            formats.check_fits(fmt, reader.first_types.get(len(reader.dataset.stages) - 1), stage)
        with destination(output) as out:
            written, skipped = write(fmt, chain_first(first, records), reader.dataset, out, aws)
    except LabelsError as error:
        raise CliError(str(error)) from error
    return written, skipped, stage.name


def chain_first(first: Optional[Dict[str, Any]], rest: Iterator[Dict[str, Any]]) -> Iterator[Dict[str, Any]]:
    if first is None:
        return
    yield first
    yield from rest


def write(fmt: str, records: Iterator[Dict[str, Any]], dataset: Any, out: TextIO, aws: Aws) -> Tuple[int, int]:
    if fmt == "manifest":
        return formats.write_manifest(records, out), 0
    if fmt == "csv":
        return formats.write_csv(records, dataset, out)
    return formats.write_coco(records, dataset, out, reader_of_objects(aws))

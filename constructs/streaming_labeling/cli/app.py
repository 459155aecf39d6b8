"""``streaming-labeling``: send data objects to a streaming labeling job, watch it, stop it."""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence, TextIO, Tuple

import click
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .sender import Failure, Item, Publisher, s3_object, text_items
from .target import ENDED, Aws, CliError, Target, describe_job, explain, queue_depth, resolve

stderr = Console(stderr=True)
stdout = Console()


class Context:
    def __init__(self, region: Optional[str], profile: Optional[str]) -> None:
        self.region = region
        self.profile = profile
        self._aws: Optional[Aws] = None

    @property
    def aws(self) -> Aws:
        if self._aws is None:
            self._aws = Aws(region=self.region, profile=self.profile)
        return self._aws


def target_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option("--input-bucket", help="The job's input bucket (for FILE uploads).")(function)
    function = click.option("--input-topic", help="The job's input topic ARN, instead of --job-name.")(function)
    function = click.option("--job-name", help="The labeling job; its topic and bucket are looked up.")(function)
    return function


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--region", envvar=None, help="AWS region. Default: the SDK's (AWS_REGION, profile).")
@click.option("--profile", help="AWS profile. Default: the SDK's credential chain.")
@click.pass_context
def main(ctx: click.Context, region: Optional[str], profile: Optional[str]) -> None:
    """Send data objects to a SageMaker Ground Truth streaming labeling job, watch it, and stop it.

    Uses the standard AWS credential chain; AWS_ENDPOINT_URL points it at another endpoint.
    """
    ctx.obj = Context(region, profile)


# --- send --------------------------------------------------------------------------------------


def count_lines(path: str) -> Optional[int]:
    if path == "-":
        return None
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())


def read_lines(path: str) -> Iterator[str]:
    handle: TextIO = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    try:
        yield from handle
    finally:
        if handle is not sys.stdin:
            handle.close()


def split_s3_uri(uri: str) -> Tuple[str, str]:
    if not uri.startswith("s3://"):
        raise CliError(f"--s3-prefix {uri!r} is not an s3:// URI; expected s3://bucket/prefix")
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    return bucket, prefix


def s3_items(aws: Aws, uri: str) -> Iterator[Item]:
    bucket, prefix = split_s3_uri(uri)
    pages = aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        for entry in page.get("Contents", []):
            if not entry["Key"].endswith("/"):
                location = f"s3://{bucket}/{entry['Key']}"
                yield Item(location, s3_object(location))


def uploads_are_published(aws: Aws, target: Target) -> bool:
    """Whether S3 already publishes the bucket's uploads to the input topic (the construct's default)."""
    assert target.bucket is not None
    try:
        configuration = aws.client("s3").get_bucket_notification_configuration(Bucket=target.bucket)
    except ClientError:
        return False
    return any(topic.get("TopicArn") == target.topic_arn for topic in configuration.get("TopicConfigurations", []))


def upload(aws: Aws, target: Target, files: Sequence[str], prefix: str, concurrency: int,
           progress: Progress) -> Tuple[List[Item], List[Failure]]:
    """Put the files in the input bucket; the ``source-ref`` items of those that arrived."""
    bucket = target.bucket
    assert bucket is not None
    task = progress.add_task("uploading", total=len(files), rate="")
    s3 = aws.client("s3")

    def put(path: str) -> Tuple[str, str, Optional[str]]:
        key = f"{prefix}{os.path.basename(path)}"
        try:
            s3.upload_file(path, bucket, key)
            return path, key, None
        except (ClientError, BotoCoreError, OSError) as error:
            return path, key, explain(error)
        finally:
            progress.advance(task)

    items: List[Item] = []
    failures: List[Failure] = []
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for path, key, error in pool.map(put, files):
            if error is None:
                items.append(Item(path, s3_object(f"s3://{bucket}/{key}")))
            else:
                failures.append(Failure(path, f"upload failed: {error}"))
    return items, failures


def report(failures: Sequence[Failure], sent: int, unit: str = "data objects") -> None:
    if failures:
        table = Table(title=f"{len(failures)} not sent", show_lines=False)
        table.add_column("object")
        table.add_column("reason")
        for failure in failures[:50]:
            table.add_row(failure.origin, failure.reason)
        stderr.print(table)
        if len(failures) > 50:
            stderr.print(f"... and {len(failures) - 50} more")
    stderr.print(f"{sent:,} {unit} sent" + (f", {len(failures):,} failed" if failures else ""))


@main.command()
@target_options
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--text-file", type=str, help="Text objects, one per line ('-' for standard input).")
@click.option("--s3-prefix", help="Send every object under s3://bucket/prefix as a source-ref.")
@click.option("--upload-prefix", default="uploads/", show_default=True, help="Key prefix of FILE uploads.")
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 64))
@click.pass_obj
def send(ctx: Context, files: Tuple[str, ...], text_file: Optional[str], s3_prefix: Optional[str],
         upload_prefix: str, concurrency: int, job_name: Optional[str], input_topic: Optional[str],
         input_bucket: Optional[str]) -> None:
    """Send data objects: text lines as {"source": ...}, FILEs (uploaded) or S3 objects as {"source-ref": ...}."""
    chosen = [bool(files), text_file is not None, s3_prefix is not None]
    if sum(chosen) != 1:
        raise CliError("Give exactly one of: FILE..., --text-file FILE, --s3-prefix s3://bucket/prefix.")
    aws = ctx.aws
    try:
        target = resolve(aws, job_name=job_name, input_topic=input_topic, input_bucket=input_bucket,
                         for_sending=True)
    except (ClientError, BotoCoreError) as error:
        raise CliError(explain(error)) from error
    if files and target.bucket is None:
        raise CliError("Uploading FILEs needs the input bucket: pass --input-bucket, or --job-name of a job "
                       "the construct tagged with it.")
    failures: List[Failure] = []
    publisher = Publisher(aws.client("sns"), target.topic_arn, concurrency=concurrency)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=stderr) as progress:
        items: Iterable[Item]
        total: Optional[int]
        if text_file is not None:
            items, total = text_items(read_lines(text_file), os.path.basename(text_file) or "stdin"), \
                count_lines(text_file)
        elif s3_prefix is not None:
            items, total = s3_items(aws, s3_prefix), None
        else:
            uploaded, failures = upload(aws, target, files, upload_prefix, concurrency, progress)
            if uploaded and uploads_are_published(aws, target):
                # The bucket's notification publishes each upload to the input topic: a message from
                # here as well would give the job every object twice.
                report(failures, len(uploaded), "objects uploaded (S3 publishes them to the job)")
                if failures:
                    sys.exit(1)
                return
            items, total = uploaded, len(uploaded)
        task = progress.add_task("sending", total=total, rate="")
        started = time.monotonic()

        def sent(count: int) -> None:
            progress.advance(task, count)
            elapsed = max(time.monotonic() - started, 1e-6)
            progress.update(task, rate=f"{publisher.sent / elapsed:,.0f}/s")

        try:
            failures += publisher.publish(items, sent)
        except (ClientError, BotoCoreError) as error:
            raise CliError(explain(error)) from error
    report(failures, publisher.sent)
    if failures:
        sys.exit(1)


# --- status and stop ---------------------------------------------------------------------------


def status_table(ctx: Context, job_name: str) -> Tuple[Table, str]:
    job = describe_job(ctx.aws, job_name)
    status = str(job.get("LabelingJobStatus"))
    table = Table(title=f"Labeling job {job_name}", show_header=False)
    table.add_row("status", status)
    counters = job.get("LabelCounters", {})
    for key in ("TotalLabeled", "HumanLabeled", "MachineLabeled", "FailedNonRetryableError", "Unlabeled"):
        table.add_row(key, f"{counters.get(key, 0):,}")
    depth = queue_depth(ctx.aws, job_name)
    table.add_row("backlog", "unknown (queue not readable)" if depth is None else
                  ", ".join(f"{value:,} {name}" for name, value in depth.items()))
    if job.get("FailureReason"):
        table.add_row("failure reason", str(job["FailureReason"]))
    return table, status


@main.command()
@click.option("--job-name", required=True, help="The labeling job.")
@click.option("--watch", is_flag=True, help="Refresh until the job ends (Ctrl-C to leave).")
@click.option("--interval", default=10.0, show_default=True, type=click.FloatRange(0.1, 3600), help="Seconds.")
@click.pass_obj
def status(ctx: Context, job_name: str, watch: bool, interval: float) -> None:
    """The job's status, label counters, backlog and failure reason."""
    table, state = status_table(ctx, job_name)
    if not watch:
        stdout.print(table)
        return
    with Live(table, console=stdout, refresh_per_second=4) as live:
        try:
            while state not in ENDED:
                time.sleep(interval)
                table, state = status_table(ctx, job_name)
                live.update(table)
        except KeyboardInterrupt:
            pass


@main.command()
@click.option("--job-name", required=True, help="The labeling job.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def stop(ctx: Context, job_name: str, yes: bool) -> None:
    """Stop the job (for good: a stopped job cannot be restarted)."""
    job = describe_job(ctx.aws, job_name)
    state = job.get("LabelingJobStatus")
    if state in ENDED:
        stderr.print(f"Labeling job {job_name} is already {state}.")
        return
    if not yes:
        click.confirm(f"Stop labeling job {job_name} ({state})? A stopped job cannot be restarted", abort=True)
    try:
        ctx.aws.client("sagemaker").stop_labeling_job(LabelingJobName=job_name)
    except ClientError as error:
        raise CliError(explain(error)) from error
    stderr.print(f"Stopping labeling job {job_name}.")

"""``streaming-labeling``: send data objects to a streaming labeling job, watch it, stop it.

Exit codes: 0 done, 1 an error (one line on stderr) or objects not sent, 2 a usage error,
130 interrupted (Ctrl-C), after the summary of what was sent.
"""

from __future__ import annotations

import json
import os
import sys
import time
from importlib import metadata
from typing import IO, Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import click
from botocore.exceptions import ClientError
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ..handler import shared
from .errors import INTERRUPTED, CliError, Group
from .export import export
from .journal import Journal
from .sender import Failure, InputError, Item, Outcome, Publisher, Tally, numbered_lines, s3_item, text_items
from .target import (
    ENDED,
    REGION,
    Aws,
    Target,
    check_bucket,
    check_topic,
    current_job,
    holding_queue_depth,
    mark_stopped_by_cli,
    parse_topic_arn,
    queue_depth,
    resolve,
)
from .uploads import Uploads, upload_files

DISTRIBUTION = "streaming-labeling-job"

stderr = Console(stderr=True, highlight=False)
stdout = Console(highlight=False)


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


def check_region(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[str]:
    if value is not None and not REGION.match(value):
        raise click.BadParameter(f"{value!r} is not an AWS region (e.g. us-east-1).")
    return value


def check_topic_arn(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[str]:
    if value is not None:
        try:
            parse_topic_arn(value)
        except CliError as error:
            raise click.BadParameter(error.message) from error
    return value


def setting(name: str, check: Optional[Callable[..., Optional[str]]] = None) -> Callable[..., None]:
    """``--region``/``--profile`` given after the subcommand: they override the group's."""

    def store(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> None:
        if check is not None:
            value = check(ctx, param, value)
        if value is not None:
            setattr(ctx.find_object(Context), name, value)

    return store


def aws_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option("--profile", expose_value=False, callback=setting("profile"),
                            help="AWS profile (also accepted before the subcommand).")(function)
    function = click.option("--region", expose_value=False, callback=setting("region", check_region),
                            help="AWS region (also accepted before the subcommand).")(function)
    return function


def target_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option("--input-bucket", help="The job's input bucket (for FILE uploads).")(function)
    function = click.option("--input-topic", callback=check_topic_arn,
                            help="The job's input topic ARN, instead of --job-name.")(function)
    function = click.option("--job-name", help="The labeling job; its topic and bucket are looked up.")(function)
    return function


def version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"streaming-labeling {version()}")
        ctx.exit(0)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--region", callback=check_region, help="AWS region. Default: the SDK's (AWS_REGION, profile).")
@click.option("--profile", help="AWS profile. Default: the SDK's credential chain.")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=show_version,
              help="Print the version and exit.")
@click.pass_context
def main(ctx: click.Context, region: Optional[str], profile: Optional[str]) -> None:
    """Send data objects to a SageMaker Ground Truth streaming labeling job, watch it, and stop it.

    Uses the standard AWS credential chain; AWS_ENDPOINT_URL points it at another endpoint.
    Exit codes: 0 done, 1 an error or objects not sent, 2 a usage error, 130 interrupted.
    """
    ctx.obj = Context(region, profile)


# --- send --------------------------------------------------------------------------------------


def open_text(path: str) -> IO[bytes]:
    if path == "-":
        return sys.stdin.buffer
    return open(path, "rb")  # noqa: SIM115 - closed by the caller


def split_s3_uri(uri: str) -> Tuple[str, str]:
    try:
        return shared.split_s3_uri(uri)
    except ValueError as error:
        raise click.BadParameter(f"{uri!r} is not an s3:// URI; expected s3://bucket/prefix",
                                 param_hint="--s3-prefix") from error


def s3_items(aws: Aws, bucket: str, prefix: str, done: Optional[Journal], tally: Tally) -> Iterator[Item]:
    pages = aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        for entry in page.get("Contents", []):
            if not entry["Key"].endswith("/"):
                location = f"s3://{bucket}/{entry['Key']}"
                if done is not None and location in done:
                    tally.journaled += 1
                    continue
                yield s3_item(location, location)


def uploads_are_published(aws: Aws, target: Target) -> bool:
    """Whether S3 already publishes the bucket's uploads to the input topic (the construct's default)."""
    assert target.bucket is not None
    try:
        configuration = aws.client("s3").get_bucket_notification_configuration(Bucket=target.bucket)
    except ClientError:
        return False
    return any(topic.get("TopicArn") == target.topic_arn for topic in configuration.get("TopicConfigurations", []))


def failure_table(failures: Sequence[Failure]) -> None:
    if not failures:
        return
    table = Table(title=f"{len(failures)} not sent", show_lines=False)
    table.add_column("object")
    table.add_column("reason")
    for failure in failures[:50]:
        table.add_row(failure.origin, failure.reason)
    stderr.print(table)
    if len(failures) > 50:
        stderr.print(f"... and {len(failures) - 50} more")


def counts(sent: int, failed: int, tally: Tally, unit: str = "data objects sent") -> str:
    parts = [f"{sent:,} {unit}"]
    if failed:
        parts.append(f"{failed:,} failed")
    if tally.blank:
        parts.append(f"{tally.blank:,} blank line{'s' if tally.blank != 1 else ''} skipped")
    if tally.skipped:
        parts.append(f"the first {tally.skipped:,} lines skipped (--skip)")
    if tally.journaled:
        parts.append(f"{tally.journaled:,} skipped as already sent (in the journal)")
    return ", ".join(parts)


def resume_hint(first_unsent: Optional[int], origin: Optional[str], journal: Optional[Journal]) -> List[str]:
    """How to go on without sending anything twice."""
    lines = []
    if first_unsent is not None and origin is not None:
        lines.append(f"First line not sent: {origin}:{first_unsent:,} (every line before it was sent or skipped).")
    if journal is not None:
        lines.append(f"To resume, run the same command with --journal {journal.path}: what it lists is skipped.")
    elif first_unsent is not None and origin is not None:
        lines.append(f"To resume, run it again with --skip {first_unsent - 1} (or with --journal FILE, which "
                     "skips exactly what was sent); an object sent twice is labeled once.")
    else:
        lines.append("To resume without sending anything twice, use --journal FILE; an object sent twice is "
                     "labeled once.")
    return lines


@main.command(context_settings={"max_content_width": 100})
@target_options
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--text-file", type=click.Path(exists=True, dir_okay=False, readable=True, allow_dash=True),
              help="Text objects, one per line ('-' for standard input), UTF-8.")
@click.option("--s3-prefix", help="Send every object under s3://bucket/prefix as a source-ref.")
@click.option("--upload-prefix", default="uploads/", show_default=True,
              help="Key prefix of FILE uploads (each goes to PREFIX<content hash>/<name>).")
@click.option("--journal", type=click.Path(dir_okay=False, writable=True),
              help="Append the id of every object sent to FILE; a re-run with it skips those (resume).")
@click.option("--skip", type=click.IntRange(min=0), default=0, help="Skip the first N lines of --text-file.")
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 64))
@aws_options
@click.pass_obj
def send(ctx: Context, files: Tuple[str, ...], text_file: Optional[str], s3_prefix: Optional[str],
         upload_prefix: str, journal: Optional[str], skip: int, concurrency: int, job_name: Optional[str],
         input_topic: Optional[str], input_bucket: Optional[str]) -> None:
    """Send data objects: text lines as {"source": ...}, FILEs (uploaded) or S3 objects as {"source-ref": ...}.

    Each message names its object id (Ground Truth's dataset-objectid-attribute-name): a text line's id is
    the SHA-256 of its text, so identical lines are one object, labeled once however often they are sent;
    an S3 object's id is its s3:// URI. Blank lines are skipped.

    Ctrl-C stops sending at once and prints what was sent (exit code 130); --journal FILE (or --skip N)
    resumes without sending anything twice.
    """
    chosen = [bool(files), text_file is not None, s3_prefix is not None]
    if sum(chosen) != 1:
        raise click.UsageError("Give exactly one of: FILE..., --text-file FILE, --s3-prefix s3://bucket/prefix.")
    if skip and text_file is None:
        raise click.UsageError("--skip counts lines of --text-file.")
    prefix_parts = split_s3_uri(s3_prefix) if s3_prefix is not None else None
    aws = ctx.aws
    # Pre-flight, before any input is read: credentials, the job, the topic, the bucket.
    aws.check_credentials()
    target = resolve(aws, job_name=job_name, input_topic=input_topic, input_bucket=input_bucket, for_sending=True)
    check_topic(aws, target.topic_arn)
    if files:
        if target.bucket is None and target.bucket_unknown_reason is not None:
            raise CliError(f"Could not read the tags of labeling job {target.job_name} "
                           f"({target.bucket_unknown_reason}) to find its input bucket: pass --input-bucket.")
        if target.bucket is None:
            raise CliError("Uploading FILEs needs the input bucket: pass --input-bucket, or --job-name of a job "
                           "the construct tagged with it.")
        check_bucket(aws, target.bucket)
    done = Journal(journal) if journal is not None else None
    try:
        code = deliver(aws, target, files, text_file, prefix_parts, upload_prefix, skip, concurrency, done)
    finally:
        if done is not None:
            done.close()
    if code:
        sys.exit(code)


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=stderr)


def deliver(aws: Aws, target: Target, files: Sequence[str], text_file: Optional[str],
            s3_prefix: Optional[Tuple[str, str]], upload_prefix: str, skip: int, concurrency: int,
            done: Optional[Journal]) -> int:
    """Read, upload and publish; print the summary; the exit code."""
    record: Callable[[List[str]], None] = done.record if done is not None else (lambda ids: None)
    tally = Tally()
    origin: Optional[str] = None
    publisher = Publisher(aws.client("sns", retried=False), target.topic_arn, concurrency=concurrency,
                          record=record)
    uploads: Optional[Uploads] = None
    with progress_bar() as progress:
        items: Iterable[Item]
        total: Optional[int]
        if text_file is not None:
            origin = "stdin" if text_file == "-" else os.path.basename(text_file)
            total = None
            if text_file != "-":
                with open(text_file, "rb") as handle:
                    try:
                        total = sum(1 for _ in text_items(numbered_lines(handle, origin), origin, done=done,
                                                          skip=skip))
                    except InputError as error:
                        raise CliError(f"{error}: nothing was sent.") from error
            items = text_items(numbered_lines(open_text(text_file), origin), origin, tally, done, skip)
        elif s3_prefix is not None:
            items, total = s3_items(aws, *s3_prefix, done, tally), None
        else:
            assert target.bucket is not None
            published = uploads_are_published(aws, target)
            task = progress.add_task("uploading", total=len(files), rate="")
            uploads = upload_files(aws.client("s3"), target.bucket, files, upload_prefix, concurrency=concurrency,
                                   done=done, on_done=lambda: progress.advance(task), stop=publisher.stop,
                                   record=record if published else (lambda ids: None))
            tally.journaled = uploads.journaled
            if published or uploads.interrupted or uploads.fatal:
                progress.stop()
                return upload_summary(uploads, tally, done, published)
            items, total = uploads.items, len(uploads.items)
        task = progress.add_task("sending", total=total, rate="")
        started = time.monotonic()

        def sent(count: int) -> None:
            progress.advance(task, count)
            elapsed = max(time.monotonic() - started, 1e-6)
            progress.update(task, rate=f"{publisher.sent / elapsed:,.0f}/s")

        outcome = publisher.run(items, sent)
    failures = (uploads.failures if uploads else []) + outcome.failures
    return summary(outcome, failures, tally, origin, done, uploads)


def upload_summary(uploads: Uploads, tally: Tally, done: Optional[Journal], published: bool) -> int:
    failure_table(uploads.failures)
    if uploads.interrupted:
        stderr.print("Interrupted: no new uploads were started.")
    unit = "objects uploaded" + (" (S3 publishes them to the job)" if published else "")
    line = counts(uploads.uploaded, len(uploads.failures), tally, unit)
    if uploads.existing:
        line += f", {uploads.existing:,} already in the bucket (not uploaded again)"
    if not published:
        line += "; no data objects sent yet"
    stderr.print(line)
    if uploads.abandoned:
        stderr.print(f"{uploads.abandoned:,} uploads were still running: whether they arrived is unknown.")
    if uploads.interrupted or uploads.fatal:
        for hint in resume_hint(None, None, done):
            stderr.print(hint)
    if uploads.fatal:
        raise CliError(f"Stopped: {uploads.fatal}")
    if uploads.interrupted:
        return INTERRUPTED
    return 1 if uploads.failures else 0


def summary(outcome: Outcome, failures: List[Failure], tally: Tally, origin: Optional[str],
            done: Optional[Journal], uploads: Optional[Uploads]) -> int:
    failure_table(failures)
    if outcome.interrupted:
        stderr.print("Interrupted: no new batches were sent.")
    line = counts(outcome.sent, len(failures), tally)
    if uploads is not None and uploads.existing:
        line += f" ({uploads.uploaded:,} uploaded, {uploads.existing:,} already in the bucket)"
    stderr.print(line)
    if outcome.abandoned:
        stderr.print(f"{outcome.abandoned:,} objects were still in flight: whether SNS took them is unknown "
                     "(sent again, Ground Truth labels each object once).")
    stopped = outcome.interrupted or outcome.fatal is not None or outcome.read_error is not None
    if stopped:
        for hint in resume_hint(outcome.first_unsent_line, origin, done):
            stderr.print(hint)
    if outcome.read_error is not None:
        raise CliError(f"{outcome.read_error}: {outcome.sent:,} data objects were sent before it, nothing after it.")
    if outcome.fatal is not None:
        raise CliError(f"Stopped: {outcome.fatal}")
    if outcome.interrupted:
        return INTERRUPTED
    return 1 if failures else 0


# --- status and stop ---------------------------------------------------------------------------


def job_state(ctx: Context, job_name: str) -> Dict[str, Any]:
    job, family = current_job(ctx.aws, job_name)
    job_name = str(job["LabelingJobName"])
    counters = job.get("LabelCounters", {})
    running = any(g.status in shared.ACTIVE_STATUSES for g in family)
    held = holding_queue_depth(ctx.aws, job)
    return {
        "job_name": job_name,
        "generations": [{"job_name": g.name, "status": g.status, "created": g.created} for g in family],
        # With no generation running (between an idle stop and the renewal), what the holding queue holds
        # waits for the successor; while one runs, the queue only keeps copies (for 4 days).
        "held_for_successor": held if not running else 0,
        "status": str(job.get("LabelingJobStatus")),
        "label_counters": {key: int(counters.get(key, 0)) for key in
                           ("TotalLabeled", "HumanLabeled", "MachineLabeled", "FailedNonRetryableError",
                            "Unlabeled")},
        "backlog": queue_depth(ctx.aws, job_name),
        "failure_reason": job.get("FailureReason"),
    }


def status_table(state: Dict[str, Any]) -> Table:
    table = Table(title=f"Labeling job {state['job_name']}", show_header=False)
    table.add_row("status", state["status"])
    for key, value in state["label_counters"].items():
        table.add_row(key, f"{value:,}")
    depth = state["backlog"]
    table.add_row("backlog", "unknown (queue not readable)" if depth is None else
                  ", ".join(f"{value:,} {name}" for name, value in depth.items()))
    if state["failure_reason"]:
        table.add_row("failure reason", str(state["failure_reason"]))
    if len(state["generations"]) > 1 or state["held_for_successor"]:
        table.add_row("generations", "\n".join(f"{g['job_name']}  {g['status']}  {g['created']}"
                                                for g in state["generations"]))
        table.add_row("held for a successor", "unknown" if state["held_for_successor"] is None
                      else f"{state['held_for_successor']:,}")
    return table


@main.command()
@click.option("--job-name", required=True, help="The labeling job.")
@click.option("--watch", is_flag=True, help="Refresh until the job ends (Ctrl-C to leave).")
@click.option("--interval", default=10.0, show_default=True, type=click.FloatRange(0.1, 3600), help="Seconds.")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object (status, label_counters, backlog, failure_reason, generations, "
                   "held_for_successor); with --watch, one a line.")
@aws_options
@click.pass_obj
def status(ctx: Context, job_name: str, watch: bool, interval: float, as_json: bool) -> None:
    """The job's status, label counters, backlog and failure reason."""
    ctx.aws.check_credentials()
    state = job_state(ctx, job_name)
    if as_json:
        click.echo(json.dumps(state))
        try:
            while watch and state["status"] not in ENDED:
                time.sleep(interval)
                state = job_state(ctx, job_name)
                click.echo(json.dumps(state))
        except KeyboardInterrupt:
            pass
        return
    if not watch:
        stdout.print(status_table(state))
        return
    with Live(status_table(state), console=stdout, refresh_per_second=4) as live:
        try:
            while state["status"] not in ENDED:
                time.sleep(interval)
                state = job_state(ctx, job_name)
                live.update(status_table(state))
        except KeyboardInterrupt:
            pass


@main.command()
@click.option("--job-name", required=True, help="The labeling job.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@aws_options
@click.pass_obj
def stop(ctx: Context, job_name: str, yes: bool) -> None:
    """Stop the job (for good: a stopped job cannot be restarted; the stack does not renew it)."""
    ctx.aws.check_credentials()
    job, _ = current_job(ctx.aws, job_name)
    job_name = str(job["LabelingJobName"])
    state = job.get("LabelingJobStatus")
    if state in ENDED:
        stderr.print(f"Labeling job {job_name} is already {state}.")
        return
    if not yes:
        click.confirm(f"Stop labeling job {job_name} ({state})? A stopped job cannot be restarted", abort=True)
    mark_stopped_by_cli(ctx.aws, job)
    ctx.aws.client("sagemaker").stop_labeling_job(LabelingJobName=job_name)
    stderr.print(f"Stopping labeling job {job_name}.")



# --- labels ------------------------------------------------------------------------------------


@main.command(context_settings={"max_content_width": 100})
@click.option("--job-name", help="The labeling job (any generation's name).")
@click.option("--stack", help="Instead of --job-name: a deployed stack holding the job.")
@click.option("--construct", help="With --stack: the job construct's path in the stack (e.g. Animals).")
@click.option("--format", "fmt", type=click.Choice(["manifest", "coco", "csv"]), default="manifest",
              show_default=True, help="manifest: output-manifest lines; coco: boxes and semantic segmentation; "
              "csv: classification.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, allow_dash=True),
              help="Write to FILE instead of standard output.")
@click.option("--since", help="Only objects labeled from then on: a date or time (UTC unless given), or an age "
              "(7d, 12h, 30m).")
@click.option("--pipeline", is_flag=True, help="Follow input_from upstream: each object with every stage's "
              "labels (name the last stage).")
@aws_options
@click.pass_obj
def labels(ctx: Context, job_name: Optional[str], stack: Optional[str], construct: Optional[str], fmt: str,
           output: Optional[str], since: Optional[str], pipeline: bool) -> None:
    """Write the labeled dataset of a job: every labeled object once, its latest label, across all the
    generations of the job (a renewal after an idle stop starts a new one).

    Reads Ground Truth's output manifests in the output bucket (the caller needs what the construct's
    grant_read_output() grants). The data goes to standard output or --output; progress and the summary
    to standard error.
    """
    if job_name is None and stack is None:
        raise click.UsageError("Name the job (--job-name NAME) or its stack (--stack NAME [--construct PATH]).")
    if job_name is not None and (stack is not None or construct is not None):
        raise click.UsageError("--job-name names the job on its own: leave out --stack and --construct.")
    if construct is not None and stack is None:
        raise click.UsageError("--construct is looked up in a stack: add --stack.")
    ctx.aws.check_credentials()
    written, skipped, name = export(ctx.aws, stderr, job_name=job_name, stack=stack, construct=construct,
                                    pipeline=pipeline, since=since, fmt=fmt, output=output)
    where = f" to {output}" if output and output != "-" else ""
    note = f"; {skipped} not yet labeled by {name} left out" if skipped else ""
    noun = "object" if written == 1 else "objects"
    stderr.print(f"{written} labeled {noun} of {name}{where} ({fmt}){note}.", soft_wrap=True)

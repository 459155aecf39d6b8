"""Labels out, edge by edge: which label wins, which lines are one object, what a reader is told.

Each row makes a resource with generations on the local Ground Truth (CreateLabelingJob, tagged as the
stack's handler tags them), writes their output manifests where Ground Truth writes them
(``<S3OutputPath><job>/manifests/output/output.manifest``), and reads them back through the public
surface: ``streaming_labeling.read_labels`` and ``streaming-labeling labels``.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Dict, Iterator, List, Optional, Sequence

import pytest
from botocore.exceptions import ClientError

from streaming_labeling import LabelsError, read_labels
from streaming_labeling.labels import parse_since
from streaming_labeling.labels.model import refused
from streaming_labeling.testing import LocalGroundTruth

REGION, ACCOUNT, BUILT_IN = "us-east-1", "123456789012", "432418664414"
WORKTEAM = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:workteam/private-crowd/team"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
ATTRIBUTE = "species"
BUCKET = "labels-export-tests"
counter = itertools.count()


@pytest.fixture(scope="module")
def local() -> Iterator[LocalGroundTruth]:
    with LocalGroundTruth() as started:
        s3 = started.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="config/labels.json", Body=json.dumps(
            {"document-version": "2018-11-28", "labels": [{"label": "cat"}, {"label": "dog"}]}).encode())
        s3.put_object(Bucket=BUCKET, Key="config/template.html", Body=b"<crowd-form></crowd-form>")
        started.client("iam").create_role(RoleName="labels", AssumeRolePolicyDocument=json.dumps(TRUST))
        saved = dict(os.environ)
        os.environ.update(started.env)
        try:
            yield started
        finally:
            os.environ.clear()
            os.environ.update(saved)


def make_resource(local: LocalGroundTruth, generations: int, *, input_topic: Optional[str] = None,
                  attribute: str = ATTRIBUTE, categories: str = "config/labels.json") -> List[str]:
    """A resource's generations (the older ones stopped), oldest first; returns their names."""
    number = next(counter)
    sns = local.client("sns")
    input_topic = input_topic or sns.create_topic(Name=f"in-{number}")["TopicArn"]
    output_topic = sns.create_topic(Name=f"out-{number}")["TopicArn"]
    resource = f"res{number}-{'a' * 12}"
    names = [resource] + [f"res{number}-{chr(ord('b') + g) * 12}" for g in range(generations - 1)]
    return local.start_generations(dict(
        LabelAttributeName=attribute,
        InputConfig={"DataSource": {"SnsDataSource": {"SnsTopicArn": input_topic}}},
        OutputConfig={"S3OutputPath": f"s3://{BUCKET}/labels/", "SnsTopicArn": output_topic},
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/labels", LabelCategoryConfigS3Uri=f"s3://{BUCKET}/{categories}",
        HumanTaskConfig={
            "WorkteamArn": WORKTEAM, "TaskTitle": "Which animal?", "TaskDescription": "Pick one",
            "PreHumanTaskLambdaArn": f"arn:aws:lambda:{REGION}:{BUILT_IN}:function:PRE-ImageMultiClass",
            "NumberOfHumanWorkersPerDataObject": 3, "TaskTimeLimitInSeconds": 300,
            "UiConfig": {"UiTemplateS3Uri": f"s3://{BUCKET}/config/template.html"},
            "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn":
                                              f"arn:aws:lambda:{REGION}:{BUILT_IN}:function:ACS-ImageMultiClass"}},
    ), names)


def line(source: str, label: str, created: str, job: str, attribute: str = ATTRIBUTE,
         **extra: Any) -> Dict[str, Any]:
    """An image-classification output line as DG ``sms-data-output`` documents it."""
    return {"source-ref": source, **extra, attribute: ["cat", "dog"].index(label), f"{attribute}-metadata": {
        "class-name": label, "confidence": 0.9, "type": "groundtruth/image-classification", "job-name":
        f"labeling-job/{job}", "human-annotated": "yes", "creation-date": created}}


def write_manifest(local: LocalGroundTruth, job: str, lines: Sequence[Any]) -> None:
    body = "\n".join(item if isinstance(item, str) else json.dumps(item) for item in lines) + "\n"
    local.client("s3").put_object(Bucket=BUCKET, Key=f"labels/{job}/manifests/output/output.manifest",
                                  Body=body.encode())


def cli(local: LocalGroundTruth, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streaming_labeling", "labels", *args], text=True,
                          capture_output=True, env=local.env, timeout=120)


T0, T1, T2 = "2026-11-01T10:00:00.000000", "2026-11-02T10:00:00.000000", "2026-11-03T10:00:00.000000"
IMG = "s3://data/a.jpg"
KEYED = {"dataset-objectid-attribute-name": "my-id"}
GENERATED = "dataset-objectid-attribute-name"

# (what the row shows, each generation's manifest lines as (source, label, created, extra) or None for no
# manifest, the (source, label, generation) records expected, in order)
ROWS = [
    ("a newer generation's later label wins",
     [[(IMG, "cat", T0, {})], [(IMG, "dog", T1, {})]], [(IMG, "dog", 1)]),
    ("the later label wins even from an older generation",
     [[(IMG, "cat", T2, {})], [(IMG, "dog", T1, {})]], [(IMG, "cat", 0)]),
    ("equal dates: the newer generation wins",
     [[(IMG, "cat", T1, {})], [(IMG, "dog", T1, {})]], [(IMG, "dog", 1)]),
    ("a generation that labeled nothing has no manifest",
     [None, [(IMG, "dog", T1, {})], None], [(IMG, "dog", 1)]),
    ("objects in the order first seen, each once",
     [[("s3://d/1", "cat", T0, {}), ("s3://d/2", "cat", T0, {})], [("s3://d/3", "dog", T1, {}),
                                                                    ("s3://d/1", "dog", T1, {})]],
     [("s3://d/1", "dog", 1), ("s3://d/2", "cat", 0), ("s3://d/3", "dog", 1)]),
    ("Ground Truth's generated ids differ per generation: the source is the object",
     [[(IMG, "cat", T0, {GENERATED: "$species-object-id", "$species-object-id": "u-1"})],
      [(IMG, "dog", T1, {GENERATED: "$species-object-id", "$species-object-id": "u-2"})]], [(IMG, "dog", 1)]),
    ("a renewal's replay id is an SNS message id: the source is the object",
     [[(IMG, "cat", T0, {})],
      [(IMG, "dog", T1, {GENERATED: "streaming-labeling-sns-message-id",
                         "streaming-labeling-sns-message-id": "m-1"})]], [(IMG, "dog", 1)]),
    ("one instant written with and without microseconds: the newer generation wins",
     [[(IMG, "cat", "2026-11-01T10:00:00.000000", {})], [(IMG, "dog", "2026-11-01T10:00:00", {})]], [(IMG, "dog", 1)]),
    ("a zone is turned into UTC before dates are compared",
     [[(IMG, "cat", "2026-11-01T11:00:00+02:00", {})], [(IMG, "dog", "2026-11-01T10:00:00", {})]], [(IMG, "dog", 1)]),
    ("send --s3-prefix names the source-ref as the key: one object with a plain publish of it",
     [[(IMG, "cat", T0, {GENERATED: "source-ref"})], [(IMG, "dog", T1, {})]], [(IMG, "dog", 1)]),
    ("send's text id is a hash of the source: one object with a plain publish of it",
     [[(IMG, "cat", T0, {GENERATED: "streaming-labeling-object-id", "streaming-labeling-object-id": "ab12"})],
      [(IMG, "dog", T1, {})]], [(IMG, "dog", 1)]),
    ("the sender's own ids: one source sent as two objects is two objects",
     [[(IMG, "cat", T0, {**KEYED, "my-id": "first"}), (IMG, "dog", T0, {**KEYED, "my-id": "second"})]],
     [(IMG, "cat", 0), (IMG, "dog", 0)]),
]


@pytest.mark.parametrize("generations, expected", [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_which_label_wins_and_what_is_one_object(local: LocalGroundTruth, generations: List[Any],
                                                 expected: List[Any]) -> None:
    names = make_resource(local, len(generations))
    for name, lines in zip(names, generations, strict=True):
        if lines is not None:
            write_manifest(local, name, [line(source, label, created, name, **extra)
                                         for source, label, created, extra in lines])
    for asked in (names[0], names[-1]):  # any generation's name
        records = list(read_labels(asked))
        assert [(r["source-ref"], r[f"{ATTRIBUTE}-metadata"]["class-name"], names.index(
            r[f"{ATTRIBUTE}-metadata"]["job-name"].split("/")[-1])) for r in records] == expected
    command = cli(local, "--job-name", names[0])
    assert command.returncode == 0, command.stderr
    assert [json.loads(text) for text in command.stdout.splitlines()] == records
    noun = "object" if len(expected) == 1 else "objects"
    assert f"{len(expected)} labeled {noun} of {names[-1]} (manifest)." in command.stderr


def test_blank_lines_and_unlabeled_lines_are_skipped_a_broken_line_is_named(local: LocalGroundTruth) -> None:
    (name,) = make_resource(local, 1)
    write_manifest(local, name, ["", json.dumps({"source-ref": "s3://d/unlabeled"}),
                                 json.dumps(line(IMG, "cat", T0, name)), "   "])
    assert [r["source-ref"] for r in read_labels(name)] == [IMG]
    write_manifest(local, name, [json.dumps(line(IMG, "cat", T0, name)), '{"source-ref": "s3://d/2", '])
    with pytest.raises(LabelsError, match=rf"labels/{name}/manifests/output/output.manifest holds a line that is not"):
        list(read_labels(name))
    run = cli(local, "--job-name", name)
    assert run.returncode == 1 and "not JSON" in run.stderr and "Traceback" not in run.stderr


def test_no_labels_yet_is_said_before_anything_is_written(local: LocalGroundTruth) -> None:
    names = make_resource(local, 2)
    with pytest.raises(LabelsError, match=f"Labeling job {names[-1]} has no labels yet"):
        read_labels(names[0])  # the manifests are looked for when it is called
    run = cli(local, "--job-name", names[0], "--format", "csv")
    assert run.returncode == 1 and run.stdout == "" and "has no labels yet" in run.stderr


def test_the_pipeline_follows_input_from_upstream(local: LocalGroundTruth) -> None:
    first = make_resource(local, 2)
    upstream_output = local.job(first[0])["OutputConfig"]["SnsTopicArn"]
    second = make_resource(local, 1, input_topic=upstream_output, attribute="checked")
    write_manifest(local, first[0], [line("s3://d/2", "cat", T0, first[0]), line("s3://d/1", "cat", T0, first[0])])
    write_manifest(local, first[1], [line("s3://d/1", "dog", T1, first[1])])  # relabeled after the renewal
    # the downstream job saw the first label of d/1 (its input line carried it), and not d/2 yet
    write_manifest(local, second[0], [{**line("s3://d/1", "cat", T0, first[0]),
                                       **line("s3://d/1", "dog", T2, second[0], attribute="checked")}])
    records = list(read_labels(second[0], pipeline=True))
    assert [(r["source-ref"], r[f"{ATTRIBUTE}-metadata"]["class-name"], r.get("checked-metadata", {}).get(
        "class-name")) for r in records] == [("s3://d/2", "cat", None), ("s3://d/1", "dog", "dog")], \
        "each stage's latest label; an object the last stage has not labeled yet carries the first stage's"
    assert [r["source-ref"] for r in read_labels(second[0])] == ["s3://d/1"]
    # CSV describes the last stage: the first record (not labeled by it yet) is left out, and said so
    run = cli(local, "--job-name", second[0], "--pipeline", "--format", "csv")
    assert run.returncode == 0, run.stderr
    assert [row.split(",")[:2] for row in run.stdout.splitlines()[1:]] == [["s3://d/1", "dog"]]
    assert f"1 not yet labeled by {second[0]} left out" in run.stderr
    run = cli(local, "--job-name", first[1], "--pipeline")
    assert run.returncode == 1 and f"Labeling job {first[1]} has no upstream job" in run.stderr


def test_csv_columns(local: LocalGroundTruth) -> None:
    (name,) = make_resource(local, 1)
    write_manifest(local, name, [line(IMG, "dog", T0, name)])
    run = cli(local, "--job-name", name, "--format", "csv")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["object,labels,confidence,workers,job,created",
                                       f"{IMG},dog,0.9,3,labeling-job/{name},{T0}"]


def test_output_file_is_complete_or_absent(local: LocalGroundTruth, tmp_path: Any) -> None:
    (name,) = make_resource(local, 1)
    write_manifest(local, name, [line(IMG, "dog", T0, name)])
    target = tmp_path / "labels.jsonl"
    run = cli(local, "--job-name", name, "--output", str(target))
    assert run.returncode == 0 and run.stdout == "" and f"to {target}" in run.stderr
    assert [json.loads(text) for text in target.read_text().splitlines()] == list(read_labels(name))
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~current_umask()), "as open() creates a file"
    broken = tmp_path / "broken.json"
    write_manifest(local, name, [line(IMG, "dog", T0, name), "{"])
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    run = subprocess.run([sys.executable, "-m", "streaming_labeling", "labels", "--job-name", name, "--output",
                          str(broken)], text=True, capture_output=True, env={**local.env, "TMPDIR": str(scratch)},
                         timeout=120)
    assert run.returncode == 1 and "not JSON" in run.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["labels.jsonl", "scratch"], "no half-written file"
    assert list(scratch.iterdir()) == [], "no scratch database left"


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_the_replay_key_is_the_handlers() -> None:
    """The export looks past the key a renewal replays objects with: the same key the handler writes."""
    from pathlib import Path

    from streaming_labeling.labels import dataset

    renewal = (Path(dataset.__file__).parent.parent / "handler" / "renewal.py").read_text()
    assert f'REPLAY_ID_KEY = "{dataset.REPLAY_ID_KEY}"' in renewal


def test_labels_not_in_the_documented_shape_are_one_line(local: LocalGroundTruth) -> None:
    (name,) = make_resource(local, 1, attribute="boxes")
    box = {"source-ref": IMG, "boxes": {"image_size": [{"width": 10, "height": 10, "depth": 3}],
                                        "annotations": [{"class_id": 0, "left": 1, "top": 1, "height": 2}]},
           "boxes-metadata": {"type": "groundtruth/object-detection", "creation-date": T0, "job-name": name}}
    write_manifest(local, name, [box])
    run = cli(local, "--job-name", name, "--format", "coco")
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert f"Job {name}'s label of {IMG} is not in Ground Truth's documented format (KeyError: 'width')" in run.stderr
    s3 = local.client("s3")
    s3.copy_object(Bucket=BUCKET, Key="config/later-broken.json", CopySource={"Bucket": BUCKET,
                                                                            "Key": "config/labels.json"})
    (other,) = make_resource(local, 1, categories="config/later-broken.json")
    s3.put_object(Bucket=BUCKET, Key="config/later-broken.json", Body=b"{labels")  # after the job read it
    write_manifest(local, other, [line(IMG, "cat", T0, other)])
    with pytest.raises(LabelsError, match=f"The label category file of labeling job {other} .* is not JSON"):
        read_labels(other)


NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("value, expected", [
    (None, None),
    ("2026-11-30", "2026-11-30T00:00:00.000000"),
    ("2026-11-30T08:15:00", "2026-11-30T08:15:00.000000"),
    ("2026-11-30T08:15:00Z", "2026-11-30T08:15:00.000000"),
    ("2026-11-30T10:15:00+02:00", "2026-11-30T08:15:00.000000"),
    ("7d", "2026-11-24T12:00:00.000000"),
    ("12h", "2026-12-01T00:00:00.000000"),
    ("30m", "2026-12-01T11:30:00.000000"),
    (timedelta(hours=1), "2026-12-01T11:00:00.000000"),
    (date(2026, 11, 1), "2026-11-01T00:00:00.000000"),
    (datetime(2026, 11, 1, 5, tzinfo=timezone(timedelta(hours=5))), "2026-11-01T00:00:00.000000"),
])
def test_since_is_a_label_date(value: Any, expected: Optional[str]) -> None:
    assert parse_since(value, now=NOW) == expected


@pytest.mark.parametrize("value", ["yesterday", "7 weeks", "2026-13-01", "-3d"])
def test_a_since_that_is_no_date_names_what_is_allowed(value: str) -> None:
    with pytest.raises(LabelsError, match=r"is neither a date or time .* nor an age \(7d, 12h, 30m\)"):
        parse_since(value, now=NOW)


@pytest.mark.parametrize("code, says", [
    ("AccessDenied", "Not allowed to read the labels of labeling job j (s3://b/k: AccessDenied)"),
    ("KMS.AccessDeniedException", "grant_read_output()"),
    ("403", "Not allowed to read"),
    ("NoSuchKey", "The labels of labeling job j are missing (s3://b/k)"),
    ("SlowDown", "Could not read the labels of labeling job j (s3://b/k): SlowDown"),
])
def test_a_refused_read_says_what_and_how_to_be_granted(code: str, says: str) -> None:
    error = ClientError({"Error": {"Code": code, "Message": "no"}}, "GetObject")
    assert says in str(refused(error, "s3://b/k", "j", "the labels"))


def test_on_a_terminal_a_progress_bar_goes_to_stderr_and_stdout_keeps_only_the_json_lines(
        local: LocalGroundTruth) -> None:
    import pty
    import threading

    (name,) = make_resource(local, 1)
    write_manifest(local, name, [line(f"s3://d/{index}", "cat", T0, name) for index in range(2000)])
    primary, secondary = pty.openpty()
    shown = bytearray()

    def drain() -> None:  # a terminal's reader: the child blocks once the terminal's buffer is full
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        run = subprocess.run([sys.executable, "-m", "streaming_labeling", "labels", "--job-name", name],
                             stdout=subprocess.PIPE, stderr=secondary, timeout=120,
                             env={**local.env, "TERM": "xterm", "COLUMNS": "100"})
    finally:
        os.close(secondary)
        reader.join(timeout=10)
        os.close(primary)
    assert run.returncode == 0
    assert b"reading labels" in shown and b"2000 labeled objects" in shown
    assert [json.loads(text)["source-ref"] for text in run.stdout.decode().splitlines()] == [
        f"s3://d/{index}" for index in range(2000)]


@pytest.mark.parametrize("service, operation, code, says", [
    ("s3", "HeadObject", "403", "Not allowed to read the labels of labeling job {first} (s3://"),
    ("s3", "GetObject", "AccessDenied", "Not allowed to read the label categories of labeling job {last}"),
    ("sagemaker", "ListTags", "AccessDeniedException", "sagemaker:ListTags is needed"),
    ("sagemaker", "DescribeLabelingJob", "AccessDeniedException", "DescribeLabelingJob: AccessDeniedException"),
    ("sagemaker", "ListLabelingJobs", "ThrottlingException", "ListLabelingJobs: ThrottlingException"),
])
def test_a_reader_that_is_refused_gets_one_sentence(local: LocalGroundTruth, service: str, operation: str,
                                                    code: str, says: str) -> None:
    """read_labels with a session whose calls of one operation AWS refuses (botocore answers them itself)."""
    import boto3
    from botocore.awsrequest import AWSResponse

    names = make_resource(local, 2)
    write_manifest(local, names[-1], [line(IMG, "cat", T0, names[-1])])
    session = boto3.session.Session(region_name=REGION)

    def refuse(**_: Any) -> Any:
        return AWSResponse("https://refused", 403 if code != "ThrottlingException" else 400, {}, None), {
            "Error": {"Code": code, "Message": "refused"}, "ResponseMetadata": {"HTTPStatusCode": 403}}

    session.events.register(f"before-call.{service}.{operation}", refuse)
    with pytest.raises(LabelsError) as raised:
        list(read_labels(names[0], session=session))
    assert says.format(first=names[0], last=names[-1]) in str(raised.value)

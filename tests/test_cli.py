"""The ``streaming-labeling`` command line, run as a subprocess against a real local endpoint.

What arrives on a queue subscribed (raw delivery) to the input topic is compared byte for
byte with what Ground Truth takes: ``{"source": ...}`` per text line, ``{"source-ref": ...}``
per S3 object, each naming its object id for Ground Truth's duplicate handling
(``dataset-objectid-attribute-name``): the SHA-256 of a line's text, an S3 object's URI.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Dict, List

import pytest

from streaming_labeling.cli.sender import Item, Publisher, text_object

from .cli_fixtures import LocalAws

LINES = ["A cat sits on the mat.", 'He said "meow"', "Überraschung: ünïcödé ✓", "tab\tseparated", "x" * 1000]


def expected(lines: List[str]) -> List[bytes]:
    return sorted(json.dumps({"source": line, "dataset-objectid-attribute-name": "streaming-labeling-object-id",
                              "streaming-labeling-object-id": hashlib.sha256(line.encode()).hexdigest()},
                             ensure_ascii=False).encode("utf-8") for line in lines)


def source_ref(uri: str) -> bytes:
    return json.dumps({"source-ref": uri, "dataset-objectid-attribute-name": "source-ref"}).encode()


def table_rows(stdout: str) -> Dict[str, str]:
    """The two-column rows of the status table, by their first cell (the last table, with --watch)."""
    rows: Dict[str, str] = {}
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in re.split(r"[│|┃]", line)]
        if len(cells) == 4 and cells[1]:
            rows[cells[1]] = cells[2]
    return rows


def upload_key(content: bytes, name: str) -> str:
    return f"uploads/{hashlib.sha256(content).hexdigest()[:16]}/{name}"


def test_text_lines_arrive_on_the_topic_byte_for_byte(local_aws: LocalAws, tmp_path: Path) -> None:
    topic, queue = local_aws.topic_with_queue("text")
    lines = LINES + [f"object {i}" for i in range(40)]
    source = tmp_path / "objects.txt"
    source.write_text("\n".join(lines[:3]) + "\n\n" + "\n".join(lines[3:]) + "\n", encoding="utf-8")
    result = local_aws.run("send", "--input-topic", topic, "--text-file", str(source))
    assert result.returncode == 0, result.stderr
    assert sorted(local_aws.drain(queue)) == expected(lines)
    assert f"{len(lines)} data objects sent" in result.stderr


def test_standard_input_and_a_job_name_work_too(local_aws: LocalAws) -> None:
    topic, queue = local_aws.topic_with_queue("stdin")
    local_aws.sagemaker.add_job("animals-0123456789ab", "InProgress", topic)
    result = local_aws.run("send", "--job-name", "animals-0123456789ab", "--text-file", "-", stdin="one\ntwo\n")
    assert result.returncode == 0, result.stderr
    assert sorted(local_aws.drain(queue)) == expected(["one", "two"])


def test_a_message_over_256_kb_is_reported_and_the_rest_is_sent(local_aws: LocalAws, tmp_path: Path) -> None:
    topic, queue = local_aws.topic_with_queue("big")
    source = tmp_path / "mixed.txt"
    source.write_text("small\n" + "y" * 262_200 + "\nalso small\n", encoding="utf-8")
    result = local_aws.run("send", "--input-topic", topic, "--text-file", str(source))
    assert result.returncode == 1
    assert "mixed.txt:2" in result.stderr and "262,144" in result.stderr
    assert "2 data objects sent, 1 failed" in result.stderr
    assert sorted(local_aws.drain(queue)) == expected(["small", "also small"])


def test_files_are_uploaded_and_sent_as_source_refs(local_aws: LocalAws, tmp_path: Path) -> None:
    topic, queue = local_aws.topic_with_queue("images")
    local_aws.client("s3").create_bucket(Bucket="image-input")
    local_aws.sagemaker.add_job("images-0123456789ab", "InProgress", topic, input_bucket="image-input")
    files = []
    for name in ("cat.jpg", "dog.jpg"):
        path = tmp_path / name
        path.write_bytes(b"\xff\xd8" + name.encode())
        files.append(str(path))
    result = local_aws.run("send", "--job-name", "images-0123456789ab", *files)
    assert result.returncode == 0, result.stderr
    keys = {n: upload_key(b"\xff\xd8" + n.encode(), n) for n in ("cat.jpg", "dog.jpg")}
    assert sorted(local_aws.drain(queue)) == sorted(source_ref(f"s3://image-input/{key}") for key in keys.values())
    stored = local_aws.client("s3").get_object(Bucket="image-input", Key=keys["cat.jpg"])["Body"].read()
    assert stored == b"\xff\xd8cat.jpg"


def test_an_s3_prefix_is_sent_object_by_object(local_aws: LocalAws) -> None:
    topic, queue = local_aws.topic_with_queue("prefix")
    s3 = local_aws.client("s3")
    s3.create_bucket(Bucket="existing-images")
    for key in ("batch/1.jpg", "batch/2.jpg", "other/3.jpg"):
        s3.put_object(Bucket="existing-images", Key=key, Body=b"x")
    result = local_aws.run("send", "--input-topic", topic, "--s3-prefix", "s3://existing-images/batch/")
    assert result.returncode == 0, result.stderr
    assert sorted(local_aws.drain(queue)) == sorted(source_ref(f"s3://existing-images/batch/{n}.jpg") for n in (1, 2))


@pytest.mark.parametrize(
    "setup,args,message,code",
    [
        ("none", ["send", "--job-name", "missing-job", "--text-file", "-"], "No labeling job named 'missing-job'", 1),
        ("stopped", ["send", "--job-name", "old-job", "--text-file", "-"], "old-job is Stopped", 1),
        ("initializing", ["send", "--job-name", "new-job", "--text-file", "-"], "once it is InProgress", 1),
        ("none", ["send", "--text-file", "-"], "--job-name NAME", 1),
        ("none", ["send", "--input-topic", "arn:aws:sns:us-east-1:123456789012:t"], "Give exactly one of", 2),
        ("none", ["status", "--job-name", "missing-job"], "No labeling job named 'missing-job'", 1),
    ],
    ids=["unknown job", "stopped job", "initializing job", "no target", "nothing to send", "status unknown job"],
)
def test_clear_errors(local_aws: LocalAws, setup: str, args: List[str], message: str, code: int) -> None:
    if setup == "stopped":
        local_aws.sagemaker.add_job("old-job", "Stopped", "arn:aws:sns:us-east-1:123456789012:t")
    if setup == "initializing":
        local_aws.sagemaker.add_job("new-job", "Initializing", "arn:aws:sns:us-east-1:123456789012:t")
    result = local_aws.run(*args, stdin="a\n")
    assert result.returncode == code, result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_missing_credentials_are_explained(local_aws: LocalAws) -> None:
    result = local_aws.run("status", "--job-name", "any", AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="")
    assert result.returncode != 0
    assert "No AWS credentials found" in result.stderr, result.stderr


def test_status_shows_counters_backlog_and_failure_reason(local_aws: LocalAws) -> None:
    local_aws.sagemaker.add_job("watched-0123456789ab", "Failed", "arn:aws:sns:us-east-1:123456789012:t",
                                failure="Workteam not found")
    sqs = local_aws.client("sqs")
    queue = sqs.create_queue(QueueName="GroundTruth-watched-0123456789ab")["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=text_object(f"waiting {i}"))
    result = local_aws.run("status", "--job-name", "watched-0123456789ab")
    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout)
    assert rows["status"] == "Failed", result.stdout
    assert (rows["TotalLabeled"], rows["FailedNonRetryableError"], rows["Unlabeled"]) == ("7", "1", "3"), result.stdout
    assert "3 waiting" in rows["backlog"] and rows["failure reason"] == "Workteam not found", result.stdout
    watched = local_aws.run("status", "--job-name", "watched-0123456789ab", "--watch", "--interval", "0.1")
    assert watched.returncode == 0 and table_rows(watched.stdout)["status"] == "Failed", "--watch ends when the job has ended"


def test_stop_asks_first_unless_yes(local_aws: LocalAws) -> None:
    local_aws.sagemaker.add_job("stop-me", "InProgress", "arn:aws:sns:us-east-1:123456789012:t")
    declined = local_aws.run("stop", "--job-name", "stop-me", stdin="n\n")
    assert declined.returncode != 0
    assert local_aws.sagemaker.jobs["stop-me"]["LabelingJobStatus"] == "InProgress"
    stopped = local_aws.run("stop", "--job-name", "stop-me", "--yes")
    assert stopped.returncode == 0, stopped.stderr
    assert local_aws.sagemaker.jobs["stop-me"]["LabelingJobStatus"] == "Stopping"


# --- the publisher's retry rules, table-driven ----------------------------------------------------


class ScriptedSns:
    """PublishBatch answers from a script: per call, the entry ids SNS fails and how."""

    def __init__(self, script: List[Dict[str, Any]]) -> None:
        self.script = script
        self.calls: List[List[str]] = []

    def publish_batch(self, TopicArn: str, PublishBatchRequestEntries: List[Dict[str, str]]) -> Dict[str, Any]:  # noqa: N803
        ids = [entry["Id"] for entry in PublishBatchRequestEntries]
        self.calls.append(ids)
        step = self.script[len(self.calls) - 1] if len(self.calls) <= len(self.script) else {}
        if "raise" in step:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": step["raise"], "Message": "scripted"}}, "PublishBatch")
        failed = [{"Id": i, "Code": step["code"], "Message": "scripted", "SenderFault": step["sender"]}
                  for i in ids if i in step.get("fail", [])]
        return {"Successful": [{"Id": i, "MessageId": "m"} for i in ids if i not in step.get("fail", [])],
                "Failed": failed}


@pytest.mark.parametrize(
    "script,sent,failed,calls,fatal",
    [
        ([], 3, 0, 1, None),
        ([{"fail": ["1"], "code": "InternalError", "sender": False}], 3, 0, 2, None),
        ([{"fail": ["0", "2"], "code": "Throttling", "sender": True}], 3, 0, 2, None),
        ([{"fail": ["1"], "code": "InvalidParameter", "sender": True}], 2, 1, 1, None),
        ([{"raise": "Throttling"}, {"raise": "Throttling"}], 3, 0, 3, None),
        ([{"raise": "AuthorizationError"}], 0, 0, 1, "PublishBatch: AuthorizationError: scripted"),
        ([{"raise": "NotFound"}], 0, 0, 1, "PublishBatch: NotFound: scripted"),
        ([{"fail": ["1"], "code": "InternalError", "sender": False}] * 10, 2, 1, 6, None),
    ],
    ids=["accepted", "server fault retried", "throttled entries retried", "refused entry reported",
         "throttled call retried", "denied call stops the run", "missing topic stops the run",
         "retries are bounded"],
)
def test_only_accepted_entries_count_and_faults_are_retried(script: List[Dict[str, Any]], sent: int, failed: int,
                                                            calls: int, fatal: Any) -> None:
    sns = ScriptedSns(script)
    publisher = Publisher(sns, "arn:aws:sns:us-east-1:123456789012:t", concurrency=1, sleep=lambda s: None)
    counted: List[int] = []
    outcome = publisher.run([Item(f"line {i}", text_object(str(i))) for i in range(3)], counted.append)
    assert (outcome.sent, sum(counted), len(outcome.failures), len(sns.calls), outcome.fatal) == (
        sent, sent, failed, calls, fatal)


def test_the_construct_tags_each_job_with_the_bucket_the_command_line_looks_for() -> None:
    from streaming_labeling.cli.target import INPUT_BUCKET_TAG

    from . import apps

    template, logical = apps.example()
    tags = {tag["Key"]: tag["Value"] for tag in template["Resources"][logical]["Properties"]["Request"]["Tags"]}
    assert tags[INPUT_BUCKET_TAG] == {"Ref": next(
        name for name in template["Resources"] if name.startswith("AnimalsInputBucket")
        and template["Resources"][name]["Type"] == "AWS::S3::Bucket")}


def test_the_command_line_starts_without_aws_cdk_lib() -> None:
    import subprocess
    import sys

    from .cli_fixtures import ROOT

    probe = "import sys, streaming_labeling.cli.app; print('aws_cdk' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            env={"PYTHONPATH": str(ROOT / "constructs"), "PATH": "/usr/bin:/bin"})
    assert result.stdout.strip() == "False", result.stderr


def test_files_for_a_bucket_that_publishes_its_uploads_are_not_sent_twice(local_aws: LocalAws, tmp_path: Path) -> None:
    """The construct wires the input bucket's uploads to the input topic: the CLI then only uploads."""
    topic, queue = local_aws.topic_with_queue("wired")
    s3 = local_aws.client("s3")
    s3.create_bucket(Bucket="wired-input")
    s3.put_bucket_notification_configuration(Bucket="wired-input", NotificationConfiguration={
        "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]})
    local_aws.drain(queue)  # S3's test event, if the endpoint sends one
    path = tmp_path / "bird.jpg"
    path.write_bytes(b"\xff\xd8bird")
    result = local_aws.run("send", "--input-topic", topic, "--input-bucket", "wired-input", str(path))
    assert result.returncode == 0, result.stderr
    assert "S3 publishes them to the job" in result.stderr
    arrived = local_aws.drain(queue)
    assert not any(b"source-ref" in body for body in arrived), "no second message of our own"
    assert s3.get_object(Bucket="wired-input", Key=upload_key(b"\xff\xd8bird", "bird.jpg"))["Body"].read() == b"\xff\xd8bird"

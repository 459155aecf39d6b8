"""The command line fails safe (issue 14, items 10-14), tested through the command line only.

Each test runs ``streaming-labeling`` as a subprocess: arguments, standard input and signals
in; exit code, stderr/stdout and what reached the endpoint (moto's SNS/SQS/S3, or the
scripted SNS endpoint where a test needs to count calls, slow answers down or throttle) out.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Callable, Dict, List

import pytest

from .cli_fixtures import ACCOUNT, REGION, LocalAws

TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:scripted"


def errors(stderr: str) -> List[str]:
    return [line for line in stderr.splitlines() if line.startswith("Error:")]


def one_line_error(result: subprocess.CompletedProcess[str], code: int, fragment: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert len(errors(result.stderr)) == 1 and fragment in errors(result.stderr)[0], result.stderr


def sources(messages: List[str]) -> List[str]:
    return [json.loads(message)["source"] for message in messages]


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def interrupt(process: subprocess.Popen[str]) -> tuple[float, str]:
    """Ctrl-C; the seconds until it exited, and its stderr."""
    interrupted = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    return time.monotonic() - interrupted, stderr


# --- 10. Ctrl-C: stop promptly, say what was sent, resume without sending anything twice ----------


def test_ctrl_c_stops_promptly_and_a_rerun_with_the_journal_sends_the_rest_once(local_aws: LocalAws,
                                                                                 tmp_path: Path) -> None:
    env = local_aws.scripted_sns()
    local_aws.sns.latency = 0.25  # 10,000 lines take ~4 s at 64 batches in flight: Ctrl-C lands mid-run
    lines = [f"sentence {i}" for i in range(10_000)]
    source = tmp_path / "big.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    journal = tmp_path / "sent.journal"
    args = ("send", "--input-topic", TOPIC, "--text-file", str(source), "--concurrency", "64",
            "--journal", str(journal))
    process = local_aws.start(*args, **env)
    wait_until(lambda: len(local_aws.sns.messages) >= 1_500)
    seconds, stderr = interrupt(process)
    assert process.returncode == 130, stderr
    assert seconds < 3.0, f"{seconds:.2f} s from Ctrl-C to exit"
    sent_first = len(local_aws.sns.messages)
    time.sleep(0.3)
    assert len(local_aws.sns.messages) == sent_first, "nothing is sent after it exited"
    assert sent_first < len(lines), "it stopped before the end"
    assert "Traceback" not in stderr and "Aborted!" not in stderr
    assert "Interrupted: no new batches were sent." in stderr
    assert f"{sent_first:,} data objects sent" in stderr, stderr
    assert "First line not sent: big.txt:" in stderr and f"--journal {journal}" in stderr
    assert len(journal.read_text().splitlines()) == sent_first, "the journal lists what SNS accepted"

    rerun = local_aws.run(*args, **env)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(lines) - sent_first:,} data objects sent" in rerun.stderr
    assert f"{sent_first:,} skipped as already sent (in the journal)" in rerun.stderr
    assert sorted(sources(local_aws.sns.messages)) == sorted(lines), "every line exactly once over both runs"


def test_ctrl_c_abandons_a_batch_that_does_not_answer(local_aws: LocalAws) -> None:
    env = local_aws.scripted_sns()
    local_aws.sns.latency = 60.0  # SNS never answers
    process = local_aws.start("send", "--input-topic", TOPIC, "--text-file", "-", **env)
    assert process.stdin is not None
    process.stdin.write("".join(f"line {i}\n" for i in range(25)))
    process.stdin.flush()  # stdin stays open: the input is not even over
    wait_until(lambda: local_aws.sns.calls.count("PublishBatch") == 2)  # lines 21-25 wait for a full batch
    seconds, stderr = interrupt(process)
    assert process.returncode == 130, stderr
    assert seconds < 3.5, f"{seconds:.2f} s from Ctrl-C to exit"
    assert "0 data objects sent" in stderr and "20 objects were still in flight" in stderr, stderr
    assert "First line not sent: stdin:1 " in stderr and "--skip 0" in stderr


def test_skip_resumes_from_the_line_the_summary_names(local_aws: LocalAws, tmp_path: Path) -> None:
    env = local_aws.scripted_sns()
    source = tmp_path / "lines.txt"
    source.write_text("".join(f"line {i}\n" for i in range(1, 31)), encoding="utf-8")
    result = local_aws.run("send", "--input-topic", TOPIC, "--text-file", str(source), "--skip", "20", **env)
    assert result.returncode == 0, result.stderr
    assert sorted(sources(local_aws.sns.messages)) == sorted(f"line {i}" for i in range(21, 31))
    assert "10 data objects sent, the first 20 lines skipped (--skip)" in result.stderr


def test_send_help_names_resume_options_and_object_ids(local_aws: LocalAws) -> None:
    result = local_aws.run("send", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for fragment in ("--journal FILE", "--skip", "identical lines are one object", "exit code 130",
                     "dataset-objectid-attribute-name"):
        assert fragment in text, result.stdout


def dedup_id(message: bytes) -> str:
    body = json.loads(message)
    return str(body[body["dataset-objectid-attribute-name"]])


@pytest.mark.parametrize("kind", ["text", "files", "s3 prefix"])
def test_a_rerun_with_the_journal_sends_nothing_twice_and_ids_are_deterministic(local_aws: LocalAws,
                                                                                 tmp_path: Path, kind: str) -> None:
    topic, queue = local_aws.topic_with_queue(f"journal-{kind.replace(' ', '-')}")
    s3 = local_aws.client("s3")
    bucket = f"journal-{kind.replace(' ', '-')}"
    s3.create_bucket(Bucket=bucket)
    if kind == "text":
        source = tmp_path / "t.txt"
        source.write_text("one\ntwo\nthree\n", encoding="utf-8")
        args = ["--text-file", str(source)]
    elif kind == "files":
        args = []
        for name in ("a.png", "b.png", "c.png"):
            (tmp_path / name).write_bytes(name.encode())
            args.append(str(tmp_path / name))
        args += ["--input-bucket", bucket]
    else:
        for key in ("p/1", "p/2", "p/3"):
            s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        args = ["--s3-prefix", f"s3://{bucket}/p/"]
    journal = tmp_path / "j"
    first = local_aws.run("send", "--input-topic", topic, "--journal", str(journal), *args)
    assert first.returncode == 0, first.stderr
    arrived = local_aws.drain(queue)
    ids = sorted(dedup_id(message) for message in arrived)
    assert len(set(ids)) == 3 and sorted(journal.read_text().splitlines()) == ids
    again = local_aws.run("send", "--input-topic", topic, "--journal", str(journal), *args)
    assert again.returncode == 0, again.stderr
    assert local_aws.drain(queue) == [], "nothing sent twice"
    assert "0 data objects sent" in again.stderr and "3 skipped as already sent (in the journal)" in again.stderr
    without = local_aws.run("send", "--input-topic", topic, *args)
    assert sorted(dedup_id(message) for message in local_aws.drain(queue)) == ids, \
        "sent again without the journal, each object has the same id: Ground Truth labels it once"
    assert without.returncode == 0


# --- 11. Pre-flight: credentials, topic, bucket, once, before any input is read ---------------------


@pytest.mark.parametrize(
    "args,env,lines,fragment",
    [
        (["--input-topic", TOPIC], {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, 1_000,
         "No AWS credentials found"),
        (["--input-topic", f"arn:aws:sns:{REGION}:{ACCOUNT}:no-such-topic"], {}, 200_000,
         f"No topic arn:aws:sns:{REGION}:{ACCOUNT}:no-such-topic in {REGION} (NotFound)."),
        (["--input-topic", "TOPIC", "--region", "eu-west-1"], {}, 1_000,
         f"The topic's ARN names region {REGION} but the command line uses eu-west-1: pass --region {REGION}."),
        (["--input-topic", "TOPIC"], {"AWS_REGION": "eu-west-1"}, 1_000, f"pass --region {REGION}"),
    ],
    ids=["no credentials", "missing topic", "region mismatch (after the subcommand)", "region mismatch (env)"],
)
def test_pre_flight_fails_in_one_line_before_reading_input(local_aws: LocalAws, tmp_path: Path, args: List[str],
                                                           env: Dict[str, str], lines: int, fragment: str) -> None:
    topic, queue = local_aws.topic_with_queue("preflight")
    args = [topic if arg == "TOPIC" else arg for arg in args]
    source = tmp_path / "many.txt"
    source.write_text("".join(f"object {i}\n" for i in range(lines)), encoding="utf-8")
    started = time.monotonic()
    result = local_aws.run("send", "--text-file", str(source), *args, **env)
    seconds = time.monotonic() - started
    one_line_error(result, 1, fragment)
    assert seconds < 5, f"{seconds:.1f} s"
    assert "not sent" not in result.stderr, "no table of failures"
    assert local_aws.drain(queue) == []


def test_a_missing_bucket_is_found_before_anything_is_uploaded(local_aws: LocalAws, tmp_path: Path) -> None:
    (tmp_path / "x.jpg").write_bytes(b"x")
    result = local_aws.run("send", "--input-topic", local_aws.topic_with_queue("nobucket")[0],
                           "--input-bucket", "no-such-bucket", str(tmp_path / "x.jpg"))
    one_line_error(result, 1, "No bucket named 'no-such-bucket'")


def test_access_denied_is_never_retried(local_aws: LocalAws, tmp_path: Path) -> None:
    env = local_aws.scripted_sns()
    local_aws.sns.deny = True  # GetTopicAttributes (a sender may lack it: not fatal) and PublishBatch
    source = tmp_path / "many.txt"
    source.write_text("".join(f"object {i}\n" for i in range(1_000)), encoding="utf-8")
    started = time.monotonic()
    result = local_aws.run("send", "--input-topic", TOPIC, "--text-file", str(source), "--concurrency", "1", **env)
    one_line_error(result, 1, "Stopped: PublishBatch: AuthorizationError: not authorized")
    assert time.monotonic() - started < 5
    assert local_aws.sns.calls == ["GetTopicAttributes", "PublishBatch"], "each called once, never retried"
    assert "0 data objects sent" in result.stderr and "First line not sent: many.txt:1 " in result.stderr


# --- 12. No tracebacks: one line each, usage errors exit 2 ------------------------------------------


def write_invalid_utf8(path: Path, good_lines: int) -> None:
    path.write_bytes(b"".join(f"good {i}\n".encode() for i in range(good_lines)) + b"bad \xff\xfe line\nafter\n")


@pytest.mark.parametrize(
    "case,code,fragment",
    [
        ("missing text file", 2, "Invalid value for '--text-file': File"),
        ("directory text file", 2, "is a directory"),
        ("invalid utf-8 in a file", 1, "bad.txt:4201: not valid UTF-8 (byte 0xff at byte 5 of the line): nothing "
                                       "was sent."),
        ("region not a region", 2, "Invalid value for '--region': 'not a region' is not an AWS region"),
        ("region not a region after the subcommand", 2, "'not a region' is not an AWS region"),
        ("malformed topic arn", 2, "Invalid value for '--input-topic': Not an SNS topic ARN: 'arn:aws:sns:topic'"),
        ("nothing to send", 2, "Give exactly one of"),
        ("skip without text", 2, "--skip counts lines of --text-file"),
        ("bad s3 prefix", 2, "is not an s3:// URI"),
        ("journal is a directory", 2, "Invalid value for '--journal': File"),
        ("journal cannot be created", 1, "/no/such/dir/j: No such file or directory"),
        ("status unreachable", 1, "Could not reach http://127.0.0.1:9/"),
        ("stop unreachable", 1, "Could not reach http://127.0.0.1:9/"),
        ("unknown profile", 1, "The config profile (nope) could not be found"),
    ],
)
def test_errors_are_one_line_without_a_traceback(local_aws: LocalAws, tmp_path: Path, case: str, code: int,
                                                 fragment: str) -> None:
    topic, queue = local_aws.topic_with_queue("errors")
    write_invalid_utf8(tmp_path / "bad.txt", 4_200)
    (tmp_path / "ok.txt").write_text("fine\n", encoding="utf-8")
    send = ["send", "--input-topic", topic]
    unreachable = {"AWS_ENDPOINT_URL_SAGEMAKER": "http://127.0.0.1:9"}
    args, env = {
        "missing text file": (send + ["--text-file", str(tmp_path / "nope.txt")], {}),
        "directory text file": (send + ["--text-file", str(tmp_path)], {}),
        "invalid utf-8 in a file": (send + ["--text-file", str(tmp_path / "bad.txt")], {}),
        "region not a region": (["--region", "not a region"] + send + ["--text-file", "-"], {}),
        "region not a region after the subcommand": (["status", "--job-name", "j", "--region", "not a region"], {}),
        "malformed topic arn": (["send", "--input-topic", "arn:aws:sns:topic", "--text-file", "-"], {}),
        "nothing to send": (send, {}),
        "skip without text": (send + ["--skip", "3", "--s3-prefix", "s3://b/p"], {}),
        "bad s3 prefix": (send + ["--s3-prefix", "bucket/prefix"], {}),
        "journal is a directory": (send + ["--text-file", str(tmp_path / "ok.txt"), "--journal", str(tmp_path)],
                                   {}),
        "journal cannot be created": (send + ["--text-file", str(tmp_path / "ok.txt"), "--journal",
                                              "/no/such/dir/j"], {}),
        "status unreachable": (["status", "--job-name", "any"], unreachable),
        "stop unreachable": (["stop", "--job-name", "any", "--yes"], unreachable),
        "unknown profile": (["--profile", "nope"] + send + ["--text-file", "-"], {}),
    }[case]
    result = local_aws.run(*args, stdin="a\n", **env)
    one_line_error(result, code, fragment)
    assert local_aws.drain(queue) == [], "nothing sent"


def test_invalid_utf8_on_stdin_names_the_line_and_what_was_sent(local_aws: LocalAws) -> None:
    env = local_aws.scripted_sns()
    good = "".join(f"good {i}\n" for i in range(4_200))
    process = local_aws.start("send", "--input-topic", TOPIC, "--text-file", "-", **env)
    assert process.stdin is not None
    process.stdin.buffer.write(good.encode() + b"caf\xe9\nnever sent\n")  # type: ignore[attr-defined]
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr
    assert errors(stderr) == ["Error: stdin:4201: not valid UTF-8 (byte 0xe9 at byte 4 of the line): 4,200 data "
                              "objects were sent before it, nothing after it."], stderr
    assert len(local_aws.sns.messages) == 4_200 and "never sent" not in sources(local_aws.sns.messages)


def test_region_and_profile_are_accepted_after_the_subcommand(local_aws: LocalAws) -> None:
    topic, queue = local_aws.topic_with_queue("after")
    before = local_aws.run("--region", REGION, "send", "--input-topic", topic, "--text-file", "-", stdin="a\n",
                           AWS_REGION="eu-west-1")
    after = local_aws.run("send", "--input-topic", topic, "--text-file", "-", "--region", REGION, stdin="b\n",
                          AWS_REGION="eu-west-1")
    assert (before.returncode, after.returncode) == (0, 0), before.stderr + after.stderr
    assert sorted(json.loads(m)["source"] for m in local_aws.drain(queue)) == ["a", "b"]
    overridden = local_aws.run("--region", REGION, "send", "--input-topic", topic, "--text-file", "-",
                               "--region", "eu-west-1", stdin="c\n")
    one_line_error(overridden, 1, "uses eu-west-1: pass --region us-east-1")


def test_version(local_aws: LocalAws) -> None:
    result = local_aws.run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"streaming-labeling {metadata.version('streaming-labeling-job')}"


def test_status_json_is_one_object(local_aws: LocalAws) -> None:
    local_aws.sagemaker.add_job("json-0123456789ab", "Failed", TOPIC, failure="Workteam not found")
    sqs = local_aws.client("sqs")
    queue = sqs.create_queue(QueueName="GroundTruth-json-0123456789ab")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="{}")
    result = local_aws.run("status", "--job-name", "json-0123456789ab", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "job_name": "json-0123456789ab", "status": "Failed",
        "label_counters": {"TotalLabeled": 7, "HumanLabeled": 7, "MachineLabeled": 0, "FailedNonRetryableError": 1,
                           "Unlabeled": 3},
        "backlog": {"waiting": 1, "with workers": 0}, "failure_reason": "Workteam not found",
        "generations": [{"job_name": "json-0123456789ab", "status": "Failed", "created": "2026-11-18T11:06:40+00:00"}],
        "held_for_successor": None}


# --- 13. Nothing overwritten, blank lines and BOMs, unreadable tags ---------------------------------


def test_files_of_the_same_name_get_their_own_keys(local_aws: LocalAws, tmp_path: Path) -> None:
    topic, queue = local_aws.topic_with_queue("samename")
    s3 = local_aws.client("s3")
    s3.create_bucket(Bucket="same-name")
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.jpg").write_bytes(f"picture {folder}".encode())
    files = [str(tmp_path / "a" / "x.jpg"), str(tmp_path / "b" / "x.jpg")]
    result = local_aws.run("send", "--input-topic", topic, "--input-bucket", "same-name", *files)
    assert result.returncode == 0, result.stderr
    refs = sorted(json.loads(m)["source-ref"] for m in local_aws.drain(queue))
    assert len(set(refs)) == 2 and all(ref.endswith("/x.jpg") for ref in refs)
    stored = sorted(s3.get_object(Bucket="same-name", Key=ref.split("/", 3)[3])["Body"].read() for ref in refs)
    assert stored == [b"picture a", b"picture b"]


def test_a_file_sent_again_is_not_uploaded_again(local_aws: LocalAws, tmp_path: Path) -> None:
    """For a bucket that publishes its uploads, a second upload would be a new S3 event, labeled again."""
    topic, queue = local_aws.topic_with_queue("reupload")
    s3 = local_aws.client("s3")
    s3.create_bucket(Bucket="reupload")
    s3.put_bucket_notification_configuration(Bucket="reupload", NotificationConfiguration={
        "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]})
    local_aws.drain(queue)
    (tmp_path / "cat.jpg").write_bytes(b"cat")
    args = ("send", "--input-topic", topic, "--input-bucket", "reupload", str(tmp_path / "cat.jpg"))
    first = local_aws.run(*args)
    assert first.returncode == 0 and "1 objects uploaded" in first.stderr, first.stderr
    assert len(local_aws.drain(queue)) == 1, "S3's event for the upload"
    again = local_aws.run(*args)
    assert again.returncode == 0, again.stderr
    assert "0 objects uploaded" in again.stderr and "1 already in the bucket (not uploaded again)" in again.stderr
    assert local_aws.drain(queue) == [], "no second S3 event"


def test_a_key_holding_other_content_is_not_overwritten(local_aws: LocalAws, tmp_path: Path) -> None:
    topic, queue = local_aws.topic_with_queue("foreign")
    s3 = local_aws.client("s3")
    s3.create_bucket(Bucket="foreign")
    (tmp_path / "dog.jpg").write_bytes(b"dog")
    key = f"uploads/{hashlib.sha256(b'dog').hexdigest()[:16]}/dog.jpg"
    s3.put_object(Bucket="foreign", Key=key, Body=b"someone else's")
    result = local_aws.run("send", "--input-topic", topic, "--input-bucket", "foreign", str(tmp_path / "dog.jpg"))
    assert result.returncode == 1
    assert "already holds other content: not overwritten" in result.stderr
    assert s3.get_object(Bucket="foreign", Key=key)["Body"].read() == b"someone else's"
    assert local_aws.drain(queue) == []


@pytest.mark.parametrize("via", ["file", "stdin"])
def test_blank_lines_are_skipped_and_counted_and_a_bom_is_no_part_of_the_first_object(
        local_aws: LocalAws, tmp_path: Path, via: str) -> None:
    env = local_aws.scripted_sns()
    content = "\ufefffirst\n   \n\t\nsecond\n\u3000\n\n".encode()
    if via == "file":
        (tmp_path / "blank.txt").write_bytes(content)
        result = local_aws.run("send", "--input-topic", TOPIC, "--text-file", str(tmp_path / "blank.txt"), **env)
    else:
        process = local_aws.start("send", "--input-topic", TOPIC, "--text-file", "-", **env)
        assert process.stdin is not None
        process.stdin.buffer.write(content)  # type: ignore[attr-defined]
        stdout, stderr = process.communicate(timeout=60)
        result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    assert result.returncode == 0, result.stderr
    assert sorted(sources(local_aws.sns.messages)) == ["first", "second"]
    assert "2 data objects sent, 4 blank lines skipped" in result.stderr
    if via == "file":
        assert "2/2" in result.stderr, "the bar counts the lines sent"


def test_unreadable_tags_are_not_reported_as_no_input_bucket(local_aws: LocalAws, tmp_path: Path) -> None:
    topic, _ = local_aws.topic_with_queue("tags")
    local_aws.sagemaker.add_job("tags-0123456789ab", "InProgress", topic, input_bucket="tagged-bucket")
    local_aws.sagemaker.tags_denied.add(local_aws.sagemaker.jobs["tags-0123456789ab"]["LabelingJobArn"])
    (tmp_path / "x.jpg").write_bytes(b"x")
    result = local_aws.run("send", "--job-name", "tags-0123456789ab", str(tmp_path / "x.jpg"))
    one_line_error(result, 1, "Could not read the tags of labeling job tags-0123456789ab (AccessDeniedException) "
                              "to find its input bucket: pass --input-bucket.")


# --- 14. One retry budget ---------------------------------------------------------------------------


def test_a_throttled_batch_is_tried_at_most_six_times_in_all(local_aws: LocalAws) -> None:
    env = local_aws.scripted_sns()
    local_aws.sns.throttle = True
    result = local_aws.run("send", "--input-topic", TOPIC, "--text-file", "-", stdin="only line\n", **env)
    assert result.returncode == 1, result.stderr
    assert "stdin:1" in result.stderr and "Throttling" in result.stderr
    assert local_aws.sns.calls.count("PublishBatch") == 6, local_aws.sns.calls  # not 6 x botocore's 3 = 18
    assert local_aws.sns.calls.count("GetTopicAttributes") == 1

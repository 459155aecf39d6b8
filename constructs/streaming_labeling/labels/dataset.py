"""The labeled dataset of a resource: every object once, its latest label, across generations and stages.

Ground Truth writes each job's labels to ``<S3OutputPath><job name>/manifests/output/output.manifest``
(DG ``sms-data-output``), one output-manifest line per labeled object. A renewed job is a new job
with its own folder, and deduplication does not span jobs (runtime facts §1.4, §1.7), so an object
sent again after a renewal may have a label in more than one generation: the latest wins.

The manifests are read as streams and the objects seen are kept in a temporary SQLite file, not in
memory, so an export of a million objects needs the memory of one.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from contextlib import closing, contextmanager
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from botocore.exceptions import ClientError

from ..cli.sender import OBJECT_ID_KEY
from ..handler import shared
from .model import Dataset, LabelsError, Stage, label_date, label_type, refused

#: Ground Truth's deduplication key of a line (runtime facts §1.4).
DEDUP_KEY = "dataset-objectid-attribute-name"
#: The key the stack's handler gives an object it replays after a renewal: its SNS message id
#: (``handler/renewal.py``'s REPLAY_ID_KEY; that module is the Lambda asset's, not importable here).
REPLAY_ID_KEY = "streaming-labeling-sns-message-id"
#: The data object itself (DG ``sms-streaming-manifest``: one of them is required).
SOURCES = ("source-ref", "source")
#: Deduplication keys that are not a sender's own identity of the object: a renewal's replay key (an SNS
#: message id), the command line's (the SHA-256 of the source), the source itself.
NOT_IDENTITIES = (REPLAY_ID_KEY, OBJECT_ID_KEY, *SOURCES)

#: Called with the bytes read so far and the total bytes of the manifests, for a progress bar.
Progress = Callable[[int, int], None]


def object_id(line: Dict[str, Any]) -> str:
    """Which data object a line labels.

    The id the sender gave it (the line's deduplication key, as Ground Truth dedups), else the object
    itself (``source-ref`` or ``source``). Keys Ground Truth generates (``$...``) and the replay key of a
    renewal differ between generations for one object, so they do not identify it; the command line's
    own id is a hash of the source, so the source stands for it (and one object sent with ``send`` and
    published by hand stays one).
    """
    key = line.get(DEDUP_KEY)
    if isinstance(key, str) and key and not key.startswith("$") and key not in NOT_IDENTITIES and key in line:
        return "id:" + json.dumps(line[key], ensure_ascii=False)
    for field in SOURCES:  # also when the line names its source as its key (``send --s3-prefix`` does)
        if field in line:
            return f"{field}:" + json.dumps(line[field], ensure_ascii=False)
    return "line:" + json.dumps(line, sort_keys=True, ensure_ascii=False)


def merge(stages: Tuple[Stage, ...], lines: List[Optional[Dict[str, Any]]]) -> Dict[str, Any]:
    """One record of a pipeline: the latest stage's line, with each stage's own latest label pair."""
    base = next(line for line in reversed(lines) if line is not None)
    record = dict(base)
    for stage, line in zip(stages, lines, strict=True):
        if line is None:
            continue
        for key in (stage.label_attribute, stage.metadata_attribute):
            if key in line:
                record[key] = line[key]
    return record


@contextmanager
def scratch_database() -> Iterator[sqlite3.Connection]:
    """A SQLite database in a temporary file that is deleted afterwards; its page cache is small."""
    handle, path = tempfile.mkstemp(prefix="streaming-labeling-labels-", suffix=".sqlite")
    os.close(handle)
    try:
        with closing(sqlite3.connect(path)) as database:
            database.execute("PRAGMA journal_mode=OFF")
            database.execute("PRAGMA synchronous=OFF")
            database.execute("PRAGMA cache_size=-4096")  # KiB
            yield database
    finally:
        os.unlink(path)


class Reader:
    """Reads the manifests of a dataset's stages into the scratch database, then yields the records."""

    def __init__(self, s3: Any, dataset: Dataset, progress: Optional[Progress] = None) -> None:
        self.s3 = s3
        self.dataset = dataset
        self.progress = progress
        self._manifests: Optional[List[Tuple[int, int, str, int]]] = None
        #: The label type of the first line read of each stage (what a format is checked against).
        self.first_types: Dict[int, Optional[str]] = {}

    def manifests(self) -> List[Tuple[int, int, str, int]]:
        """(stage, generation, uri, size) of every manifest that exists; LabelsError on a refusal or when
        the job named has none yet. Looked up once."""
        if self._manifests is None:
            self._manifests = self._find_manifests()
        return self._manifests

    def _find_manifests(self) -> List[Tuple[int, int, str, int]]:
        found = []
        for stage_index, stage in enumerate(self.dataset.stages):
            for generation, uri in enumerate(stage.manifest_uris):
                bucket, key = shared.split_s3_uri(uri)
                try:
                    size = int(self.s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
                except ClientError as error:
                    code = str(error.response.get("Error", {}).get("Code", ""))
                    if code in ("404", "NoSuchKey", "NotFound"):
                        continue  # a generation that labeled nothing
                    raise refused(error, uri, stage.job_names[generation], "the labels") from error
                found.append((stage_index, generation, uri, size))
        if not any(stage_index == len(self.dataset.stages) - 1 for stage_index, *_ in found):
            last = self.dataset.last
            raise LabelsError(f"Labeling job {last.name} has no labels yet: no output manifest under "
                              f"{', '.join(last.manifest_uris)} (Ground Truth writes it a few minutes after "
                              "workers submit their first tasks).")
        return found

    def lines(self, uri: str, job_name: str, done: int, total: int) -> Iterator[Tuple[Dict[str, Any], int]]:
        """The JSON lines of one manifest, read as a stream, with the bytes read so far."""
        bucket, key = shared.split_s3_uri(uri)
        try:
            body = self.s3.get_object(Bucket=bucket, Key=key)["Body"]
        except ClientError as error:
            raise refused(error, uri, job_name, "the labels") from error
        read = done
        for raw in body.iter_lines(chunk_size=1 << 16):
            read += len(raw) + 1
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError as error:
                raise LabelsError(f"{uri} holds a line that is not JSON ({error}).") from error
            if isinstance(line, dict):
                yield line, read
            if self.progress is not None:
                self.progress(min(read, total), total)

    def load(self, database: sqlite3.Connection) -> None:
        database.execute("CREATE TABLE objects (seq INTEGER PRIMARY KEY, id TEXT UNIQUE)")
        database.execute("CREATE TABLE labels (id TEXT, stage INTEGER, date TEXT, generation INTEGER, "
                         "line INTEGER, record TEXT, PRIMARY KEY (id, stage))")
        manifests = self.manifests()
        labeled = [0] * len(self.dataset.stages)
        total = sum(size for *_, size in manifests)
        done = 0
        for stage_index, generation, uri, size in manifests:
            stage = self.dataset.stages[stage_index]
            for number, (line, _) in enumerate(self.lines(uri, stage.job_names[generation], done, total)):
                if stage.label_attribute not in line:
                    continue
                identity = object_id(line)
                kind = label_type(line, stage)
                if kind is not None:
                    self.first_types.setdefault(stage_index, kind)
                labeled[stage_index] += 1
                database.execute("INSERT OR IGNORE INTO objects (id) VALUES (?)", (identity,))
                # The latest label wins: the newer creation date, then the newer generation, then the later line.
                database.execute(
                    "INSERT INTO labels VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id, stage) DO UPDATE SET "
                    "date = excluded.date, generation = excluded.generation, line = excluded.line, "
                    "record = excluded.record WHERE (excluded.date, excluded.generation, excluded.line) >= "
                    "(labels.date, labels.generation, labels.line)",
                    (identity, stage_index, label_date(line, stage), generation, number,
                     json.dumps(line, ensure_ascii=False)))
            done += size
        if self.progress is not None:
            self.progress(total, total)
        if not labeled[-1]:
            last = self.dataset.last
            raise LabelsError(f"Labeling job {last.name} has no labels yet: its output manifests hold no line "
                              f"with its label attribute {last.label_attribute!r}.")

    def records(self, since: Optional[str] = None) -> Iterator[Dict[str, Any]]:
        """Every object once, in the order it was first seen; with ``since``, those with a label from then on."""
        stages = self.dataset.stages
        with scratch_database() as database:
            self.load(database)
            rows = database.execute(
                "SELECT objects.id, labels.stage, labels.date, labels.record FROM objects JOIN labels "
                "ON labels.id = objects.id ORDER BY objects.seq")
            current: Optional[str] = None
            lines: List[Optional[Dict[str, Any]]] = []
            newest = ""
            for identity, stage_index, date, record in rows:
                if identity != current:
                    if current is not None and (since is None or newest >= since):
                        yield merge(stages, lines)
                    current, lines, newest = identity, [None] * len(stages), ""
                lines[stage_index] = json.loads(record)
                newest = max(newest, str(date))
            if current is not None and (since is None or newest >= since):
                yield merge(stages, lines)


"""Publishing data objects to an input topic: PublishBatch, concurrent, retried once per layer, stoppable.

SNS takes at most 10 messages and 262,144 bytes per PublishBatch call (and per message).
Batches are sent by a pool of daemon threads; at most ``2 x concurrency`` batches are in
flight, so a file of any size is read as it is sent. An entry SNS did not accept because of
a fault on its side (throttling, an internal error, a dropped connection) is sent again with
backoff, at most ``MAX_ATTEMPTS`` calls per batch in all (botocore makes one attempt per call:
one retry budget); an entry it refused (a sender fault) is reported with SNS's reason. An error
no retry can change (missing credentials, AccessDenied, NotFound) stops the whole run at once.
Only accepted entries are counted, and journalled.

Every message names its object id with Ground Truth's duplicate handling
(``dataset-objectid-attribute-name``), so that an object sent twice is labeled once: a text
line's id is the SHA-256 of its text, an S3 object's is its ``source-ref``.

Ctrl-C (or a fatal error) sets :attr:`Publisher.stop`: no new batch is sent, a batch waiting
to retry gives up, and batches still in flight after ``GRACE_SECONDS`` are abandoned.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from botocore.exceptions import BotoCoreError, ClientError

from .errors import FATAL_CODES, TRANSIENT_CODES, explain, is_fatal, is_transient

MAX_MESSAGE_BYTES = 262_144
MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 262_144
MAX_ATTEMPTS = 6
BACKOFF_FIRST_SECONDS = 0.2
BACKOFF_MAX_SECONDS = 5.0
GRACE_SECONDS = 1.5
THROTTLING_CODES = TRANSIENT_CODES  # kept for callers of the old name

OBJECT_ID_KEY = "streaming-labeling-object-id"
DEDUP_KEY = "dataset-objectid-attribute-name"
MAX_OBJECT_ID = 1024


@dataclass(frozen=True)
class Item:
    """One data object: where it came from (for reports), the message body and its object id."""

    origin: str
    body: str
    object_id: str = ""
    line: Optional[int] = None


@dataclass(frozen=True)
class Failure:
    origin: str
    reason: str


class InputError(Exception):
    """The input cannot be read on: ``line`` is where."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def text_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def text_object(line: str) -> str:
    """A text data object, as Ground Truth takes it, with its content hash as its object id."""
    return json.dumps({"source": line, DEDUP_KEY: OBJECT_ID_KEY, OBJECT_ID_KEY: text_id(line)}, ensure_ascii=False)


def s3_object(uri: str) -> str:
    """An S3 data object: ``{"source-ref": "s3://bucket/key"}``, the URI being its object id."""
    if len(uri) > MAX_OBJECT_ID:  # an id is at most 1,024 characters: the URI's hash then
        return json.dumps({"source-ref": uri, DEDUP_KEY: OBJECT_ID_KEY, OBJECT_ID_KEY: text_id(uri)},
                          ensure_ascii=False)
    return json.dumps({"source-ref": uri, DEDUP_KEY: "source-ref"}, ensure_ascii=False)


def text_item(origin: str, number: int, text: str) -> Item:
    return Item(f"{origin}:{number}", text_object(text), text_id(text), number)


def s3_item(origin: str, uri: str) -> Item:
    return Item(origin, s3_object(uri), uri)


def numbered_lines(stream: IO[bytes], origin: str) -> Iterator[Tuple[int, str]]:
    """(line number, text) of each line: strict UTF-8, a leading BOM dropped, the line break stripped."""
    for number, raw in enumerate(stream, start=1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InputError(f"{origin}:{number}: not valid UTF-8 (byte 0x{raw[error.start]:02x} at byte "
                             f"{error.start + 1} of the line)", number) from error
        yield number, text.rstrip("\r\n")


@dataclass
class Tally:
    """What reading the input skipped."""

    blank: int = 0
    journaled: int = 0
    skipped: int = 0
    last_line: int = 0


def text_items(lines: Iterable[Tuple[int, str]], origin: str, tally: Optional[Tally] = None,
               done: Optional[Any] = None, skip: int = 0) -> Iterator[Item]:
    """One item per line with text; blank (whitespace-only) lines, the first ``skip`` lines and objects
    already in ``done`` (a journal) are counted in ``tally`` and not sent."""
    tally = tally if tally is not None else Tally()
    for number, text in lines:
        tally.last_line = number
        if number <= skip:
            tally.skipped += 1
            continue
        if not text.strip():
            tally.blank += 1
            continue
        item = text_item(origin, number, text)
        if done is not None and item.object_id in done:
            tally.journaled += 1
            continue
        yield item


def size(item: Item) -> int:
    return len(item.body.encode("utf-8"))


def batches(items: Iterable[Item], on_rejected: Callable[[Failure], None]) -> Iterator[List[Item]]:
    """Groups of at most 10 messages and 256 KB; a message over 256 KB is rejected, never sent."""
    batch: List[Item] = []
    batch_bytes = 0
    try:
        for item in items:
            item_bytes = size(item)
            if item_bytes > MAX_MESSAGE_BYTES:
                on_rejected(Failure(item.origin, f"message is {item_bytes:,} bytes; SNS takes at most "
                                                 f"{MAX_MESSAGE_BYTES:,}"))
                continue
            if batch and (len(batch) == MAX_BATCH_ENTRIES or batch_bytes + item_bytes > MAX_BATCH_BYTES):
                yield batch
                batch, batch_bytes = [], 0
            batch.append(item)
            batch_bytes += item_bytes
    except InputError:
        if batch:  # everything before the unreadable line is sent
            yield batch
        raise
    if batch:
        yield batch


def wait_for(threads: Sequence[threading.Thread], stop: threading.Event, *, interrupted: bool = False,
             grace: float = GRACE_SECONDS) -> Tuple[bool, bool]:
    """Wait for the threads; once ``stop`` is set, at most ``grace`` seconds more. A Ctrl-C sets ``stop``,
    a second one leaves at once. (interrupted, whether threads were abandoned still running)."""
    deadline: Optional[float] = None
    while True:
        try:
            alive = [thread for thread in threads if thread.is_alive()]
            if not alive:
                return interrupted, False
            if stop.is_set() and deadline is None:
                deadline = time.monotonic() + grace
            if deadline is not None and time.monotonic() >= deadline:
                return interrupted, True
            alive[0].join(0.05)
        except KeyboardInterrupt:
            if interrupted:
                return True, True
            interrupted = True
            stop.set()


@dataclass
class Outcome:
    sent: int = 0
    failures: List[Failure] = field(default_factory=list)
    interrupted: bool = False
    fatal: Optional[str] = None  # the error that stopped the run
    read_error: Optional[str] = None  # why the input could not be read on (with the line, for text)
    abandoned: int = 0  # objects in flight when the run stopped: whether SNS took them is unknown
    first_unsent_line: Optional[int] = None


class Publisher:
    """Sends items to one topic; ``on_sent(n)`` is called as SNS accepts them, ``record(ids)`` with their ids."""

    def __init__(self, sns_client: Any, topic_arn: str, *, concurrency: int = 8,
                 sleep: Optional[Callable[[float], None]] = None,
                 record: Callable[[List[str]], None] = lambda ids: None) -> None:
        self._sns = sns_client
        self._topic_arn = topic_arn
        self._concurrency = max(1, concurrency)
        self._sleep = sleep
        self._record = record
        self._lock = threading.Lock()
        self._in_flight: Dict[int, List[Item]] = {}
        self._unexpected: Optional[BaseException] = None
        self.stop = threading.Event()
        self.failures: List[Failure] = []
        self.sent = 0
        self.fatal: Optional[str] = None
        self.first_unsent_line: Optional[int] = None

    # -- bookkeeping (any thread) --

    def _unsent(self, items: Iterable[Item]) -> None:
        lines = [item.line for item in items if item.line is not None]
        if lines:
            with self._lock:
                lowest = min(lines)
                if self.first_unsent_line is None or lowest < self.first_unsent_line:
                    self.first_unsent_line = lowest

    def _fail(self, failure: Failure, item: Optional[Item] = None) -> None:
        with self._lock:
            self.failures.append(failure)
        if item is not None:
            self._unsent([item])

    def _stop_for(self, error: BaseException) -> None:
        with self._lock:
            if self.fatal is None:
                self.fatal = explain(error)
        self.stop.set()

    def _wait(self, seconds: float) -> bool:
        """Back off; True if the run was stopped meanwhile."""
        if self._sleep is not None:
            self._sleep(seconds)
            return self.stop.is_set()
        return self.stop.wait(seconds)

    # -- the run --

    def publish(self, items: Iterable[Item], on_sent: Callable[[int], None] = lambda n: None) -> List[Failure]:
        """Send everything (or until stopped); the failures. :meth:`run` gives the whole outcome."""
        return self.run(items, on_sent).failures

    def run(self, items: Iterable[Item], on_sent: Callable[[int], None] = lambda n: None) -> Outcome:
        work: queue.Queue[Tuple[int, List[Item]]] = queue.Queue(maxsize=self._concurrency)
        closed = threading.Event()
        threads = [threading.Thread(target=self._worker, args=(work, closed, on_sent), daemon=True,
                                    name=f"publisher-{n}") for n in range(self._concurrency)]
        for thread in threads:
            thread.start()
        outcome = Outcome()
        last_line = 0
        pending: Optional[List[Item]] = None
        try:
            for number, batch in enumerate(batches(items, self._fail)):
                pending = batch
                while not self.stop.is_set():
                    try:
                        work.put((number, batch), timeout=0.1)
                        pending = None
                        break
                    except queue.Full:
                        continue
                if pending is not None:  # stopped
                    break
                last_line = max((item.line or 0 for item in batch), default=last_line)
        except KeyboardInterrupt:
            outcome.interrupted = True
            self.stop.set()
        except InputError as error:
            outcome.read_error = str(error)
        except (ClientError, BotoCoreError, OSError) as error:  # listing an S3 prefix, reading a file
            outcome.read_error = explain(error)
        if pending is not None:
            self._unsent(pending)
        closed.set()
        outcome.interrupted, abandoned = wait_for(threads, self.stop, interrupted=outcome.interrupted)
        if self._unexpected is not None:
            raise self._unexpected
        with self._lock:
            in_flight = [item for batch in self._in_flight.values() for item in batch] if abandoned else []
            outcome.sent, outcome.failures, outcome.fatal = self.sent, list(self.failures), self.fatal
        self._unsent(in_flight)
        outcome.abandoned = len(in_flight)
        if self.stop.is_set() or outcome.read_error is not None:
            # everything after the last batch handed out was not sent either
            first = self.first_unsent_line
            outcome.first_unsent_line = last_line + 1 if first is None else min(first, last_line + 1)
        else:
            outcome.first_unsent_line = self.first_unsent_line
        return outcome

    def _worker(self, work: queue.Queue[Tuple[int, List[Item]]], closed: threading.Event,
                on_sent: Callable[[int], None]) -> None:
        while True:
            try:
                number, batch = work.get(timeout=0.05)
            except queue.Empty:
                if closed.is_set() or self.stop.is_set():
                    return
                continue
            if self.stop.is_set():
                self._unsent(batch)
                continue
            with self._lock:
                self._in_flight[number] = batch
            try:
                accepted = self._send_batch(batch)
            except BaseException as error:  # noqa: BLE001 - surfaced by run(), not lost in a thread
                self._unexpected = error
                self._unsent(batch)
                self.stop.set()
                return
            finally:
                with self._lock:
                    self._in_flight.pop(number, None)
            if accepted:
                self._record([item.object_id for item in accepted])
                with self._lock:
                    self.sent += len(accepted)
                on_sent(len(accepted))

    def _send_batch(self, batch: Sequence[Item]) -> List[Item]:
        """Send until every entry is accepted or refused, at most MAX_ATTEMPTS calls; the items accepted."""
        pending: List[Tuple[str, Item]] = [(str(index), item) for index, item in enumerate(batch)]
        accepted: List[Item] = []
        delay = BACKOFF_FIRST_SECONDS
        for attempt in range(1, MAX_ATTEMPTS + 1):
            entries = [{"Id": entry_id, "Message": item.body} for entry_id, item in pending]
            try:
                response = self._sns.publish_batch(TopicArn=self._topic_arn, PublishBatchRequestEntries=entries)
            except (ClientError, BotoCoreError) as error:
                if is_fatal(error):
                    self._stop_for(error)
                    self._unsent(item for _, item in pending)
                    return accepted
                if is_transient(error) and attempt < MAX_ATTEMPTS:
                    if self._wait(delay):
                        self._unsent(item for _, item in pending)
                        return accepted
                    delay = min(delay * 2, BACKOFF_MAX_SECONDS)
                    continue
                for _, item in pending:
                    self._fail(Failure(item.origin, explain(error)), item)
                return accepted
            by_id = dict(pending)
            accepted += [by_id[entry["Id"]] for entry in response.get("Successful", []) if entry["Id"] in by_id]
            retry: List[Tuple[str, Item]] = []
            for failed in response.get("Failed", []):
                item = by_id[failed["Id"]]
                code = str(failed.get("Code", ""))
                if code in TRANSIENT_CODES or not failed.get("SenderFault"):
                    if attempt < MAX_ATTEMPTS:
                        retry.append((failed["Id"], item))
                        continue
                self._fail(Failure(item.origin, f"{code}: {failed.get('Message', '')}".strip()), item)
                if code in FATAL_CODES:  # e.g. KMSAccessDenied: every other entry would meet it too
                    with self._lock:
                        self.fatal = self.fatal or f"PublishBatch: {code}: {failed.get('Message', '')}".strip()
                    self.stop.set()
            if not retry:
                return accepted
            pending = retry
            if self._wait(delay):
                self._unsent(item for _, item in pending)
                return accepted
            delay = min(delay * 2, BACKOFF_MAX_SECONDS)
        return accepted

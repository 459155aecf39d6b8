"""Publishing data objects to an input topic: PublishBatch, concurrent, retried, with flat memory.

SNS takes at most 10 messages and 262,144 bytes per PublishBatch call (and per message).
Batches are sent by a pool of threads; at most ``2 x concurrency`` batches are in flight,
so a file of any size is read as it is sent. An entry SNS did not accept because of a
fault on its side (throttling, an internal error) is sent again with backoff; an entry it
refused (a sender fault) is reported with SNS's reason. Only accepted entries are counted.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, List, Sequence, Tuple

from botocore.exceptions import BotoCoreError, ClientError

MAX_MESSAGE_BYTES = 262_144
MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 262_144
MAX_ATTEMPTS = 6
BACKOFF_FIRST_SECONDS = 0.2
BACKOFF_MAX_SECONDS = 5.0
THROTTLING_CODES = frozenset({"Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
                              "RequestLimitExceeded", "InternalError", "InternalFailure", "ServiceUnavailable",
                              "KMSThrottling", "KMSThrottlingException"})


@dataclass(frozen=True)
class Item:
    """One data object: where it came from (for reports) and the message body."""

    origin: str
    body: str


@dataclass(frozen=True)
class Failure:
    origin: str
    reason: str


def text_object(line: str) -> str:
    """A text data object, as Ground Truth takes it: ``{"source": "<text>"}``."""
    return json.dumps({"source": line}, ensure_ascii=False)


def s3_object(uri: str) -> str:
    """An S3 data object: ``{"source-ref": "s3://bucket/key"}``."""
    return json.dumps({"source-ref": uri}, ensure_ascii=False)


def text_items(lines: Iterable[str], origin: str) -> Iterator[Item]:
    """One item per non-empty line (line numbers from 1); blank lines are no data objects."""
    for number, line in enumerate(lines, start=1):
        text = line.rstrip("\r\n")
        if text:
            yield Item(f"{origin}:{number}", text_object(text))


def size(item: Item) -> int:
    return len(item.body.encode("utf-8"))


def batches(items: Iterable[Item], on_rejected: Callable[[Failure], None]) -> Iterator[List[Item]]:
    """Groups of at most 10 messages and 256 KB; a message over 256 KB is rejected, never sent."""
    batch: List[Item] = []
    batch_bytes = 0
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
    if batch:
        yield batch


class Publisher:
    """Sends items to one topic; ``on_sent(n)`` is called as SNS accepts them."""

    def __init__(self, sns_client: Any, topic_arn: str, *, concurrency: int = 8,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._sns = sns_client
        self._topic_arn = topic_arn
        self._concurrency = max(1, concurrency)
        self._sleep = sleep
        self._lock = threading.Lock()
        self.failures: List[Failure] = []
        self.sent = 0

    def _fail(self, failure: Failure) -> None:
        with self._lock:
            self.failures.append(failure)

    def publish(self, items: Iterable[Item], on_sent: Callable[[int], None] = lambda n: None) -> List[Failure]:
        in_flight = threading.BoundedSemaphore(2 * self._concurrency)

        def send(batch: List[Item]) -> None:
            try:
                accepted = self._send_batch(batch)
                with self._lock:
                    self.sent += accepted
                on_sent(accepted)
            finally:
                in_flight.release()

        with ThreadPoolExecutor(max_workers=self._concurrency) as pool:
            futures: List[Future[None]] = []
            for batch in batches(items, self._fail):
                in_flight.acquire()
                futures.append(pool.submit(send, batch))
                running = []
                for future in futures:
                    if future.done():
                        future.result()  # an unexpected error surfaces here, not lost
                    else:
                        running.append(future)
                futures = running
            for future in futures:
                future.result()
        return self.failures

    def _send_batch(self, batch: Sequence[Item]) -> int:
        """Send until every entry is accepted or refused; the number accepted."""
        pending: List[Tuple[str, Item]] = [(str(index), item) for index, item in enumerate(batch)]
        accepted = 0
        delay = BACKOFF_FIRST_SECONDS
        for attempt in range(1, MAX_ATTEMPTS + 1):
            entries = [{"Id": entry_id, "Message": item.body} for entry_id, item in pending]
            try:
                response = self._sns.publish_batch(TopicArn=self._topic_arn, PublishBatchRequestEntries=entries)
            except ClientError as error:
                info = error.response.get("Error", {})
                code, message = str(info.get("Code", "")), str(info.get("Message", error))
                if code in THROTTLING_CODES and attempt < MAX_ATTEMPTS:
                    self._sleep(delay)
                    delay = min(delay * 2, BACKOFF_MAX_SECONDS)
                    continue
                for _, item in pending:
                    self._fail(Failure(item.origin, f"{code}: {message}"))
                return accepted
            except BotoCoreError as error:
                if attempt < MAX_ATTEMPTS:
                    self._sleep(delay)
                    delay = min(delay * 2, BACKOFF_MAX_SECONDS)
                    continue
                for _, item in pending:
                    self._fail(Failure(item.origin, str(error)))
                return accepted
            accepted += len(response.get("Successful", []))
            by_id = dict(pending)
            retry: List[Tuple[str, Item]] = []
            for failed in response.get("Failed", []):
                item = by_id[failed["Id"]]
                code = str(failed.get("Code", ""))
                if (not failed.get("SenderFault") or code in THROTTLING_CODES) and attempt < MAX_ATTEMPTS:
                    retry.append((failed["Id"], item))
                else:
                    self._fail(Failure(item.origin, f"{code}: {failed.get('Message', '')}".strip()))
            if not retry:
                return accepted
            pending = retry
            self._sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_SECONDS)
        return accepted


"""FILE uploads to the input bucket under keys derived from their content: nothing is overwritten.

A file goes to ``<prefix><first 16 hex digits of its SHA-256>/<basename>``: two files of the
same name never share a key, and the same file sent again has the same key, so the same
``source-ref`` (one object for Ground Truth). Its full SHA-256 is stored in the object's
metadata; a HEAD that finds it there skips the upload, which matters when the bucket
publishes its uploads to the job: a second upload would be a new S3 event, labeled again.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from .errors import code_of, explain, is_fatal
from .sender import Failure, Item, s3_item, wait_for

DIGEST_METADATA = "sha256"
ONE_THREAD = TransferConfig(use_threads=False)  # in the caller's (daemon) thread, so Ctrl-C can leave it


def file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def key_for(prefix: str, path: str, digest: str) -> str:
    return f"{prefix}{digest[:16]}/{os.path.basename(path)}"


@dataclass
class Uploads:
    items: List[Item] = field(default_factory=list)  # uploaded or already there, in the order given
    failures: List[Failure] = field(default_factory=list)
    uploaded: int = 0
    existing: int = 0
    journaled: int = 0
    interrupted: bool = False
    fatal: Optional[str] = None
    abandoned: int = 0


def upload_files(s3: Any, bucket: str, files: Sequence[str], prefix: str, *, concurrency: int,
                 done: Optional[Any], on_done: Callable[[], None], stop: threading.Event,
                 record: Callable[[List[str]], None] = lambda ids: None) -> Uploads:
    """Upload each file that is not there yet (nor in ``done``, a journal); ``record`` gets each uri."""
    result = Uploads()
    lock = threading.Lock()
    found: Dict[int, Item] = {}
    next_index = [0]
    running: Dict[int, str] = {}

    def one(index: int, path: str) -> None:
        digest = file_digest(path)
        key = key_for(prefix, path, digest)
        uri = f"s3://{bucket}/{key}"
        if done is not None and uri in done:
            with lock:
                result.journaled += 1
            return
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if code_of(error) not in ("404", "NoSuchKey", "NotFound", "403", "AccessDenied"):
                raise
            head = None
        if head is not None:
            if head.get("Metadata", {}).get(DIGEST_METADATA) != digest:
                with lock:
                    result.failures.append(Failure(path, f"{uri} already holds other content: not overwritten"))
                return
            with lock:
                result.existing += 1
                found[index] = s3_item(path, uri)
            record([uri])
            return
        s3.upload_file(path, bucket, key, ExtraArgs={"Metadata": {DIGEST_METADATA: digest}}, Config=ONE_THREAD)
        with lock:
            result.uploaded += 1
            found[index] = s3_item(path, uri)
        record([uri])

    def worker() -> None:
        while not stop.is_set():
            with lock:
                index = next_index[0]
                if index >= len(files):
                    return
                next_index[0] += 1
                running[index] = files[index]
            path = files[index]
            try:
                one(index, path)
            except (ClientError, BotoCoreError) as error:
                if is_fatal(error):
                    with lock:
                        result.fatal = result.fatal or explain(error)
                    stop.set()
                else:
                    with lock:
                        result.failures.append(Failure(path, f"upload failed: {explain(error)}"))
            except OSError as error:
                with lock:
                    result.failures.append(Failure(path, f"upload failed: {explain(error)}"))
            finally:
                with lock:
                    running.pop(index, None)
                on_done()

    threads = [threading.Thread(target=worker, daemon=True, name=f"upload-{n}")
               for n in range(max(1, min(concurrency, len(files))))]
    for thread in threads:
        thread.start()
    result.interrupted, abandoned = wait_for(threads, stop)
    with lock:
        result.abandoned = len(running) if abandoned else 0
        result.items = [found[index] for index in sorted(found)]
    return result

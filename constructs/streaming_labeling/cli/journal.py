"""``--journal FILE``: the ids of the data objects sent, so that a re-run sends each only once.

Append-only, one object id per line, written and flushed as SNS accepts each batch (an id
with a line break in it, possible in an S3 key, is written as a JSON string). A re-run with
the same journal skips every id already in it. An object SNS took just before an
interruption may be missing from the journal and is then sent again: Ground Truth still
labels it once, because every message names its object id (``dataset-objectid-attribute-name``).
"""

from __future__ import annotations

import json
import threading
from typing import Iterable, Optional, Set, TextIO


def _encode(object_id: str) -> str:
    return json.dumps(object_id) if ("\n" in object_id or "\r" in object_id or object_id.startswith('"')) \
        else object_id


def _decode(line: str) -> Optional[str]:
    line = line.rstrip("\r\n")
    if not line:
        return None
    if line.startswith('"'):
        try:
            value = json.loads(line)
        except ValueError:
            return line
        return value if isinstance(value, str) else line
    return line


class Journal:
    def __init__(self, path: str) -> None:
        self.path = path
        self.done: Set[str] = set()
        try:
            with open(path, encoding="utf-8", errors="replace") as existing:
                for line in existing:
                    object_id = _decode(line)
                    if object_id is not None:
                        self.done.add(object_id)
        except FileNotFoundError:
            pass
        self.loaded = len(self.done)
        self._file: TextIO = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self._lock = threading.Lock()

    def __contains__(self, object_id: object) -> bool:
        return object_id in self.done

    def record(self, object_ids: Iterable[str]) -> None:
        text = "".join(_encode(object_id) + "\n" for object_id in object_ids)
        if not text:
            return
        with self._lock:
            self._file.write(text)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()

"""Emulated time: real time plus an offset that tests move forward.

Ground Truth's timers are days long (10 days idle, 14 days in the queue); a test moves the
clock instead of waiting. Listeners run inside ``advance`` so that whoever acts on time (the
engine) has acted on the new time when ``advance`` returns.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, List

Listener = Callable[[float], None]


class Clock:
    """``now()`` is epoch seconds: ``time.time()`` plus everything ``advance`` added."""

    def __init__(self, offset: float = 0.0) -> None:
        self._offset = float(offset)
        self._lock = threading.Lock()
        self._listeners: List[Listener] = []

    @property
    def offset(self) -> float:
        return self._offset

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float = 0.0, *, minutes: float = 0.0, hours: float = 0.0, days: float = 0.0) -> None:
        """Move time forward; every listener gets the new ``now()`` before this returns."""
        delta = seconds + 60 * minutes + 3600 * hours + 86400 * days
        if delta < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += delta
            listeners = list(self._listeners)
        for listener in listeners:
            listener(self.now())

    def add_listener(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

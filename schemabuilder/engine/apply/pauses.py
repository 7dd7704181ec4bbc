"""What keeps an apply's locked span short and measured: no cycle-collector pauses while its
locks are held (``no_gc_pauses``), and the milliseconds of each of its steps (``Laps``)."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_frozen_lock = threading.Lock()

_frozen_users = 0


@contextmanager
def no_gc_pauses() -> Iterator[None]:
    """Python's cycle collector leaves alone what exists while the transaction holds its
    locks: with a reviewed plan of 1,000 tables in memory, one full collection in the middle
    of the apply took ~60 ms of the time the changed tables are locked. ``gc.freeze()`` moves
    every object alive now out of the collector's sight, while collection goes on for what is
    made afterwards, in this apply and in any other thread of the process (``gc.disable()``
    would have switched it off for all of them). The last apply to leave unfreezes."""
    global _frozen_users
    with _frozen_lock:
        if _frozen_users == 0:
            gc.freeze()
        _frozen_users += 1
    try:
        yield
    finally:
        with _frozen_lock:
            _frozen_users -= 1
            if _frozen_users == 0:
                gc.unfreeze()


class Laps:
    """Milliseconds per step of one apply."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self._last) * 1000, 1)
        self._last = now

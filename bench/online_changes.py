"""The online benchmark's schema: the base state of the busy table and of its small parent, the
six changes it measures (each the base blueprint plus one thing), and the engine's plan and
verified apply of one blueprint, as the worker calls them.

The base ``items`` table: ``id`` (the primary key), ``parent_id``, ``code`` (distinct on every
row), ``qty`` (never negative), ``note`` (never null, but nullable), and one index,
``idx_items_code``, that the last change drops. The writers keep every row within what each
change asks, so no change fails on the data.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

SCHEMA = "tenant_bench"
TABLE = "items"
PARENT = "parents"
PARENTS = 100  # rows of the parent table

Payload = dict[str, Any]


def _column(name: str, type_: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **more}


def base(version: str) -> Payload:
    """The state every change starts from."""
    return {
        "schema_version": version,
        "description": "online bench: base",
        "auto_columns": False,
        "tables": [
            {
                "name": PARENT,
                "rls": False,
                "columns": [_column("id", "BIGINT", primary_key=True), _column("name", "TEXT")],
            },
            {
                "name": TABLE,
                "rls": False,
                "columns": [
                    _column("id", "BIGINT", primary_key=True),
                    _column("parent_id", "BIGINT"),
                    _column("code", "TEXT"),
                    _column("qty", "INTEGER"),
                    _column("note", "TEXT"),
                ],
                "indexes": [{"name": "idx_items_code", "columns": ["code"]}],
            },
        ],
    }


def _items(payload: Payload) -> dict[str, Any]:
    table: dict[str, Any] = payload["tables"][1]
    return table


def _column_of(payload: Payload, name: str) -> dict[str, Any]:
    return next(c for c in _items(payload)["columns"] if c["name"] == name)


def _add_index(p: Payload) -> None:
    _items(p)["indexes"].append({"name": "idx_items_qty", "columns": ["qty"]})


def _add_unique_index(p: Payload) -> None:
    _items(p)["indexes"].append({"name": "uq_items_code", "columns": ["code"], "unique": True})


def _add_foreign_key(p: Payload) -> None:
    _column_of(p, "parent_id")["references"] = f"{PARENT}.id"


def _add_check(p: Payload) -> None:
    _column_of(p, "qty")["check"] = "qty >= 0"


def _set_not_null(p: Payload) -> None:
    _column_of(p, "note")["not_null"] = True


def _drop_index(p: Payload) -> None:
    _items(p)["indexes"] = []


CHANGES: dict[str, Callable[[Payload], None]] = {
    "add index": _add_index,
    "add unique index": _add_unique_index,
    "add foreign key": _add_foreign_key,
    "add check": _add_check,
    "set not null": _set_not_null,
    "drop index": _drop_index,
}
SMOKE_CHANGES = ("add index", "add check")


def changed(change: str, version: str, mode: str | None) -> Payload:
    """The base blueprint with ``change``; ``apply_mode`` set only when ``mode`` is given."""
    payload = copy.deepcopy(base(version))
    payload["description"] = f"online bench: {change}"
    CHANGES[change](payload)
    if mode is not None:
        payload["apply_mode"] = mode
    return payload


def engine_refusal(mode: str) -> str | None:
    """Why this engine refuses a blueprint that says ``apply_mode: mode`` (its first contract
    error), or None when it accepts it."""
    from schemabuilder.engine import BlueprintInvalid, validate_payload

    try:
        validate_payload({**base("1"), "apply_mode": mode})
    except BlueprintInvalid as exc:
        first = exc.issues[0] if exc.issues else None
        return f"{first.path}: {first.message}" if first else str(exc)
    return None


def fill(url: str, rows: int) -> None:
    """``rows`` rows in the table and ``PARENTS`` in its parent, in one statement each, then
    VACUUM ANALYZE (what autovacuum leaves a table of that age in)."""
    items = sql.Identifier(SCHEMA, TABLE)
    parents = sql.Identifier(SCHEMA, PARENT)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("INSERT INTO {} SELECT g, 'p' || g FROM generate_series(1, %s) g").format(
                parents
            ),
            [PARENTS],
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} SELECT g, 1 + g %% %s, 'c' || g, g %% 1000, 'n' "
                "FROM generate_series(1, %s) g"
            ).format(items),
            [PARENTS, rows],
        )
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(items))
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(parents))


@dataclass(frozen=True)
class Applied:
    """One apply: its wall time (the apply_plan call alone), its statements, the plan's mode,
    the second stage's steps (0 for one transaction) and the engine's own phases."""

    begin: float
    end: float
    statements: int
    mode: str
    stage2_steps: int
    phases_ms: dict[str, float]  # where the apply's time went, as the engine reports it


class Engine:
    """Plans and applies blueprints against the bench's schema with the engine's public API,
    the way the worker does: a plan and the fingerprints it was reviewed against, then the
    verified apply of that reviewed plan."""

    def __init__(self, url: str, lock_timeout_ms: int) -> None:
        self._url = url
        self._lock_timeout_ms = lock_timeout_ms
        self._managed: frozenset[str] = frozenset()
        self._applies = 0

    def create_schema(self) -> None:
        with psycopg.connect(self._url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))

    def planned_statements(self, payload: Payload) -> int:
        """How many statements the plan of ``payload`` has (0: the live schema is that)."""
        from schemabuilder.engine import plan, validate_payload

        bp = validate_payload(payload)
        with psycopg.connect(self._url, autocommit=True) as conn:
            p = plan(conn, bp, schema=SCHEMA, managed=set(self._managed))
        return 0 if p.is_empty else len(p.statements)

    def apply(self, payload: Payload, on_start: Callable[[], None] | None = None) -> Applied:
        """Plan ``payload`` (untimed), call ``on_start``, then apply the reviewed plan; only the
        apply is inside the returned window."""
        from schemabuilder.engine import (
            ApplyRequest,
            Reviewed,
            apply_plan,
            fingerprints,
            plan,
            scope_of,
            validate_payload,
        )

        bp = validate_payload(payload)
        with psycopg.connect(self._url, autocommit=True) as conn:
            prints = fingerprints(conn, SCHEMA, scope_of(bp, self._managed))
            p = plan(conn, bp, schema=SCHEMA, managed=set(self._managed))
        self._applies += 1
        request = ApplyRequest.reviewing(
            p,
            proposal_id=f"00000000-0000-0000-0000-{self._applies:012d}",
            tenant_id="t_bench",
            schema=SCHEMA,
            managed=self._managed,
            schema_hash="bench",
            version=bp.schema_version,
            description=bp.description,
            applied_by="bench",
            lock_key=4217,
            lock_timeout_ms=self._lock_timeout_ms,
            statement_timeout_ms=3_600_000,
        )
        reviewed = Reviewed.of(p, prints)
        if on_start is not None:
            on_start()
        begin = time.monotonic()
        with psycopg.connect(self._url) as conn:
            outcome = apply_plan(conn, bp, request, reviewed=reviewed)
        end = time.monotonic()
        self._managed = frozenset(t.name for t in bp.tables)
        return Applied(
            begin=begin,
            end=end,
            statements=len(p.statements),
            # Engines before the online apply have neither: their plans are one transaction.
            mode=str(getattr(p, "apply_mode", "atomic")),
            stage2_steps=len(getattr(outcome, "phase2_steps", ())),
            phases_ms=dict(outcome.phases_ms),
        )

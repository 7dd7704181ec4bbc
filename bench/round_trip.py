"""The import's round trip on one live schema: import it, plan the import against it (it must
be empty), build it again on an empty database from the imported blueprint alone (plan, then
the engine's verified apply), and let migra say what differs between the two.

What the import leaves out and a blueprint cannot say yet (functions, triggers) is copied to
the new database as the server prints it, when asked (``copy``): functions before the plan
(policies call them), triggers after the apply (they name the tables). That way migra's
answer is about what the import said, and the copy is the list of what it did not.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from bench import migra_venv

if TYPE_CHECKING:
    from schemabuilder.engine import NormalizedBlueprint

# What a left-out object of each kind is, as the server prints it: (query, its arguments).
_FUNCTIONS = """
SELECT pg_catalog.pg_get_functiondef(p.oid), p.oid::regprocedure::text,
       p.proacl IS NOT NULL,
       coalesce((SELECT array_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                                       ELSE quote_ident(r.rolname) END)
                 FROM pg_catalog.aclexplode(p.proacl) a
                 LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
                 WHERE a.grantee <> p.proowner), '{}')
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = %s
  AND p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' = ANY(%s)
ORDER BY p.oid
"""
_TRIGGERS = """
SELECT pg_catalog.pg_get_triggerdef(t.oid)
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND NOT t.tgisinternal AND c.relname || '.' || t.tgname = ANY(%s)
ORDER BY c.relname, t.tgname
"""


@dataclass(frozen=True)
class Imported:
    """The import of a live schema: its payload, what it left out, and its re-plan."""

    payload: dict[str, Any]
    left_out: tuple[Any, ...]
    replan_statements: int  # 0: the plan of the import against the schema is empty
    replan_sql: str


def import_and_replan(url: str, schema: str) -> Imported:
    """Import ``schema`` (READ ONLY, as ``manage.py import_schema``), then plan the payload
    against the same schema with every imported table managed."""
    from schemabuilder.engine import import_schema, plan, validate_payload

    with psycopg.connect(url, autocommit=True) as conn:
        with conn.transaction():
            conn.execute("SET TRANSACTION READ ONLY")
            result = import_schema(conn, schema)
        if not result.payload["tables"]:
            return Imported(result.payload, result.left_out, 0, "")
        bp = validate_payload(result.payload)
        found = plan(conn, bp, schema=schema, managed={t.name for t in bp.tables})
    count = 0 if found.is_empty else len(found.statements)
    return Imported(result.payload, result.left_out, count, found.sql)


def _functions(source: psycopg.Connection[Any], schema: str, names: list[str]) -> list[str]:
    """Each function as the server prints it, with its EXECUTE grants as they are (a new
    function gets PostgreSQL's default, EXECUTE to PUBLIC)."""
    out = []
    for definition, signature, acl_set, grantees in source.execute(_FUNCTIONS, [schema, names]):
        out.append(definition)
        if acl_set:
            out.append(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
            out += [f"GRANT EXECUTE ON FUNCTION {signature} TO {who}" for who in grantees]
    return out


def copy_left_out(
    source_url: str, target_url: str, schema: str, left_out: Sequence[Any], kind: str
) -> int:
    """Copy the left-out objects of ``kind`` (``function`` or ``trigger``) from the source
    to the target as the source's server prints them; returns how many were copied."""
    with psycopg.connect(source_url) as source:
        if kind == "function":
            names = [o.name for o in left_out if o.kind == "function"]
            statements = _functions(source, schema, names)
        else:
            names = [f"{o.table}.{o.name}" for o in left_out if o.kind == "trigger"]
            statements = [r[0] for r in source.execute(_TRIGGERS, [schema, names])]
    with psycopg.connect(target_url, autocommit=True) as target, target.transaction():
        # A SQL function's body names tables that the apply creates later.
        target.execute("SET LOCAL check_function_bodies = off")
        for statement in statements:
            target.execute(statement.encode())
    return len(names)


def recreate(target_url: str, payload: dict[str, Any], schema: str) -> int:
    """Build ``payload`` on the target the way the app does a first version: plan with
    nothing managed, then the engine's verified apply. Returns the statements applied."""
    from schemabuilder.engine import validate_payload

    return plan_and_apply(target_url, validate_payload(payload), schema)


def plan_and_apply(
    url: str,
    bp: NormalizedBlueprint,
    schema: str,
    managed: Collection[str] = (),
    options: Mapping[str, Any] | None = None,
) -> int:
    """Plan ``bp`` on ``url`` (``managed``: the tables already managed; ``options``: more
    arguments of ``plan()``) and apply it through the engine's verified apply, as the worker
    runs a reviewed plan. Returns the statements applied."""
    from schemabuilder.engine import (
        ApplyRequest,
        Reviewed,
        apply_plan,
        fingerprints,
        plan,
        scope_of,
    )

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        prints = fingerprints(conn, schema, scope_of(bp, managed))
        found = plan(conn, bp, schema=schema, managed=managed, **(options or {}))
        if found.is_empty:
            return 0
        request = ApplyRequest.reviewing(
            found,
            proposal_id="00000000-0000-0000-0000-0000000000c2",
            tenant_id="t_round_trip",
            schema=schema,
            managed=frozenset(managed),
            schema_hash="round-trip",
            version=bp.schema_version,
            description="round trip",
            applied_by="round-trip",
            lock_key=43,
            lock_timeout_ms=10_000,
            statement_timeout_ms=600_000,
        )
        apply_plan(conn, bp, request, reviewed=Reviewed.of(found, prints))
    return len(found.statements)


def migra_lines(from_url: str, to_url: str, schema: str) -> list[str]:
    """The lines of migra's script from one database's ``schema`` to the other's, grants
    compared too: empty when migra finds no difference."""
    run = migra_venv.diff(from_url, to_url, schema, privileges=True)
    return [line for line in run.stdout.splitlines() if line.strip()]


def kinds(left_out: Collection[Any]) -> set[str]:
    """The kinds of what was left out."""
    return {o.kind for o in left_out}

"""Catalog introspection: one schema (or some of its tables) into a ``Snapshot``.

The queries live in ``sql/``, one file per object kind. They run with the search_path set to
the introspected schema (and, for a scratch schema, the live schema after it), so PostgreSQL
prints types, expressions and foreign key targets unqualified, the same way on both sides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from functools import cache
from importlib import resources
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from schemabuilder.engine.snapshot import (
    Column,
    Constraint,
    ConstraintKind,
    Index,
    Policy,
    Snapshot,
    Table,
)

_KINDS = {
    "p": ConstraintKind.PRIMARY_KEY,
    "u": ConstraintKind.UNIQUE,
    "c": ConstraintKind.CHECK,
    "f": ConstraintKind.FOREIGN_KEY,
    "x": ConstraintKind.EXCLUDE,
}


@cache
def catalog_query(name: str) -> str:
    """The text of ``sql/<name>.sql`` (shipped as package data, never user input)."""
    return resources.files("schemabuilder.engine").joinpath("sql", f"{name}.sql").read_text()


def introspect(
    conn: psycopg.Connection[Any],
    schema: str,
    *,
    tables: Collection[str] | None = None,
    search_path: Sequence[str] = (),
    as_schema: str | None = None,
    list_all: bool = True,
) -> Snapshot:
    """Snapshot ``schema``: all its tables, or only those named in ``tables``.

    ``search_path`` adds schemas after ``schema`` (a scratch schema passes the live one, so
    references into it print unqualified). ``as_schema`` is the name recorded in the snapshot
    (a scratch schema stands for the live one). ``Snapshot.all_tables`` always names every
    table of the schema: the cost of the other queries grows with ``tables`` only; with
    ``list_all=False`` it names only the tables introspected (verification needs no more).
    The connection's search_path is restored afterwards.
    """
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        previous = cur.execute(
            "SELECT current_setting('search_path') AS path, current_setting('jit') AS jit"
        ).fetchone()
        path = sql.SQL(", ").join(sql.Identifier(s) for s in (schema, *search_path))
        # The catalog's row estimates for ANY(oids) are poor; on a large schema they make the
        # planner JIT-compile a 10 ms query for 400 ms.
        cur.execute(
            sql.SQL(
                "SELECT set_config('search_path', {}, true), set_config('jit', 'off', true)"
            ).format(sql.Literal(path.as_string(conn)))
        )
        snapshot = _introspect(cur, schema, tables, as_schema or schema, list_all)
        # On error the savepoint's rollback restores it; on success, within an outer
        # transaction, SET LOCAL would otherwise outlive this call.
        if previous is not None:
            cur.execute(
                "SELECT set_config('search_path', %s, true), set_config('jit', %s, true)",
                [previous["path"], previous["jit"]],
            )
        return snapshot


def _introspect(
    cur: psycopg.Cursor[dict[str, Any]],
    schema: str,
    only: Collection[str] | None,
    as_schema: str,
    list_all: bool,
) -> Snapshot:
    names = None if list_all or only is None else sorted(only)
    rows = cur.execute(catalog_query("tables"), {"schema": schema, "names": names}).fetchall()
    all_tables = tuple(r["name"] for r in rows)
    wanted = set(only) if only is not None else None
    selected = [r for r in rows if wanted is None or r["name"] in wanted]
    oids = [r["table_oid"] for r in selected]
    members: dict[str, defaultdict[int, list[Any]]] = {
        kind: defaultdict(list) for kind in ("columns", "constraints", "indexes", "policies")
    }
    if oids:
        params = {"oids": oids}
        for row in cur.execute(catalog_query("columns"), params):
            members["columns"][row["table_oid"]].append(_column(row))
        for row in cur.execute(catalog_query("constraints"), params):
            members["constraints"][row["table_oid"]].append(_constraint(row))
        for row in cur.execute(catalog_query("indexes"), params):
            members["indexes"][row["table_oid"]].append(_index(row))
        for row in cur.execute(catalog_query("policies"), params):
            members["policies"][row["table_oid"]].append(_policy(row))
    return Snapshot(
        schema=as_schema,
        tables=tuple(
            Table(
                name=r["name"],
                columns=tuple(members["columns"][r["table_oid"]]),
                constraints=tuple(members["constraints"][r["table_oid"]]),
                indexes=tuple(members["indexes"][r["table_oid"]]),
                policies=tuple(members["policies"][r["table_oid"]]),
                rls=r["rls"],
                rls_forced=r["rls_forced"],
                comment=r["comment"],
            )
            for r in selected
        ),
        all_tables=all_tables,
    )


def _column(row: dict[str, Any]) -> Column:
    return Column(
        name=row["name"],
        type=row["type"],
        not_null=row["not_null"],
        default=row["default"],
        identity=row["identity"],
        serial=row["serial"],
        generated=row["generated"],
        collation=row["collation"],
        comment=row["comment"],
        position=row["position"],
    )


def _constraint(row: dict[str, Any]) -> Constraint:
    definition: str = row["definition"]
    prefix: str | None = row["fk_prefix"]
    tail = None
    if prefix is not None and definition.startswith(prefix):
        tail = definition[len(prefix) :]
    return Constraint(
        name=row["name"],
        kind=_KINDS[row["kind"]],
        definition=definition,
        columns=tuple(row["columns"]),
        ref_table=row["ref_table"],
        ref_columns=tuple(row["ref_columns"]),
        on_delete=row["on_delete"],
        on_update=row["on_update"],
        fk_tail=tail,
    )


def _index(row: dict[str, Any]) -> Index:
    full: str = row["full_definition"]
    prefix: str = row["prefix"]
    # The head is printed from the same catalog row, so it always matches; the fallback keeps
    # a correct (if table-dependent) value should a future server print it differently.
    definition = full[len(prefix) :] if full.startswith(prefix) else full
    return Index(
        name=row["name"],
        definition=definition,
        unique=row["unique"],
        method=row["method"],
        columns=tuple(row["columns"]),
        predicate=row["predicate"],
        valid=row["valid"],
    )


def _policy(row: dict[str, Any]) -> Policy:
    return Policy(
        name=row["name"],
        command=row["command"],
        permissive=row["permissive"],
        roles=tuple(row["roles"]),
        using=row["using"],
        with_check=row["with_check"],
        columns=tuple(row["columns"]),
    )

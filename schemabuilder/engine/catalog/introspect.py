"""Catalog introspection: one schema (or some of its tables) into a ``Snapshot``.

The queries live in ``sql/``, one file per object kind. They run with the search_path set to
the introspected schema (and, for a scratch schema, the live schema after it), so PostgreSQL
prints types, expressions and foreign key targets unqualified, the same way on both sides.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from importlib import resources
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from schemabuilder.engine.catalog.snapshot import (
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
    return (
        resources.files("schemabuilder.engine.catalog").joinpath("sql", f"{name}.sql").read_text()
    )


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
    with _catalog_cursor(conn, schema, search_path) as cur:
        return _introspect(cur, schema, tables, as_schema or schema, list_all)


def introspect_written(
    conn: psycopg.Connection[Any],
    schema: str,
    tables: Collection[str],
    base: Snapshot,
    expected: Snapshot | None = None,
) -> Snapshot:
    """What ``introspect(conn, schema, tables=tables, list_all=False)`` returns, printing only
    the members this transaction wrote: every other member is taken from ``base``.

    For verification after a change, where ``base`` is the plan's introspection of the same
    tables and the caller made sure nobody else changed them since (their fingerprints match
    the plan's while this transaction holds their locks). A member whose catalog rows were
    not written since then prints as it printed for the plan, except when something it names
    was renamed: the caller must rule renames out. Which members were not written is checked,
    not assumed: the server's digest of them (``sql/written.sql``: names, and for a column its
    position and comment) must equal the digest of ``base``'s members less those written and
    less those ``expected`` (the desired state) no longer has; a table where it does not, say
    a member dropped that should not have been, or a comment removed, is introspected whole.
    """
    names = sorted(tables)
    if not names:
        return Snapshot(schema=schema)
    with _catalog_cursor(conn, schema, ()) as cur:
        rows = cur.execute(catalog_query("written"), {"schema": schema, "names": names}).fetchall()
        for kind, build in _MEMBER_BUILDERS:
            oids = [r["table_oid"] for r in rows if kind in r["written_kinds"]]
            printed = _member_rows(cur, kind, build, oids, written_only=True)
            for r in rows:
                r[kind] = printed.get(r["table_oid"], [])
        out: list[Table] = []
        whole: list[str] = []
        for r in rows:
            after = expected.table(r["name"]) if expected is not None else None
            table = _with_unwritten(r, base.table(r["name"]), after)
            if table is None:
                whole.append(r["name"])
            else:
                out.append(table)
        if whole:
            out.extend(_introspect(cur, schema, whole, schema, False).tables)
    return Snapshot(schema=schema, tables=tuple(out), all_tables=tuple(r["name"] for r in rows))


def _with_unwritten(row: dict[str, Any], before: Table | None, after: Table | None) -> Table | None:
    """The table of ``row`` (its written members printed) completed with the members of
    ``before`` that were not written and that ``after`` still has; None when the server's
    digest of the unwritten members says they are not exactly those."""
    members: dict[str, list[Any]] = {}
    lines: list[str] = []
    for kind, _ in _MEMBER_BUILDERS:
        written = row[kind]
        taken = {m.name for m in written}
        old = getattr(before, kind) if before is not None else ()
        keep = {m.name for m in getattr(after, kind)} if after is not None else None
        unwritten = [m for m in old if m.name not in taken and (keep is None or m.name in keep)]
        members[kind] = [*written, *unwritten]
        if kind == "columns":
            lines += [
                f"columns {m.position}:{len(m.comment)}:{m.comment}"
                if m.comment is not None
                else f"columns {m.position}:-"
                for m in unwritten
            ]
        else:
            lines += [f"{kind} {len(m.name)}:{m.name}" for m in unwritten]
    digest = hashlib.md5("\n".join(sorted(lines)).encode(), usedforsecurity=False).hexdigest()
    if digest != row["unwritten"]:
        return None
    return _table(row, members)


@contextmanager
def _catalog_cursor(
    conn: psycopg.Connection[Any], schema: str, search_path: Sequence[str]
) -> Iterator[psycopg.Cursor[dict[str, Any]]]:
    """A cursor whose search_path is ``schema`` (then ``search_path``) and with JIT off, both
    restored afterwards."""
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
        yield cur
        # On error the savepoint's rollback restores it; on success, within an outer
        # transaction, SET LOCAL would otherwise outlive this call.
        if previous is not None:
            cur.execute(
                "SELECT set_config('search_path', %s, true), set_config('jit', %s, true)",
                [previous["path"], previous["jit"]],
            )


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
    members = _members(cur, [r["table_oid"] for r in selected], written_only=False)
    return Snapshot(
        schema=as_schema,
        tables=tuple(
            _table(r, {kind: members[kind].get(r["table_oid"], []) for kind in members})
            for r in selected
        ),
        all_tables=all_tables,
    )


def _members(
    cur: psycopg.Cursor[dict[str, Any]], oids: list[int], *, written_only: bool
) -> dict[str, dict[int, list[Any]]]:
    """The columns, constraints, indexes and policies of the tables ``oids``, per table oid;
    with ``written_only``, only those this transaction wrote."""
    return {
        kind: _member_rows(cur, kind, build, oids, written_only=written_only)
        for kind, build in _MEMBER_BUILDERS
    }


def _member_rows(
    cur: psycopg.Cursor[dict[str, Any]],
    kind: str,
    build: Callable[[dict[str, Any]], Any],
    oids: list[int],
    *,
    written_only: bool,
) -> dict[int, list[Any]]:
    """One member kind (``sql/<kind>.sql``) of the tables ``oids``, per table oid."""
    found: defaultdict[int, list[Any]] = defaultdict(list)
    if oids:
        params = {"oids": oids, "written_only": written_only}
        for row in cur.execute(catalog_query(kind), params):
            found[row["table_oid"]].append(build(row))
    return found


def _table(row: dict[str, Any], members: Mapping[str, Sequence[Any]]) -> Table:
    return Table(
        name=row["name"],
        columns=tuple(members["columns"]),
        constraints=tuple(members["constraints"]),
        indexes=tuple(members["indexes"]),
        policies=tuple(members["policies"]),
        rls=row["rls"],
        rls_forced=row["rls_forced"],
        comment=row["comment"],
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


# Each member kind: its catalog query (sql/<kind>.sql) and how a row becomes a member.
_MEMBER_BUILDERS: tuple[tuple[str, Callable[[dict[str, Any]], Any]], ...] = (
    ("columns", _column),
    ("constraints", _constraint),
    ("indexes", _index),
    ("policies", _policy),
)

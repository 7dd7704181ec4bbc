"""``LiveFacts`` answered by the live database: row counts, NULLs, duplicates, violations.

Every question is asked in the desired state's names (``Renames`` maps them back to the live
ones) and answered cheaply: sizes from the catalog, exact counts only for tables under
``SMALL_TABLE_BYTES``, value scans only for tables under ``SMALL_TABLE_ROWS`` rows. Each
query runs in a savepoint that is always rolled back, under a statement timeout; a query
that fails or times out answers None ("not measured"), never an error.

Some of these queries evaluate what a submitter wrote (a CHECK's violating rows, an index
predicate's duplicates) before anyone reviewed it. ``allowlist`` keeps such expressions to
harmless built-ins; as a second wall every query here runs READ ONLY (the savepoint sets
``transaction_read_only``, which a subtransaction may switch on, never off) under
``FACT_TIMEOUT_MS``, only on the plan's own tables (``live_tables``: the blueprint's, the
managed ones, the sources of renames) in the target's schema, and its error text is never
kept (None, or ``safe_message``'s SQLSTATE and our words). The two probes that must create
a throw-away object (a temporary table, a ``pg_temp`` function) do so in a read-write
savepoint around the read-only one, and never touch a live row there.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from schemabuilder.engine.catalog.introspect import catalog_query
from schemabuilder.engine.diff.renames import Renames
from schemabuilder.engine.hazards.facts import (
    SMALL_TABLE_BYTES,
    CastCheck,
    CastOutcome,
    NewColumns,
    TableStats,
)
from schemabuilder.engine.safe_errors import safe_message

FACT_TIMEOUT_MS = 3_000  # per query: a hostile or slow expression cannot hold a request
# ``prefetch`` counts the rows of many small tables in one query; a batch holds at most this
# many tables and, besides the empty ones, at most SMALL_TABLE_BYTES of them, so it costs
# about what counting one table did (and fits the same timeout).
COUNT_BATCH_TABLES = 200


class PgFacts:
    """``LiveFacts`` answered by the live database (inside the plan's transaction)."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        schema: str,
        renames: Renames,
        live_tables: Collection[str] | None = None,
    ) -> None:
        """``live_tables`` (live names), when given, spares a query for every new table."""
        self.conn = conn
        self.schema = schema
        self.renames = renames
        self.live_tables = None if live_tables is None else frozenset(live_tables)
        self._stats: dict[str, TableStats | None] = {}
        # Prefetched dependents: live qualified name -> rows of sql/dependents_many.sql.
        self._dependents: dict[str, list[tuple[str | None, str, str | None, str | None]]] = {}
        self._casts: dict[tuple[str, str], CastCheck] = {}
        self._rewrites: dict[tuple[str, str], bool] = {}
        self._probe = 0

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _scope(self, *, read_only: bool = True) -> Iterator[psycopg.Cursor[Any]]:
        """A savepoint that is always rolled back, with the schema first on the search_path,
        READ ONLY unless ``read_only`` is False (only for creating throw-away objects)."""
        with self.conn.transaction(force_rollback=True), self.conn.cursor() as cur:
            cur.execute(
                "SELECT set_config('search_path', %s, true), "
                "set_config('statement_timeout', %s, true), set_config('jit', 'off', true), "
                "set_config('transaction_read_only', %s, true)",
                [
                    sql.Identifier(self.schema).as_string(self.conn),
                    str(FACT_TIMEOUT_MS),
                    "on" if read_only else "off",
                ],
            )
            yield cur

    def _scalar(self, query: sql.Composed, params: Sequence[object] = ()) -> Any:
        try:
            with self._scope() as cur:
                row = cur.execute(query, params).fetchone()
                return row[0] if row else None
        except psycopg.Error:
            return None

    def _table(self, table: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(
            sql.Identifier(self.schema), sql.Identifier(self.renames.live_table(table))
        )

    def _col(self, table: str, column: str) -> sql.Identifier:
        return sql.Identifier(self.renames.live_column(table, column))

    def _expr(self, table: str, text: str) -> sql.SQL:
        # Expressions come out of the catalog (PostgreSQL printed them), never from input.
        return sql.SQL(self.renames.live_expression(table, text))

    def _qualified(self, table: str) -> str:
        """The live table of desired-state ``table``, as text for to_regclass."""
        return sql.Identifier(self.schema, self.renames.live_table(table)).as_string(self.conn)

    # -- prefetching ------------------------------------------------------------------------

    def prefetch(self, tables: Collection[str]) -> None:
        """Answer ``table_stats`` and ``dependents`` for all of ``tables`` (desired-state
        names: the ones a diff is about to ask about) in a few queries instead of a savepoint
        and one or two queries per table and question. Whatever a batch cannot answer (an
        error, a timeout) is left to the one-table path, so answers never change."""
        wanted = [
            t
            for t in dict.fromkeys(tables)
            if self.live_tables is None or self.renames.live_table(t) in self.live_tables
        ]
        if wanted:
            self._prefetch_stats([t for t in wanted if t not in self._stats])
            self._prefetch_dependents(wanted)

    def _prefetch_stats(self, tables: Sequence[str]) -> None:
        if not tables:
            return
        names = {t: self._qualified(t) for t in tables}
        try:
            with self._scope() as cur:
                rows = cur.execute(
                    "SELECT t.name, pg_relation_size(c.oid), c.reltuples::bigint "
                    "FROM unnest(%s::text[]) AS t(name) "
                    "JOIN pg_class c ON c.oid = to_regclass(t.name)",
                    [list(names.values())],
                ).fetchall()
        except psycopg.Error:
            return
        sizes = {str(name): (int(size), int(estimate)) for name, size, estimate in rows}
        small: list[tuple[str, int]] = []
        for table in tables:
            found = sizes.get(names[table])
            if found is None:
                self._stats[table] = None
            elif found[0] <= SMALL_TABLE_BYTES:
                small.append((table, found[0]))
            else:
                size, estimate = found
                self._stats[table] = TableStats(
                    rows=estimate if estimate >= 0 else None, exact=False, bytes=size
                )
        for batch in _count_batches(small):
            query = sql.SQL(" UNION ALL ").join(
                sql.SQL("SELECT {}::integer, count(*) FROM {}").format(
                    sql.Literal(n), self._table(table)
                )
                for n, (table, _) in enumerate(batch)
            )
            try:
                with self._scope() as cur:
                    counts = {int(n): int(c) for n, c in cur.execute(query).fetchall()}
            except psycopg.Error:
                continue
            for n, (table, size) in enumerate(batch):
                self._stats[table] = TableStats(rows=counts[n], exact=True, bytes=size)

    def _prefetch_dependents(self, tables: Sequence[str]) -> None:
        names = [q for q in dict.fromkeys(self._qualified(t) for t in tables)]
        names = [q for q in names if q not in self._dependents]
        if not names:
            return
        try:
            with self._scope() as cur:
                rows = cur.execute(catalog_query("dependents_many"), {"tables": names}).fetchall()
        except psycopg.Error:
            return
        for name in names:
            self._dependents[name] = []
        for name, column, description, owner, owner_schema in rows:
            self._dependents[str(name)].append((column, description, owner, owner_schema))

    # -- questions --------------------------------------------------------------------------

    def table_stats(self, table: str) -> TableStats | None:
        """Rows and bytes of the live table (None when it does not exist)."""
        if table in self._stats:
            return self._stats[table]
        if self.live_tables is not None and self.renames.live_table(table) not in self.live_tables:
            return None
        name = sql.Identifier(self.schema, self.renames.live_table(table))
        stats: TableStats | None = None
        try:
            with self._scope() as cur:
                row = cur.execute(
                    "SELECT pg_relation_size(c.oid), c.reltuples::bigint FROM pg_class c "
                    "WHERE c.oid = to_regclass(%s)",
                    [name.as_string(self.conn)],
                ).fetchone()
        except psycopg.Error:
            row = None
        if row is not None:
            size, estimate = int(row[0]), int(row[1])
            if size <= SMALL_TABLE_BYTES:
                rows = self._scalar(sql.SQL("SELECT count(*) FROM {}").format(self._table(table)))
                stats = TableStats(rows=rows, exact=rows is not None, bytes=size)
            else:
                stats = TableStats(
                    rows=estimate if estimate >= 0 else None, exact=False, bytes=size
                )
        self._stats[table] = stats
        return stats

    def _small(self, table: str) -> bool:
        stats = self.table_stats(table)
        return stats is not None and stats.scannable

    def null_count(self, table: str, column: str) -> int | None:
        if not self._small(table):
            return None
        query = sql.SQL("SELECT count(*) FROM {} WHERE {} IS NULL").format(
            self._table(table), self._col(table, column)
        )
        return self._int(query)

    def non_null_count(self, table: str, column: str) -> int | None:
        if not self._small(table):
            return None
        query = sql.SQL("SELECT count({}) FROM {}").format(
            self._col(table, column), self._table(table)
        )
        return self._int(query)

    def _rows(self, table: str, added: NewColumns | None, alias: str) -> sql.Composed:
        """The live table to count over (``FROM`` it, as ``alias``), with ``added``: the columns
        the plan adds, holding in every row the value they will hold (a default PostgreSQL
        printed, computed once; see ``NewColumns``)."""
        if not added:
            return sql.SQL("{} AS {}").format(self._table(table), sql.Identifier(alias))
        values = sql.SQL(", ").join(
            sql.SQL("({})::{} AS {}").format(
                sql.SQL("NULL" if default is None else default),
                sql.SQL(type_),
                sql.Identifier(column),
            )
            for column, (type_, default) in sorted(added.items())
        )
        return sql.SQL("(SELECT *, {} FROM {}) AS {}").format(
            values, self._table(table), sql.Identifier(alias)
        )

    def duplicate_rows(
        self,
        table: str,
        keys: Sequence[str],
        predicate: str | None,
        added: NewColumns | None = None,
    ) -> int | None:
        """Rows beyond the first of each group of equal non-NULL keys (NULLs are distinct)."""
        if not self._small(table) or not keys:
            return None
        exprs = [self._expr(table, k) for k in keys]
        conditions = [sql.SQL("({}) IS NOT NULL").format(e) for e in exprs]
        if predicate:
            conditions.append(sql.SQL("({})").format(self._expr(table, predicate)))
        query = sql.SQL(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {} WHERE {} "
            "GROUP BY {} HAVING count(*) > 1) AS dup"
        ).format(
            self._table(table) if not added else self._rows(table, added, "t"),
            sql.SQL(" AND ").join(conditions),
            sql.SQL(", ").join(sql.SQL("({})").format(e) for e in exprs),
        )
        return self._int(query)

    def fk_violations(
        self,
        table: str,
        columns: Sequence[str],
        ref_table: str,
        ref_columns: Sequence[str],
        ref_exists: bool,
        added: NewColumns | None = None,
    ) -> int | None:
        """Rows whose (all non-NULL) key has no match in the referenced table (MATCH SIMPLE)."""
        if not self._small(table):
            return None
        cols = [self._col(table, c) for c in columns]
        not_null = sql.SQL(" AND ").join(sql.SQL("c.{} IS NOT NULL").format(c) for c in cols)
        if not ref_exists:
            # A new referenced table starts empty: every complete key violates.
            query = sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
                self._rows(table, added, "c"), not_null
            )
            return self._int(query)
        match = sql.SQL(" AND ").join(
            sql.SQL("p.{} = c.{}").format(self._col(ref_table, r), c)
            for r, c in zip(ref_columns, cols, strict=True)
        )
        query = sql.SQL(
            "SELECT count(*) FROM {} WHERE {} AND NOT EXISTS (SELECT 1 FROM {} AS p WHERE {})"
        ).format(self._rows(table, added, "c"), not_null, self._table(ref_table), match)
        return self._int(query)

    def check_violations(
        self, table: str, expression: str, added: NewColumns | None = None
    ) -> int | None:
        """Rows for which the check is false (NULL passes a check)."""
        if not self._small(table):
            return None
        query = sql.SQL("SELECT count(*) FROM {} WHERE NOT ({})").format(
            self._table(table) if not added else self._rows(table, added, "t"),
            self._expr(table, expression),
        )
        return self._int(query)

    def cast_check(self, old_type: str, new_type: str) -> CastCheck:
        """Whether ``old_type`` converts to ``new_type``, and how (see ``CastCheck``).

        The answer depends on the two types only: a plan that widens the same type on many
        tables asks the server once (two savepoints and two queries saved per column)."""
        key = (old_type, new_type)
        if key not in self._casts:
            self._casts[key] = self._cast_check(old_type, new_type)
        return self._casts[key]

    def _cast_check(self, old_type: str, new_type: str) -> CastCheck:
        old, new = sql.SQL(old_type), sql.SQL(new_type)
        try:
            with self._scope() as cur:
                cur.execute(sql.SQL("SELECT NULL::{}::{}").format(old, new))
        except psycopg.Error as exc:
            return CastCheck(possible=False, error=_message(exc), binary=False, implicit=False)
        query = sql.SQL(
            "WITH t AS (SELECT {}::regtype::oid AS s, {}::regtype::oid AS d), "
            "e AS (SELECT coalesce(nullif(ts.typelem, 0), t.s) AS s, "
            "             coalesce(nullif(td.typelem, 0), t.d) AS d, "
            "             (ts.typelem <> 0) = (td.typelem <> 0) AS same_shape "
            "      FROM t JOIN pg_type ts ON ts.oid = t.s JOIN pg_type td ON td.oid = t.d) "
            "SELECT e.same_shape AND (e.s = e.d OR coalesce(c.castmethod = 'b', false)), "
            "       e.s = e.d OR coalesce(c.castcontext = 'i', false) "
            "FROM e LEFT JOIN pg_cast c ON c.castsource = e.s AND c.casttarget = e.d"
        ).format(sql.Literal(old_type), sql.Literal(new_type))
        try:
            with self._scope() as cur:
                row = cur.execute(query).fetchone()
        except psycopg.Error:
            row = None
        binary, implicit = (bool(row[0]), bool(row[1])) if row else (False, False)
        return CastCheck(possible=True, error=None, binary=binary, implicit=implicit)

    def cast_failures(
        self, table: str, column: str, old_type: str, new_type: str
    ) -> CastOutcome | None:
        """How the column's values fare under ``col::new_type`` (small tables only): how many
        fail, and how many convert but do not convert back to the same value (rounded,
        truncated, reformatted).

        Each value goes through a throw-away PL/pgSQL function that catches the error, so
        one bad value does not hide the others; the function vanishes with the savepoint.
        """
        if not self._small(table):
            return None
        self._probe += 1
        func = sql.Identifier("pg_temp", f"sb_cast_probe_{self._probe}")
        old, new = sql.SQL(old_type), sql.SQL(new_type)
        col = self._col(table, column)
        try:
            with self._scope(read_only=False) as cur:
                cur.execute(
                    sql.SQL(
                        "CREATE FUNCTION {func}(v {old}) RETURNS integer LANGUAGE plpgsql AS $sb$ "
                        "DECLARE r {new}; "
                        "BEGIN "
                        "  BEGIN r := v::{new}; EXCEPTION WHEN others THEN RETURN 1; END; "
                        "  BEGIN IF r::{old} IS DISTINCT FROM v THEN RETURN 2; END IF; "
                        "  EXCEPTION WHEN others THEN RETURN 0; END; "
                        "  RETURN 0; "
                        "END $sb$"
                    ).format(func=func, old=old, new=new)
                )
                with self._scope() as inner:  # the count over live rows: READ ONLY
                    row = inner.execute(
                        sql.SQL(
                            "SELECT count(*) FILTER (WHERE o = 1), count(*) FILTER (WHERE o = 2) "
                            "FROM (SELECT {}({}) AS o FROM {} WHERE {} IS NOT NULL) AS probe"
                        ).format(func, col, self._table(table), col)
                    ).fetchone()
        except psycopg.Error:
            return None
        return CastOutcome(failing=int(row[0]), changed=int(row[1])) if row else None

    def default_rewrites(self, type_: str, default: str) -> bool:
        """True when adding a column with this default rewrites the table (volatile default).

        Asked of the server itself: a throw-away temporary table gets the column, and a
        non-volatile default is stored as the "missing value" instead of being written. The
        answer depends on the type and the default only: asked once per plan.
        """
        key = (type_, default)
        if key not in self._rewrites:
            self._rewrites[key] = self._default_rewrites(type_, default)
        return self._rewrites[key]

    def _default_rewrites(self, type_: str, default: str) -> bool:
        self._probe += 1
        probe = sql.Identifier(f"sb_default_probe_{self._probe}")
        try:
            # A temporary table, empty: the default is evaluated at most once, on no live row.
            with self._scope(read_only=False) as cur:
                cur.execute(sql.SQL("CREATE TEMPORARY TABLE {} (x integer)").format(probe))
                cur.execute(
                    sql.SQL("ALTER TABLE {} ADD COLUMN c {} DEFAULT {}").format(
                        probe,
                        sql.SQL(type_),
                        sql.SQL(default),
                    )
                )
                row = cur.execute(
                    "SELECT atthasmissing FROM pg_attribute "
                    "WHERE attrelid = %s::regclass AND attname = 'c'",
                    [probe.as_string(self.conn)],
                ).fetchone()
                return not (row and row[0])
        except psycopg.Error:
            return True

    def dependents(self, table: str, column: str | None) -> list[str]:
        """Views, foreign keys and policies outside the plan's tables that use ``table`` (or
        its ``column``): PostgreSQL refuses to drop or retype what they use."""
        name = self._qualified(table)
        live_column = self.renames.live_column(table, column) if column else None
        known = self._dependents.get(name)
        if known is not None:
            # The same rows dependents.sql gives: its DISTINCT, in its order (the server's).
            rows = list(
                dict.fromkeys(
                    (description, owner, owner_schema)
                    for on_column, description, owner, owner_schema in known
                    if live_column is None or on_column == live_column
                )
            )
        else:
            try:
                with self._scope() as cur:
                    rows = cur.execute(
                        catalog_query("dependents"), {"table": name, "column": live_column}
                    ).fetchall()
            except psycopg.Error:
                return []
        inside = self.live_tables or frozenset()
        return [
            str(description)
            for description, owner, owner_schema in rows
            if not (owner_schema == self.schema and owner in inside)
        ]

    def lock_capacity(self) -> int | None:
        """The server's lock table: max_locks_per_transaction * (connections + prepared)."""
        value = self._scalar(
            sql.Composed(
                [
                    sql.SQL(
                        "SELECT current_setting('max_locks_per_transaction')::bigint * "
                        "(current_setting('max_connections')::bigint + "
                        "current_setting('max_prepared_transactions')::bigint)"
                    )
                ]
            )
        )
        return int(value) if value is not None else None

    def _int(self, query: sql.Composed) -> int | None:
        value = self._scalar(query)
        return int(value) if value is not None else None


def _count_batches(tables: Sequence[tuple[str, int]]) -> Iterator[list[tuple[str, int]]]:
    """(table, bytes) in batches for one count query each (see COUNT_BATCH_TABLES)."""
    batch: list[tuple[str, int]] = []
    size = 0
    for table, table_bytes in sorted(tables, key=lambda item: item[1]):
        if batch and (len(batch) >= COUNT_BATCH_TABLES or size + table_bytes > SMALL_TABLE_BYTES):
            yield batch
            batch, size = [], 0
        batch.append((table, table_bytes))
        size += table_bytes
    if batch:
        yield batch


def _message(exc: psycopg.Error) -> str:
    return safe_message(exc)

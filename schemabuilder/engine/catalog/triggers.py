"""Live triggers: what ``pg_trigger`` holds for the plan's tables, as frozen values.

``tgtype``'s bits give the timing, the events and the level; ``tgattr`` the UPDATE OF columns;
``tgargs`` the arguments; the WHEN condition is the part of ``pg_get_triggerdef`` between
``WHEN (`` and its closing parenthesis, printed with the search_path set to the schema (so a
scratch copy of the trigger prints the same). Only the catalog is read.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from schemabuilder.engine.catalog.introspect import catalog_query

# tgtype's bits (PostgreSQL's TRIGGER_TYPE_*)
_ROW, _BEFORE, _INSERT, _DELETE, _UPDATE, _TRUNCATE, _INSTEAD = 1, 2, 4, 8, 16, 32, 64
_EVENT_BITS = (
    ("INSERT", _INSERT),
    ("DELETE", _DELETE),
    ("UPDATE", _UPDATE),
    ("TRUNCATE", _TRUNCATE),
)


@dataclass(frozen=True)
class Trigger:
    """One trigger as a plan compares it; ``function`` is ``schema.name`` (unquoted parts).

    ``columns`` (UPDATE OF) are sorted: their order changes nothing. ``definition`` is
    ``pg_get_triggerdef``, for people; ``depends_on`` the columns the trigger uses.
    """

    name: str
    timing: str  # BEFORE | AFTER | INSTEAD OF
    events: tuple[str, ...]
    level: str  # ROW | STATEMENT
    function: str
    columns: tuple[str, ...] = ()
    when: str | None = None
    arguments: tuple[str, ...] = ()
    definition: str = field(default="", compare=False)
    # The blueprint's own text of ``when`` (what a plan writes), when it has one.
    when_source: str | None = field(default=None, compare=False)
    depends_on: tuple[str, ...] = field(default=(), compare=False)

    @property
    def function_schema(self) -> str:
        return self.function.partition(".")[0]

    @property
    def function_name(self) -> str:
        return self.function.partition(".")[2]


@dataclass(frozen=True)
class LiveTriggers:
    """Per live table, its triggers by name; and the constraint triggers, which no blueprint
    says (``CREATE CONSTRAINT TRIGGER``), as (table, name)."""

    tables: dict[str, dict[str, Trigger]]
    constraint_triggers: tuple[tuple[str, str], ...] = ()

    def of(self, table: str) -> dict[str, Trigger]:
        return self.tables.get(table, {})


def when_of(definition: str) -> str | None:
    """The WHEN condition in ``pg_get_triggerdef``'s text, without its parentheses."""
    start = definition.find(" WHEN (")
    if start < 0:
        return None
    i = start + len(" WHEN (")
    depth, quote = 1, ""
    for j in range(i, len(definition)):
        char = definition[j]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return definition[i:j]
    return None


def _arguments(raw: bytes | None, count: int) -> tuple[str, ...]:
    if not raw or not count:
        return ()
    parts = bytes(raw).split(b"\x00")
    return tuple(p.decode() for p in parts[:count])


def trigger_of(row: dict[str, Any]) -> Trigger:
    """One row of ``sql/triggers.sql`` as a ``Trigger``."""
    bits: int = row["type"]
    timing = "INSTEAD OF" if bits & _INSTEAD else "BEFORE" if bits & _BEFORE else "AFTER"
    return Trigger(
        name=row["name"],
        timing=timing,
        events=tuple(name for name, bit in _EVENT_BITS if bits & bit),
        level="ROW" if bits & _ROW else "STATEMENT",
        function=f"{row['function_schema']}.{row['function']}",
        columns=tuple(sorted(row["columns"])),
        when=when_of(row["definition"]) if row["has_when"] else None,
        arguments=_arguments(row["args"], row["nargs"]),
        definition=row["definition"],
        depends_on=tuple(row["depends_on"]),
    )


def read_triggers(
    conn: psycopg.Connection[Any],
    schema: str,
    tables: Collection[str],
    *,
    search_path: Sequence[str] = (),
) -> LiveTriggers:
    """The triggers of the tables of ``schema`` named in ``tables`` that exist.
    ``search_path`` adds schemas after ``schema`` (a scratch schema passes the live one)."""
    if not tables:
        return LiveTriggers({})
    out: dict[str, dict[str, Trigger]] = {}
    constraint: list[tuple[str, str]] = []
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        previous = cur.execute("SELECT current_setting('search_path') AS path").fetchone()
        # WHEN prints relative to the search_path: the schema's own names bare.
        cur.execute(
            sql.SQL("SELECT set_config('search_path', {}, true)").format(
                sql.Literal(
                    sql.SQL(", ")
                    .join(sql.Identifier(s) for s in (schema, *search_path))
                    .as_string(conn)
                )
            )
        )
        rows = cur.execute(
            catalog_query("triggers"), {"schema": schema, "tables": sorted(tables)}
        ).fetchall()
        # SET LOCAL would outlive this call within the caller's transaction: restore it.
        if previous is not None:
            cur.execute("SELECT set_config('search_path', %s, true)", [previous["path"]])
    for row in rows:
        if row["is_constraint"]:
            constraint.append((row["table"], row["name"]))
            continue
        out.setdefault(row["table"], {})[row["name"]] = trigger_of(row)
    return LiveTriggers(out, tuple(constraint))


_FUNCTIONS = """
SELECT n.nspname, p.proname, p.prorettype = 'pg_catalog.trigger'::regtype AS returns_trigger,
       l.lanname, p.prosrc, coalesce(array_to_string(p.proconfig, ','), '') AS config
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE (n.nspname, p.proname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
  AND p.pronargs = 0 AND p.prokind = 'f'
"""


@dataclass(frozen=True)
class LiveFunction:
    """A function without arguments, as a trigger would execute it."""

    schema: str
    name: str
    returns_trigger: bool
    language: str
    body: str
    config: str  # proconfig, comma separated: "search_path=''"


def trigger_functions(
    conn: psycopg.Connection[Any], names: Collection[tuple[str, str]]
) -> dict[tuple[str, str], LiveFunction]:
    """(schema, name) -> the function without arguments of that name, for those that exist."""
    if not names:
        return {}
    wanted = sorted(set(names))
    rows = conn.execute(_FUNCTIONS, [[s for s, _ in wanted], [n for _, n in wanted]]).fetchall()
    return {(r[0], r[1]): LiveFunction(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows}

"""The enum types of one schema, with their values in their order (``enumsortorder``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

_QUERY = """
SELECT t.typname AS name,
       array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values,
       pg_catalog.obj_description(t.oid, 'pg_type') AS comment
  FROM pg_catalog.pg_type t
  JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
  JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
 WHERE n.nspname = %(schema)s AND t.typtype = 'e'
 GROUP BY t.oid, t.typname
 ORDER BY t.typname
"""

# Columns of tables (in any schema) whose type is the enum or an array of it.
_USERS = """
SELECT cn.nspname AS schema_name, c.relname AS table_name, a.attname AS column_name,
       t.typname AS type_name,
       (a.atttypid <> t.oid) AS is_array,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default
  FROM pg_catalog.pg_type t
  JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
  JOIN pg_catalog.pg_attribute a ON a.atttypid IN (t.oid, t.typarray)
  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p')
  JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace
  LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE n.nspname = %(schema)s AND t.typname = ANY(%(names)s)
   AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY cn.nspname, c.relname, a.attnum
"""


@dataclass(frozen=True)
class LiveEnum:
    name: str
    values: tuple[str, ...]
    comment: str | None = None


@dataclass(frozen=True)
class EnumUse:
    """A column whose type is an enum of the schema (or an array of it)."""

    schema: str
    table: str
    column: str
    type_name: str
    is_array: bool
    default: str | None


def live_enums(conn: psycopg.Connection[Any], schema: str) -> dict[str, LiveEnum]:
    """The schema's enum types by name."""
    rows = conn.execute(_QUERY, {"schema": schema}).fetchall()
    return {r[0]: LiveEnum(r[0], tuple(r[1]), r[2]) for r in rows}


def enum_uses(conn: psycopg.Connection[Any], schema: str, names: list[str]) -> list[EnumUse]:
    """Every column of a table (in any schema) typed with one of ``names`` of ``schema``."""
    if not names:
        return []
    rows = conn.execute(_USERS, {"schema": schema, "names": names}).fetchall()
    return [EnumUse(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows]

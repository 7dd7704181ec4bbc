"""Fingerprints: one digest per table of the catalog rows that describe it, so that equal
fingerprints mean an unchanged table (see ``sql/fingerprint.sql``), and one more for what a
plan manages in the schema besides tables (``sql/fingerprint_schema.sql``: enum types and
default privileges), under ``SCHEMA_OBJECTS``."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import psycopg

from schemabuilder.engine.catalog.introspect import catalog_query

# The key of the schema's own objects: no table can be called so (a table name of a
# blueprint or of the managed ones is an identifier, never in parentheses).
SCHEMA_OBJECTS = "(types and default privileges)"


def fingerprints(
    conn: psycopg.Connection[Any], schema: str, tables: Collection[str]
) -> dict[str, str]:
    """One md5 per existing table among ``tables``, and one under ``SCHEMA_OBJECTS`` for the
    schema's enum types and default privileges: equal fingerprints, nothing changed (see
    sql/fingerprint.sql)."""
    rows = conn.execute(
        catalog_query("fingerprint"), {"schema": schema, "tables": sorted(tables)}
    ).fetchall()
    prints = {str(name): str(fp) for name, fp in rows}
    row = conn.execute(catalog_query("fingerprint_schema"), {"schema": schema}).fetchone()
    if row is not None:
        prints[SCHEMA_OBJECTS] = str(row[0])
    return prints

"""Fingerprints: one digest per table of the catalog rows that describe it, so that equal
fingerprints mean an unchanged table (see ``sql/fingerprint.sql``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import psycopg

from schemabuilder.engine.catalog.introspect import catalog_query


def fingerprints(
    conn: psycopg.Connection[Any], schema: str, tables: Collection[str]
) -> dict[str, str]:
    """One md5 per existing table among ``tables``: equal fingerprints, unchanged table (see
    sql/fingerprint.sql)."""
    rows = conn.execute(
        catalog_query("fingerprint"), {"schema": schema, "tables": sorted(tables)}
    ).fetchall()
    return {str(name): str(fp) for name, fp in rows}

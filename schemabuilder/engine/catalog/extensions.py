"""Extensions as the server knows them: those it could install (``sql/extensions.sql``) and
those installed in a schema."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import psycopg

from schemabuilder.engine.catalog.introspect import catalog_query


@dataclass(frozen=True)
class ServerExtension:
    """An extension the server has: its default version, whether a role that is not a
    superuser may install it, and whether it is installed (in any schema)."""

    name: str
    version: str | None
    trusted: bool
    installed: bool


def server_extensions(
    conn: psycopg.Connection[Any], names: Collection[str]
) -> dict[str, ServerExtension]:
    """The extensions among ``names`` the server has, by name."""
    rows = conn.execute(catalog_query("extensions"), {"names": sorted(names)}).fetchall()
    return {r[0]: ServerExtension(r[0], r[1], bool(r[2]), bool(r[3])) for r in rows}


def installed_in(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    """The extensions installed in ``schema``, by name."""
    rows = conn.execute(
        "SELECT e.extname FROM pg_catalog.pg_extension e"
        " JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
        " WHERE n.nspname = %s ORDER BY 1",
        [schema],
    ).fetchall()
    return [str(r[0]) for r in rows]


def is_superuser(conn: psycopg.Connection[Any]) -> bool:
    """True when the connection's role is a superuser."""
    row = conn.execute(
        "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user"
    ).fetchone()
    return bool(row and row[0])

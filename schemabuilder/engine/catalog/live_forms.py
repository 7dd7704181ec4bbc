"""Live tables remembered by their catalog fingerprint, so a plan introspects only the tables
that changed since the last time it (or an apply) looked.

Introspecting 1,000 tables costs about a second, mostly PostgreSQL deparsing defaults,
constraints and indexes; a fingerprint of the same tables (``sql/fingerprint.sql``: the row
versions of every catalog row that describes a table) costs a few milliseconds. A table's
printed form is stored in the canonical-form cache under a key made of:

- its fingerprint, which moves with any DDL on the table;
- its dependencies (``sql/fingerprint_dependencies.sql``): the tables and columns its
  foreign keys name, the sequences its defaults use, the roles and relations of its
  policies, whose renames change how the table prints;
- the environment (``sql/environment.sql``): the server (and its start time), the database,
  and the row versions of every type, function, operator, operator class, collation and
  schema outside the system schemas;
- the schema and table name, the server version and this module's format.

Any change to any of them is a different key, so a remembered form is used only for a
table whose every input is as it was when it was printed; the cost of a false alarm is one
introspection. Keys are computed inside the caller's transaction, so an apply can remember
what it verified: its own uncommitted row versions are in the key, and if it rolls back,
those versions never appear again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from typing import Any

import psycopg

from schemabuilder.engine.catalog.introspect import catalog_query, introspect
from schemabuilder.engine.catalog.snapshot import Snapshot, Table
from schemabuilder.engine.desired.cache import CANONICAL_FORM_VERSION, CanonicalCache, CanonicalKey

# Derived from the sources (see cache.CANONICAL_FORM_VERSION), never bumped by hand.
LIVE_FORM_VERSION = CANONICAL_FORM_VERSION


def form_context(conn: psycopg.Connection[Any], schema: str) -> str:
    """What a desired form depends on besides its definition, as one digest: the server (its
    full version and start time), the database, the schema, and the types, functions, roles
    and extensions there (``sql/environment.sql``). Forms are cached under it, so a form
    learned on one target (or before a type or role went away) is never taken for another."""
    row = conn.execute(catalog_query("environment")).fetchone()
    material = "|".join((str(conn.info.server_version), str(row[0]) if row else "", schema))
    return hashlib.sha256(material.encode()).hexdigest()


def live_keys(
    conn: psycopg.Connection[Any], schema: str, tables: Collection[str]
) -> dict[str, CanonicalKey]:
    """The memo key of every existing table among ``tables`` (three cheap catalog queries)."""
    if not tables:
        return {}
    params = {"schema": schema, "tables": sorted(tables)}
    with conn.transaction():
        # As in introspect(): the catalog's estimates for ANY(names) are poor, and on a large
        # schema the planner would JIT-compile these millisecond queries for seconds.
        jit = conn.execute("SELECT current_setting('jit'), set_config('jit', 'off', true)")
        previous = jit.fetchone()
        own = dict(conn.execute(catalog_query("fingerprint"), params).fetchall())
        deps = dict(conn.execute(catalog_query("fingerprint_dependencies"), params).fetchall())
        row = conn.execute(catalog_query("environment")).fetchone()
        if previous is not None:
            conn.execute("SELECT set_config('jit', %s, true)", [previous[0]])
    environment = str(row[0]) if row else ""
    version = conn.info.server_version
    keys: dict[str, CanonicalKey] = {}
    for name, fingerprint in own.items():
        material = "|".join(
            (
                f"live-form:{LIVE_FORM_VERSION}",
                str(version),
                environment,
                schema,
                str(name),
                str(fingerprint),
                str(deps.get(name, "")),
            )
        )
        digest = hashlib.sha256(material.encode()).hexdigest()
        keys[str(name)] = CanonicalKey(digest, version // 10000)
    return keys


def introspect_remembered(
    conn: psycopg.Connection[Any],
    schema: str,
    tables: Collection[str],
    cache: CanonicalCache | None,
) -> Snapshot:
    """``introspect(conn, schema, tables=tables)``, reading unchanged tables from ``cache``
    and remembering the others there."""
    if cache is None:
        return introspect(conn, schema, tables=tables)
    keys = live_keys(conn, schema, tables)
    known = cache.get_many(set(keys.values())) if keys else {}
    remembered = [t for name, key in keys.items() if (t := known.get(key)) is not None]
    fresh = introspect(conn, schema, tables=set(keys) - {t.name for t in remembered})
    if fresh.tables:
        cache.put_many({keys[t.name]: t for t in fresh.tables if t.name in keys})
    return Snapshot(schema=schema, tables=(*remembered, *fresh.tables), all_tables=fresh.all_tables)


def remember(cache: CanonicalCache, keys: Mapping[str, CanonicalKey], snapshot: Snapshot) -> None:
    """Store the tables of ``snapshot`` under ``keys`` (from ``live_keys``, taken in the same
    transaction as the snapshot)."""
    entries: dict[CanonicalKey, Table] = {
        keys[t.name]: t for t in snapshot.tables if t.name in keys
    }
    if entries:
        cache.put_many(entries)

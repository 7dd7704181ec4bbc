"""The role a target connects as: what it needs, how the demo makes one, and how to tell a
role that can do more than it should.

A target role needs exactly this (README, "Target roles"): LOGIN; ownership of its own schema
(or CREATE and the privileges its changes need there); CREATE on its database, for the
``schemabuilder`` marker schema and the planning's scratch schemas (created and rolled back);
no SUPERUSER, no BYPASSRLS, and no USAGE on other tenants' schemas.

``role_warnings`` runs three catalog queries on a target connection: cheap enough for
``/healthz`` and the tenant page, which also cache its answer briefly.

Free of Django: the launcher calls ``provision`` before Django is configured.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

# Schemas every role may see without it meaning anything: the catalogs, the toast and temp
# schemas (matched by prefix below), and ``public`` (USAGE for everyone by default).
SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "public"})
SYSTEM_PREFIXES = ("pg_toast", "pg_temp_")
# Ours on every target: the commit marker's schema and the planning's scratch schemas.
OWN_PREFIXES = ("sb_scratch_",)
MARKER_SCHEMA = "schemabuilder"

# Hand every object in the role's schemas to the role, so that a target database created by a
# superuser (an earlier demo run) keeps working under the new role. Tables carry their indexes
# and identity sequences with them; other sequences, types and routines go one by one.
_REASSIGN = """
DO $$
DECLARE
  r record;
  role_name text := {role};
  schemas text[] := {schemas};
BEGIN
  FOR r IN SELECT c.oid::regclass AS rel, c.relkind FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = ANY(schemas) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
             AND pg_get_userbyid(c.relowner) <> role_name
             AND NOT (c.relkind = 'S' AND EXISTS (
               SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO %I',
      CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                     WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
      r.rel, role_name);
  END LOOP;
  FOR r IN SELECT t.oid::regtype AS typ, t.typtype FROM pg_type t
           JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname = ANY(schemas) AND t.typtype IN ('e', 'd', 'r')
             AND pg_get_userbyid(t.typowner) <> role_name
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO %I',
      CASE r.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, r.typ, role_name);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = ANY(schemas) AND pg_get_userbyid(p.proowner) <> role_name
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO %I', r.fn, role_name);
  END LOOP;
END $$
"""


def provision(
    admin_url: str, database: str, role: str, schema: str, *, password: str | None = None
) -> None:
    """Make ``role`` a proper target role of ``schema`` in ``database`` (idempotent).

    ``admin_url`` reaches ``database`` as a role that may create roles (a superuser).
    """
    ident = sql.Identifier(role)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
        conn.execute(
            sql.SQL(
                "ALTER ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION"
            ).format(ident)
        )
        if password is not None:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident, sql.Literal(password)))
        conn.execute(
            sql.SQL("GRANT CONNECT, CREATE, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(database), ident
            )
        )
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        schemas = [schema]
        if conn.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", [MARKER_SCHEMA]
        ).fetchone():
            schemas.append(MARKER_SCHEMA)
        for name in schemas:
            conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(sql.Identifier(name), ident))
        # Literals, not parameters: a DO block takes none.
        conn.execute(
            sql.SQL(_REASSIGN).format(role=sql.Literal(role), schemas=sql.Literal(schemas))
        )


def role_warnings(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    """What the connection's role may do beyond a target role's needs, in plain words (empty
    when nothing): superuser, BYPASSRLS, USAGE on schemas other than its own."""
    row = conn.execute(
        "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    warnings: list[str] = []
    if row is None:
        return warnings
    if row[1]:
        warnings.append(
            "connects as a superuser: it can read and change every tenant's data and switch "
            "off any safeguard; give the target a role of its own (README, Target roles)"
        )
    if row[2]:
        warnings.append("connects with BYPASSRLS: row-level security does not apply to it")
    if not row[1]:  # a superuser sees everything anyway: said above
        others = [
            name
            for (name,) in conn.execute(
                "SELECT nspname FROM pg_namespace"
                " WHERE has_schema_privilege(oid, 'USAGE') ORDER BY nspname"
            ).fetchall()
            if name not in SYSTEM_SCHEMAS
            and name not in (schema, MARKER_SCHEMA)
            and not name.startswith(SYSTEM_PREFIXES + OWN_PREFIXES)
        ]
        if others:
            # How many, not which: the names may be other tenants'.
            warnings.append(
                f"can use {len(others)} schema{'s' if len(others) != 1 else ''} outside its "
                "own (USAGE): revoke it, they may hold other tenants' data"
            )
    return warnings

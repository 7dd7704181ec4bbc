"""Live grants: who holds which privilege on the plan's tables, and the default privileges
the applying role gives to what it creates in the target schema.

Read from ``pg_class.relacl`` and ``pg_default_acl`` through ``aclexplode``. The owner's own
privileges are left out: PostgreSQL gives them implicitly and the plan never manages them.
A role that no longer exists shows as its oid; PUBLIC shows as ``public``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import psycopg

Privileges = dict[str, frozenset[str]]  # role -> privileges

# pg_default_acl.defaclobjtype per kind of object.
OBJECT_TYPES = {"tables": "r", "sequences": "S", "functions": "f"}

_TABLE_GRANTS = """
SELECT c.relname, coalesce(r.rolname, a.grantee::text) AS grantee, a.privilege_type
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
LEFT JOIN pg_roles r ON r.oid = a.grantee
WHERE n.nspname = %s AND c.relname = ANY(%s) AND c.relkind IN ('r', 'p')
  AND a.grantee <> c.relowner
"""

# What a table (a sequence) created now gets: the role's schema-wide defaults when it has them, else
# PostgreSQL's built-in ones (only the owner's), plus the defaults for this very schema.
_NEW_OBJECT_GRANTS = """
WITH me AS (SELECT oid FROM pg_roles WHERE rolname = current_user),
global AS (
  SELECT coalesce(
    (SELECT d.defaclacl FROM pg_default_acl d, me
     WHERE d.defaclrole = me.oid AND d.defaclnamespace = 0 AND d.defaclobjtype = {objtype}),
    acldefault({acltype}, (SELECT oid FROM me))) AS acl
),
here AS (
  SELECT d.defaclacl AS acl FROM pg_default_acl d
  JOIN pg_namespace n ON n.oid = d.defaclnamespace, me
  WHERE d.defaclrole = me.oid AND n.nspname = %s AND d.defaclobjtype = {objtype}
)
SELECT coalesce(r.rolname, a.grantee::text), a.privilege_type
FROM (SELECT acl FROM global UNION ALL SELECT acl FROM here) acls
CROSS JOIN LATERAL aclexplode(acls.acl) a
LEFT JOIN pg_roles r ON r.oid = a.grantee
WHERE a.grantee <> (SELECT oid FROM me)
"""

_DEFAULT_PRIVILEGES = """
SELECT d.defaclobjtype::text, coalesce(r.rolname, a.grantee::text), a.privilege_type
FROM pg_default_acl d
JOIN pg_namespace n ON n.oid = d.defaclnamespace
CROSS JOIN LATERAL aclexplode(d.defaclacl) a
LEFT JOIN pg_roles r ON r.oid = a.grantee
WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)
  AND n.nspname = %s AND a.grantee <> d.defaclrole
"""


def _grantee(name: str) -> str:
    return "public" if name == "0" else name


def _collect(rows: list[tuple[Any, ...]]) -> dict[str, Privileges]:
    out: dict[str, dict[str, set[str]]] = {}
    for key, role, privilege in rows:
        out.setdefault(key, {}).setdefault(_grantee(role), set()).add(privilege)
    return {k: {r: frozenset(p) for r, p in v.items()} for k, v in out.items()}


def table_grants(
    conn: psycopg.Connection[Any], schema: str, tables: Collection[str]
) -> dict[str, Privileges]:
    """Live table name -> role -> privileges, for the tables of ``tables`` that exist."""
    if not tables:
        return {}
    rows = conn.execute(_TABLE_GRANTS, [schema, sorted(tables)]).fetchall()
    return _collect(rows)


def new_table_grants(conn: psycopg.Connection[Any], schema: str) -> Privileges:
    """Role -> privileges that a table this connection creates in ``schema`` starts with."""
    query = _NEW_OBJECT_GRANTS.format(objtype="'r'", acltype="'r'")
    rows = conn.execute(query, [schema]).fetchall()
    return _collect([("", role, privilege) for role, privilege in rows]).get("", {})


def default_privileges(conn: psycopg.Connection[Any], schema: str) -> dict[str, Privileges]:
    """``tables``/``sequences``/``functions`` -> role -> privileges that what the current
    role creates in ``schema`` gets by this schema's default privileges."""
    kinds = {code: kind for kind, code in OBJECT_TYPES.items()}
    rows = conn.execute(_DEFAULT_PRIVILEGES, [schema]).fetchall()
    return _collect([(kinds[t], role, p) for t, role, p in rows if t in kinds])


def missing_roles(conn: psycopg.Connection[Any], roles: Collection[str]) -> set[str]:
    """The roles of ``roles`` (``public`` aside) that do not exist on the server."""
    wanted = sorted(set(roles) - {"public"})
    if not wanted:
        return set()
    rows = conn.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [wanted]).fetchall()
    return set(wanted) - {r[0] for r in rows}


# The sequences owned by the tables' columns (serial: 'a', identity: 'i'), with their grants.
_OWNED_SEQUENCES = """
SELECT t.relname, att.attname, s.relname, coalesce(r.rolname, a.grantee::text), a.privilege_type
FROM pg_depend d
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_attribute att ON att.attrelid = t.oid AND att.attnum = d.refobjsubid
LEFT JOIN LATERAL aclexplode(coalesce(s.relacl, acldefault('s', s.relowner))) a
  ON a.grantee <> s.relowner
LEFT JOIN pg_roles r ON r.oid = a.grantee
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
  AND d.deptype IN ('a', 'i') AND n.nspname = %s AND t.relname = ANY(%s)
"""


def owned_sequences(
    conn: psycopg.Connection[Any], schema: str, tables: Collection[str]
) -> dict[tuple[str, str], tuple[str, Privileges]]:
    """(live table, column) -> (its sequence, role -> privileges on it)."""
    if not tables:
        return {}
    found: dict[tuple[str, str], tuple[str, dict[str, set[str]]]] = {}
    for table, column, sequence, role, privilege in conn.execute(
        _OWNED_SEQUENCES, [schema, sorted(tables)]
    ):
        _, held = found.setdefault((table, column), (sequence, {}))
        if role is not None:
            held.setdefault(_grantee(role), set()).add(privilege)
    return {
        key: (seq, {r: frozenset(p) for r, p in held.items()}) for key, (seq, held) in found.items()
    }


def new_sequence_grants(conn: psycopg.Connection[Any], schema: str) -> Privileges:
    """Role -> privileges that a sequence this connection creates in ``schema`` starts with."""
    query = _NEW_OBJECT_GRANTS.format(objtype="'S'", acltype="'s'")
    rows = conn.execute(query, [schema]).fetchall()
    return _collect([("", role, privilege) for role, privilege in rows]).get("", {})


def taken_names(conn: psycopg.Connection[Any], schema: str, names: Collection[str]) -> set[str]:
    """The names of ``names`` that a relation of ``schema`` has already."""
    if not names:
        return set()
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = ANY(%s)",
        [schema, sorted(names)],
    ).fetchall()
    return {r[0] for r in rows}

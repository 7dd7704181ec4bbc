"""Grants as a blueprint says them: each table's ``grants`` and ``sequence_grants`` exactly as
its live ACL holds them, and the schema's ``default_privileges`` of the importing role.

A list the plan manages must be whole: a grant missing from it would be revoked by the next
plan. So a table whose ACL names a role a blueprint cannot spell has its grants left alone
(no ``grants`` key) and listed; what the plan never manages (the owner's own privileges, the
grant option, column grants, other roles' default privileges) is listed and does not stop
the rest. A NULL ACL (PostgreSQL's built-in one) is not written either: the table keeps
whatever it has, which is what it has now.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from schemabuilder.engine.catalog.introspect import catalog_query
from schemabuilder.engine.contract.idents import name_problem
from schemabuilder.engine.contract.privileges import OBJECT_PRIVILEGES
from schemabuilder.engine.diff.grants import all_privileges
from schemabuilder.engine.importer.left_out import LeftOut

# pg_default_acl.defaclobjtype -> the blueprint's ``on``
_DEFAULT_KINDS = {"r": "tables", "S": "sequences", "f": "functions"}
_UNSAID_DEFAULT_KINDS = {"T": "types", "n": "schemas", "L": "large objects"}


@dataclass(frozen=True)
class AclRow:
    """One row of ``sql/acls.sql``."""

    what: str
    owner: str
    table: str | None
    object: str | None
    grantee: str | None
    privilege: str | None
    grantable: bool | None
    acl_set: bool


@dataclass
class Access:
    """Per table its ``grants`` and ``sequence_grants`` (only where the blueprint manages
    them), the schema's ``default_privileges`` (None: left alone) and what was left out."""

    grants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sequence_grants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    default_privileges: list[dict[str, Any]] | None = None
    left_out: list[LeftOut] = field(default_factory=list)


def _role(grantee: str) -> str:
    return "public" if grantee == "0" else grantee


def _spelled(role: str) -> bool:
    """True when a blueprint's role (folded to lower case) names exactly ``role``."""
    return role == "public" or (name_problem(role) is None and role.lower() == role)


def _privileges(held: Iterable[str], on: str, server_version: int) -> list[str]:
    """``held`` in PostgreSQL's order, or ``ALL`` when it is everything this server has (a
    kind with one privilege, EXECUTE, is written as that privilege)."""
    held = set(held)
    if len(OBJECT_PRIVILEGES[on]) > 1 and held == all_privileges(on, server_version):
        return ["ALL"]
    return [p for p in OBJECT_PRIVILEGES[on] if p in held]


def _by_role(rows: Sequence[AclRow]) -> dict[str, set[str]]:
    """Role -> privileges, the owner's own aside (PostgreSQL gives them; no plan touches them)."""
    out: dict[str, set[str]] = {}
    for row in rows:
        if row.grantee is None or row.privilege is None:
            continue
        role = _role(row.grantee)
        if role != row.owner:
            out.setdefault(role, set()).add(row.privilege)
    return out


def _unsaid(
    rows: Sequence[AclRow], on: str, name: str, table: str | None, server_version: int
) -> list[LeftOut]:
    """What the rows (of the object ``name``) hold that a blueprint cannot say but the plan
    leaves alone: the grant option, and an owner who gave up some of its own privileges."""
    out = []
    options: dict[str, set[str]] = {}
    owner_holds: set[str] = set()
    owner = rows[0].owner if rows else ""
    for row in rows:
        if row.grantee is None or row.privilege is None:
            continue
        role = _role(row.grantee)
        if role == row.owner:
            owner_holds.add(row.privilege)
        elif row.grantable:
            options.setdefault(role, set()).add(row.privilege)
    for role, privileges in sorted(options.items()):
        listed = ", ".join(_privileges(privileges, on, server_version))
        out.append(
            LeftOut(
                "grant option",
                f"{role} on {name}",
                table,
                f"{listed} WITH GRANT OPTION: a blueprint grants without it",
            )
        )
    owns = rows and rows[0].what != "default"  # a default's owner holds no privilege in it
    if owns and rows[0].acl_set and owner_holds != all_privileges(on, server_version):
        kept = ", ".join(_privileges(owner_holds, on, server_version)) or "nothing"
        out.append(
            LeftOut(
                "owner privileges",
                f"{owner} on {name}",
                table,
                f"the owner holds {kept} of its own: a blueprint never revokes the owner's",
            )
        )
    return out


def _grants(privileges: dict[str, set[str]], on: str, server_version: int) -> list[dict[str, Any]]:
    return [
        {
            "role": "PUBLIC" if role == "public" else role,
            "privileges": _privileges(held, on, server_version),
        }
        for role, held in sorted(privileges.items())
    ]


def _misspelled(privileges: dict[str, set[str]]) -> list[str]:
    return sorted(r for r in privileges if not _spelled(r))


def _table_grants(access: Access, table: str, rows: list[AclRow], version: int) -> None:
    held = _by_role(rows)
    access.left_out += _unsaid(rows, "tables", table, table, version)
    if bad := _misspelled(held):
        access.left_out.append(
            LeftOut(
                "grant",
                table,
                table,
                f"granted to {', '.join(map(repr, bad))}, a role a "
                "blueprint cannot name (it folds role names to lower case); its grants "
                "are left alone",
            )
        )
        return
    access.grants[table] = _grants(held, "tables", version)


def _sequence_grants(access: Access, table: str, rows: list[AclRow], version: int) -> None:
    """One list for all the sequences the table's columns own: they must agree."""
    sequences: dict[str, list[AclRow]] = {}
    for row in rows:
        sequences.setdefault(row.object or "", []).append(row)
    if not any(r.acl_set for r in rows):
        return
    held = {name: _by_role(seq_rows) for name, seq_rows in sequences.items()}
    for sequence, seq_rows in sequences.items():
        access.left_out += _unsaid(seq_rows, "sequences", sequence, table, version)
    first = next(iter(held.values()))
    why = None
    if any(h != first for h in held.values()):
        why = f"its sequences {', '.join(sorted(held))} hold different grants"
    elif bad := _misspelled(first):
        why = f"granted to {', '.join(map(repr, bad))}, a role a blueprint cannot name"
    if why is not None:
        access.left_out.append(
            LeftOut("sequence grant", table, table, f"{why}; the grants are left alone")
        )
        return
    access.sequence_grants[table] = _grants(first, "sequences", version)


def _defaults(access: Access, rows: list[AclRow], importer: str, version: int) -> None:
    """The importing role's default privileges in the schema; other roles' are listed."""
    mine: list[dict[str, Any]] = []
    unsayable: list[LeftOut] = []
    kinds: dict[tuple[str, str], list[AclRow]] = {}
    for row in rows:
        kinds.setdefault((row.owner, row.object or ""), []).append(row)
    order = list(_DEFAULT_KINDS)
    for (owner, code), kind_rows in sorted(
        kinds.items(), key=lambda k: (k[0][0], order.index(k[0][1]) if k[0][1] in order else 9)
    ):
        on = _DEFAULT_KINDS.get(code)
        held = _by_role(kind_rows)
        if owner != importer or on is None:
            kind = on or _UNSAID_DEFAULT_KINDS.get(code, code)
            what = (
                "; ".join(f"{', '.join(sorted(p))} to {r}" for r, p in sorted(held.items()))
                or "nothing"
            )
            why = (
                f"what {owner} creates grants {what}: a blueprint says only the applying "
                f"role's ({importer})"
                if owner != importer
                else f"new {kind} grant {what}: a blueprint says default privileges on "
                "tables, sequences and functions"
            )
            access.left_out.append(LeftOut("default privileges", f"{owner} on {kind}", None, why))
            continue
        access.left_out += [
            LeftOut("default privileges", o.name, None, o.why)
            for o in _unsaid(kind_rows, on, f"new {on}", None, version)
        ]
        if bad := _misspelled(held):
            # Written without them, the plan would revoke them: the defaults are left alone.
            unsayable.append(
                LeftOut(
                    "default privileges",
                    f"{owner} on {on}",
                    None,
                    f"to {', '.join(map(repr, bad))}, a role a blueprint cannot name; the "
                    "schema's default privileges are left alone",
                )
            )
        mine += [
            {"role": g["role"], "on": on, "privileges": g["privileges"]}
            for g in _grants(held, on, version)
        ]
    access.left_out += unsayable
    if not unsayable and any(owner == importer for owner, _ in kinds):
        access.default_privileges = mine


def access_from_rows(
    rows: Sequence[AclRow],
    *,
    importer: str,
    server_version: int,
    tables: Iterable[str] | None = None,
) -> Access:
    """The blueprint's grants from the rows of ``sql/acls.sql``; ``importer`` is the role the
    plan will run as, whose default privileges a blueprint says. With ``tables``, only those
    tables' grants (the schema's default privileges always)."""
    wanted = None if tables is None else set(tables)
    access = Access()
    groups: dict[tuple[str, str], list[AclRow]] = {}
    defaults: list[AclRow] = []
    for row in rows:
        if row.what == "default":
            defaults.append(row)
        elif row.table is not None and (wanted is None or row.table in wanted):
            groups.setdefault((row.what, row.table), []).append(row)
    for (what, table), group in sorted(groups.items()):
        if what == "table":
            _table_grants(access, table, group, server_version)
        elif what == "sequence":
            _sequence_grants(access, table, group, server_version)
        else:
            _column_grants(access, table, group)
    _defaults(access, defaults, importer, server_version)
    return access


def _column_grants(access: Access, table: str, rows: list[AclRow]) -> None:
    columns: dict[str, list[str]] = {}
    for row in rows:
        if row.grantee is not None and row.privilege is not None:
            columns.setdefault(row.object or "", []).append(
                f"{row.privilege} to {_role(row.grantee)}"
            )
    for column, held in sorted(columns.items()):
        access.left_out.append(
            LeftOut(
                "column grant",
                f"{table}.{column}",
                table,
                f"{', '.join(held)}: a blueprint grants on whole tables only",
            )
        )


def read_access(
    conn: psycopg.Connection[Any], schema: str, tables: Iterable[str] | None = None
) -> Access:
    """The grants of ``schema`` (or of some of its tables) as a blueprint says them."""
    rows = conn.execute(catalog_query("acls"), {"schema": schema}).fetchall()
    found = conn.execute("SELECT current_user").fetchone()
    importer = str(found[0]) if found else ""
    return access_from_rows(
        [AclRow(*row) for row in rows],
        importer=importer,
        server_version=conn.info.server_version,
        tables=tables,
    )

"""Hazards of grants: who gains or loses privileges on a table (CHANGES_ACCESS).

A grant that widens access to a role every client can act as (PUBLIC, Supabase's ``anon``,
or ``authenticated``) is reviewed: on a table without row level security, granted to
``anon`` or PUBLIC, every row is open to anyone holding the project's public key, so it is
danger. A revoke can break an application that relied on it, so it is a warning.
"""

from __future__ import annotations

from collections.abc import Collection

from schemabuilder.engine.hazards import Hazard, HazardKind, Severity, rows_text
from schemabuilder.engine.hazards.facts import TableStats

# Roles that anyone reaching the database through the API may act as.
OPEN_ROLES = frozenset({"public", "anon"})
CLIENT_ROLES = OPEN_ROLES | {"authenticated"}


def who(role: str) -> str:
    """How a grantee reads in a message."""
    return "PUBLIC (every role)" if role == "public" else f"role {role}"


def _rows(stats: TableStats | None) -> str:
    return "new, empty" if stats is None else rows_text(stats.rows, stats.exact)


def _numbers(
    role: str, privileges: Collection[str], stats: TableStats | None
) -> dict[str, int | str | bool | None]:
    return {
        "role": role,
        "privileges": ", ".join(privileges),
        "rows": stats.rows if stats is not None else 0,
    }


def grant_widens(
    table: str, role: str, privileges: Collection[str], *, rls: bool, stats: TableStats | None
) -> Hazard:
    """``role`` gains ``privileges`` on ``table``."""
    what = ", ".join(privileges)
    if role in OPEN_ROLES and not rls:
        severity = Severity.DANGER
        tail = "which has no row level security: every row is open to it"
    elif role in CLIENT_ROLES:
        severity = Severity.WARNING
        tail = "row level security still decides which rows" if rls else "no row level security"
    else:
        severity = Severity.INFO
        tail = "row level security decides which rows" if rls else "no row level security"
    return Hazard(
        HazardKind.CHANGES_ACCESS,
        severity,
        f"{who(role)} is granted {what} on {table} ({_rows(stats)}); {tail}",
        table,
        _numbers(role, privileges, stats),
    )


def grant_revoked(
    table: str, role: str, privileges: Collection[str], stats: TableStats | None
) -> Hazard:
    """``role`` loses ``privileges`` on ``table``."""
    what = ", ".join(privileges)
    return Hazard(
        HazardKind.CHANGES_ACCESS,
        Severity.WARNING,
        f"{who(role)} loses {what} on {table} ({_rows(stats)}): its queries that need them "
        "fail with permission denied",
        table,
        _numbers(role, privileges, stats),
    )


def default_changed(
    schema: str, on: str, role: str, privileges: Collection[str], *, granted: bool
) -> Hazard:
    """The default privileges of ``on`` created later in ``schema`` change for ``role``."""
    what = ", ".join(privileges)
    if granted:
        severity = Severity.WARNING if role in CLIENT_ROLES else Severity.INFO
        message = f"{on} created later in {schema} grant {who(role)} {what} from the start"
    else:
        severity = Severity.WARNING
        message = (
            f"{on} created later in {schema} no longer grant {who(role)} {what}: an "
            "application expecting them on new objects gets permission denied"
        )
    return Hazard(
        HazardKind.CHANGES_ACCESS,
        severity,
        message,
        "",
        {"role": role, "privileges": what, "on": on},
    )


def sequence_changed(
    table: str, sequence: str, role: str, privileges: Collection[str], *, granted: bool
) -> Hazard:
    """``role`` gains or loses ``privileges`` on ``sequence``, which ``table`` owns."""
    what = ", ".join(privileges)
    if granted:
        severity = Severity.INFO
        message = f"{who(role)} is granted {what} on {sequence}, the sequence of {table}"
    else:
        severity = Severity.WARNING
        message = (
            f"{who(role)} loses {what} on {sequence}, the sequence of {table}: its inserts "
            "that draw a value from it fail with permission denied"
        )
    return Hazard(
        HazardKind.CHANGES_ACCESS,
        severity,
        message,
        table,
        {"role": role, "privileges": what, "sequence": sequence},
    )

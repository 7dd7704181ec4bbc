"""GRANT and REVOKE statements: the blueprint's grants against the live ones.

Only tables whose ``grants`` is set are managed (the sequences of their serial and identity
columns when ``sequence_grants`` is), and the schema's default privileges only when
``default_privileges`` is set: exactly what is listed, everything else revoked (the
owner's own privileges aside). A table created by this plan starts with what the applying
role's default privileges give it, so the plan grants and revokes from there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from schemabuilder.engine.catalog.grants import Privileges
from schemabuilder.engine.contract.idents import qualified, quote_ident
from schemabuilder.engine.contract.normalize import NormalizedBlueprint, NTable
from schemabuilder.engine.contract.privileges import OBJECT_PRIVILEGES
from schemabuilder.engine.diff.changes import Action, MemberChange
from schemabuilder.engine.diff.phases import PHASE_REASONS, LockMode, Phase, Statement
from schemabuilder.engine.hazards import Hazard
from schemabuilder.engine.hazards.facts import TableStats
from schemabuilder.engine.hazards.grants import (
    default_changed,
    grant_revoked,
    grant_widens,
    sequence_changed,
)

MAINTAIN_SINCE = 170000  # the MAINTAIN privilege exists from PostgreSQL 17 on

# (role, privileges, granted) -> the hazard of that change
HazardOf = Callable[[str, list[str], bool], Hazard]


def all_privileges(on: str, server_version: int) -> frozenset[str]:
    """What ``ALL`` means on ``on`` for this server."""
    privileges = OBJECT_PRIVILEGES[on]
    if on == "tables" and server_version < MAINTAIN_SINCE:
        return frozenset(p for p in privileges if p != "MAINTAIN")
    return frozenset(privileges)


def grantee(role: str) -> str:
    """The role as SQL: PUBLIC, or the quoted name."""
    return "PUBLIC" if role == "public" else quote_ident(role)


def _ordered(privileges: frozenset[str], on: str) -> list[str]:
    order = OBJECT_PRIVILEGES[on]
    return sorted(privileges, key=lambda p: order.index(p) if p in order else len(order))


def _role_statements(
    want: Privileges,
    have: Privileges,
    *,
    on: str,
    server_version: int,
    revoke_sql: Callable[[str, str], str],
    grant_sql: Callable[[str, str], str],
    phase: Phase,
    table: str,
    hazard_of: HazardOf,
) -> list[Statement]:
    """Per role, by name: REVOKE what it holds and should not, then GRANT what it lacks.

    ``ALL`` is written when the role ends with none (a revoke) or with every privilege (a
    grant), so a plan reads the same on servers whose ``ALL`` differs (MAINTAIN, 17 on).
    """
    everything = all_privileges(on, server_version)
    out = []
    for role in sorted(set(want) | set(have)):
        wanted, held = want.get(role, frozenset()), have.get(role, frozenset())
        for granted, change in ((False, held - wanted), (True, wanted - held)):
            if not change:
                continue
            whole = wanted == everything if granted else not wanted
            what = _ordered(change, on)
            listed = "ALL" if whole else ", ".join(what)
            sql = grant_sql(listed, grantee(role)) if granted else revoke_sql(listed, grantee(role))
            out.append(
                Statement(
                    sql=sql,
                    phase=phase,
                    table=table,
                    reason=PHASE_REASONS[phase],
                    # GRANT and REVOKE rewrite the catalog entry; they lock no rows.
                    lock=LockMode.NONE,
                    hazards=(hazard_of(role, what, granted),),
                )
            )
    return out


def _expand(privileges: tuple[str, ...], on: str, server_version: int) -> frozenset[str]:
    if "ALL" in privileges:
        return all_privileges(on, server_version)
    return frozenset(privileges)


def _wanted(table: NTable, server_version: int) -> Privileges:
    assert table.grants is not None
    return {g.role: _expand(g.privileges, "tables", server_version) for g in table.grants}


def grant_changes(table: NTable, have: Privileges, server_version: int) -> list[MemberChange]:
    """The reviewer's view: per role whose privileges change, what it holds before and after."""
    want = _wanted(table, server_version)
    out = []
    for role in sorted(set(want) | set(have)):
        before, after = have.get(role), want.get(role)
        if (before or frozenset()) == (after or frozenset()):
            continue
        action = Action.ADDED if not before else Action.DROPPED if not after else Action.ALTERED
        out.append(
            MemberChange(
                kind="grant",
                name=grantee(role),
                action=action,
                before=", ".join(_ordered(before, "tables")) if before else None,
                after=", ".join(_ordered(after, "tables")) if after else None,
            )
        )
    return out


def table_grant_statements(
    table: NTable,
    have: Privileges,
    *,
    schema: str,
    server_version: int,
    stats: Callable[[], TableStats | None],
) -> list[Statement]:
    """The statements that give ``table`` exactly its blueprint's grants (``have``: live).
    ``stats`` measures the table, asked only when a privilege changes."""
    want = _wanted(table, server_version)
    name = qualified(schema, table.name)
    rls = table.rls is not False

    def hazard(role: str, what: list[str], granted: bool) -> Hazard:
        if granted:
            return grant_widens(table.name, role, what, rls=rls, stats=stats())
        return grant_revoked(table.name, role, what, stats())

    return _role_statements(
        want,
        have,
        on="tables",
        server_version=server_version,
        revoke_sql=lambda what, who: f"REVOKE {what} ON TABLE {name} FROM {who}",
        grant_sql=lambda what, who: f"GRANT {what} ON TABLE {name} TO {who}",
        phase=Phase.GRANTS,
        table=table.name,
        hazard_of=hazard,
    )


def sequence_grant_statements(
    table: NTable, sequence: str, have: Privileges, *, schema: str, server_version: int
) -> list[Statement]:
    """The statements that give ``sequence`` (owned by ``table``) exactly the table's
    ``sequence_grants``."""
    assert table.sequence_grants is not None
    want = {
        g.role: _expand(g.privileges, "sequences", server_version) for g in table.sequence_grants
    }
    name = qualified(schema, sequence)

    def hazard(role: str, what: list[str], granted: bool) -> Hazard:
        return sequence_changed(table.name, sequence, role, what, granted=granted)

    return _role_statements(
        want,
        have,
        on="sequences",
        server_version=server_version,
        revoke_sql=lambda what, who: f"REVOKE {what} ON SEQUENCE {name} FROM {who}",
        grant_sql=lambda what, who: f"GRANT {what} ON SEQUENCE {name} TO {who}",
        phase=Phase.GRANTS,
        table=table.name,
        hazard_of=hazard,
    )


def sequence_name(table: str, column: str) -> str:
    """The name PostgreSQL gives the sequence of a new serial or identity column (its
    ``makeObjectName``: the longer of the two names shortened until the whole fits in 63
    bytes), before any number it appends when that name is taken."""
    return object_name(table, column, "seq")


def object_name(first: str, second: str, label: str) -> str:
    """``first_second_label`` cut to 63 bytes as PostgreSQL cuts it."""
    room = 63 - len(label.encode()) - 2
    a, b = first.encode(), second.encode()
    while len(a) + len(b) > room:
        if len(a) > len(b):
            a = a[:-1]
        else:
            b = b[:-1]
    # never cut inside a character: drop a partial one as pg_mbcliplen does
    return f"{a.decode(errors='ignore')}_{b.decode(errors='ignore')}_{label}"


def default_privilege_statements(
    bp: NormalizedBlueprint,
    have: Mapping[str, Privileges],
    *,
    schema: str,
    server_version: int,
) -> list[Statement]:
    """ALTER DEFAULT PRIVILEGES statements that make the schema's defaults the blueprint's."""
    assert bp.default_privileges is not None
    prefix = f"ALTER DEFAULT PRIVILEGES IN SCHEMA {quote_ident(schema)}"
    out: list[Statement] = []
    for on in OBJECT_PRIVILEGES:
        want: dict[str, frozenset[str]] = {}
        for d in bp.default_privileges:
            if d.on == on:
                want[d.role] = want.get(d.role, frozenset()) | _expand(
                    d.privileges, on, server_version
                )
        kind = on.upper()

        def revoke_sql(what: str, who: str, kind: str = kind) -> str:
            return f"{prefix} REVOKE {what} ON {kind} FROM {who}"

        def grant_sql(what: str, who: str, kind: str = kind) -> str:
            return f"{prefix} GRANT {what} ON {kind} TO {who}"

        def hazard(role: str, what: list[str], granted: bool, on: str = on) -> Hazard:
            return default_changed(schema, on, role, what, granted=granted)

        out += _role_statements(
            want,
            have.get(on, {}),
            on=on,
            server_version=server_version,
            revoke_sql=revoke_sql,
            grant_sql=grant_sql,
            phase=Phase.DEFAULT_PRIVILEGES,
            table="",
            hazard_of=hazard,
        )
    return out

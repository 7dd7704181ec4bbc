"""The plan's grants: the roles checked on the target, the live grants read, the GRANT and
REVOKE statements written (after every other statement of the migration)."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import psycopg

from schemabuilder.engine.catalog import grants as live_grants
from schemabuilder.engine.catalog.grants import Privileges
from schemabuilder.engine.catalog.snapshot import Snapshot
from schemabuilder.engine.contract.errors import BlueprintInvalid, Issue
from schemabuilder.engine.contract.normalize import NormalizedBlueprint, NTable
from schemabuilder.engine.contract.paths import BlueprintPaths
from schemabuilder.engine.diff.changes import Action, MemberChange, TableChange
from schemabuilder.engine.diff.grants import (
    MAINTAIN_SINCE,
    default_privilege_statements,
    grant_changes,
    object_name,
    sequence_grant_statements,
    table_grant_statements,
)
from schemabuilder.engine.diff.phases import Statement
from schemabuilder.engine.diff.renames import Renames
from schemabuilder.engine.hazards.facts import LiveFacts


def check_grant_roles(
    conn: psycopg.Connection[Any], bp: NormalizedBlueprint, paths: BlueprintPaths
) -> None:
    """Every role a grant names must exist on the target, and every privilege it lists:
    GRANT would fail at apply time."""
    named: list[tuple[str, str]] = [
        (f"{paths.table(t.name)}.grants[{j}].role", g.role)
        for t in bp.tables
        for j, g in enumerate(t.grants or ())
    ]
    named += [
        (f"{paths.table(t.name)}.sequence_grants[{j}].role", g.role)
        for t in bp.tables
        for j, g in enumerate(t.sequence_grants or ())
    ]
    named += [
        (f"{paths.prefix}.default_privileges[{j}].role", d.role)
        for j, d in enumerate(bp.default_privileges or ())
    ]
    if not named:
        return
    missing = live_grants.missing_roles(conn, {role for _, role in named})
    issues = [
        Issue(path, f"role {role} does not exist on the target: create it first")
        for path, role in named
        if role in missing
    ]
    version = conn.info.server_version
    if version < MAINTAIN_SINCE:
        issues += [
            Issue(
                f"{paths.table(t.name)}.grants[{j}].privileges",
                f"MAINTAIN exists from PostgreSQL 17 on and this target runs "
                f"{version // 10000}: remove it (ALL gives what the server has)",
            )
            for t in bp.tables
            for j, g in enumerate(t.grants or ())
            if "MAINTAIN" in g.privileges
        ]
        issues += [
            Issue(
                f"{paths.prefix}.default_privileges[{j}].privileges",
                f"MAINTAIN exists from PostgreSQL 17 on and this target runs "
                f"{version // 10000}: remove it (ALL gives what the server has)",
            )
            for j, d in enumerate(bp.default_privileges or ())
            if "MAINTAIN" in d.privileges
        ]
    if issues:
        raise BlueprintInvalid(issues)


def grant_statements(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    schema: str,
    live: Snapshot,
    desired: Snapshot,
    renames: Renames,
    facts: LiveFacts,
) -> tuple[tuple[Statement, ...], dict[str, list[MemberChange]]]:
    """GRANT/REVOKE for every table whose grants the blueprint manages, then the schema's
    default privileges when the blueprint sets them, with the grant members that change per
    table. Nothing when it sets neither."""
    managed = [t for t in bp.tables if t.grants is not None]
    sequenced = [t for t in bp.tables if t.sequence_grants is not None]
    if not managed and not sequenced and bp.default_privileges is None:
        return (), {}
    version = conn.info.server_version
    sources = {new: old for old, new in renames.tables.items()}
    existing = {t.name: sources.get(t.name, t.name) for t in managed}
    existing = {name: src for name, src in existing.items() if live.table(src) is not None}
    held = live_grants.table_grants(conn, schema, set(existing.values()))
    fresh = live_grants.new_table_grants(conn, schema) if len(existing) < len(managed) else {}
    out: list[Statement] = []
    members: dict[str, list[MemberChange]] = {}
    for table in managed:
        source = existing.get(table.name)
        have = held.get(source, {}) if source is not None else fresh
        out += table_grant_statements(
            table,
            have,
            schema=schema,
            server_version=version,
            stats=functools.partial(facts.table_stats, table.name)
            if source is not None
            else lambda: None,
        )
        if changed := grant_changes(table, have, version):
            members[table.name] = changed
    if sequenced:
        out += _sequence_statements(conn, sequenced, schema, live, desired, renames)
    if bp.default_privileges is not None:
        out += default_privilege_statements(
            bp,
            live_grants.default_privileges(conn, schema),
            schema=schema,
            server_version=version,
        )
    return tuple(out), members


def _sequence_statements(
    conn: psycopg.Connection[Any],
    tables: list[NTable],
    schema: str,
    live: Snapshot,
    desired: Snapshot,
    renames: Renames,
) -> list[Statement]:
    """GRANT/REVOKE on the sequences of the serial and identity columns of ``tables``.

    A column that has its sequence live keeps it (a rename moves neither); a new one gets
    the name PostgreSQL will choose, and starts from the default privileges of sequences.
    """
    version = conn.info.server_version
    sources = {t.name: renames.live_table(t.name) for t in tables}
    owned = live_grants.owned_sequences(
        conn, schema, {s for s in sources.values() if live.table(s) is not None}
    )
    fresh: Privileges | None = None
    planned: list[tuple[NTable, str | None, str]] = []  # table, live sequence, column
    for table in tables:
        shape = desired.table(table.name)
        for col in shape.columns if shape is not None else ():
            if not (col.identity or col.serial):
                continue
            key = (sources[table.name], renames.live_column(table.name, col.name))
            planned.append((table, owned[key][0] if key in owned else None, col.name))
    candidates = {
        object_name(t.name, c, f"seq{n or ''}")
        for t, seq, c in planned
        if seq is None
        for n in range(10)
    }
    taken = live_grants.taken_names(conn, schema, candidates)
    out: list[Statement] = []
    for table, sequence, column in planned:
        if sequence is not None:
            have = owned[(sources[table.name], renames.live_column(table.name, column))][1]
        else:
            sequence = next(
                name
                for n in range(10)
                if (name := object_name(table.name, column, f"seq{n or ''}")) not in taken
            )
            taken.add(sequence)
            if fresh is None:
                fresh = live_grants.new_sequence_grants(conn, schema)
            have = fresh
        out += sequence_grant_statements(
            table, sequence, have, schema=schema, server_version=version
        )
    return out


def with_grant_changes(
    changes: tuple[TableChange, ...], members: dict[str, list[MemberChange]]
) -> tuple[TableChange, ...]:
    """The diff's table changes with the grant members added: to an altered table's members,
    or as an altered table of their own (a created table shows its grants here too)."""
    if not members:
        return changes
    out = []
    for change in changes:
        extra = members.pop(change.table, None)
        if extra:
            change = dataclasses.replace(change, members=(*change.members, *extra))
        out.append(change)
    out += [
        TableChange(name, Action.ALTERED, members=tuple(extra))
        for name, extra in sorted(members.items())
    ]
    return tuple(sorted(out, key=lambda c: c.table))

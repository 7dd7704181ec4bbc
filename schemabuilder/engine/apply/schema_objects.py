"""Verification of what a change manages besides its tables' members: grants (on tables,
on their sequences, and the schema's default privileges) and enum types.

The desired snapshot holds tables only, so these are verified the way they were planned:
after the statements, inside the change's transaction, the grants are read again and diffed
against the blueprint (the GRANT and REVOKE it would still need are the residue), and the
schema's enum types must be exactly the blueprint's, values in order and comments, with the
types it no longer declares gone.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import psycopg

from schemabuilder.engine.catalog.enums import live_enums
from schemabuilder.engine.catalog.snapshot import Snapshot
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.diff.renames import Renames
from schemabuilder.engine.grants import grant_statements
from schemabuilder.engine.hazards.pg_facts import PgFacts


def grants_residue(
    conn: psycopg.Connection[Any], bp: NormalizedBlueprint, schema: str, desired: Snapshot
) -> list[str]:
    """The GRANT and REVOKE the blueprint would still need after the statements (none when it
    manages no grants). ``desired`` is the state the tables were verified to be in."""
    still, _ = grant_statements(
        conn, bp, schema, desired, desired, Renames(), PgFacts(conn, schema, Renames())
    )
    return [f"grants: {st.sql} is still needed" for st in still]


def types_residue(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    schema: str,
    managed_types: Collection[str],
) -> list[str]:
    """How the schema's enum types differ from the blueprint's (none when neither the
    blueprint nor an earlier version declares any: they are then not the change's)."""
    if not bp.types and not managed_types:
        return []
    live = live_enums(conn, schema)
    residue: list[str] = []
    for t in bp.types:
        found = live.get(t.name)
        if found is None:
            residue.append(f"type {t.name} is missing")
            continue
        if found.values != t.values:
            residue.append(
                f"type {t.name} has the values {', '.join(found.values)}, expected "
                f"{', '.join(t.values)}"
            )
        if found.comment != t.comment:
            residue.append(f"type {t.name}: comment is {found.comment!r}, expected {t.comment!r}")
    declared = {t.name for t in bp.types}
    for name in sorted(set(managed_types) - declared):
        if name in live:
            residue.append(f"type {name} should have been dropped")
    return residue

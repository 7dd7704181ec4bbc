"""The enum types a plan works with: the blueprint's beside the live ones, with the columns
that use the types a plan swaps."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import psycopg

from schemabuilder.engine.catalog.enums import enum_uses, live_enums
from schemabuilder.engine.contract.idents import quote_ident
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.contract.types import create_enum_sql
from schemabuilder.engine.diff.types import TypeState, source_of


def type_state(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    schema: str,
    prefix: str,
    managed_types: Collection[str],
) -> TypeState | None:
    """The blueprint's enum types beside the live ones (None for a blueprint without types:
    the live enums are then none of this plan's business)."""
    if not bp.types and not managed_types:
        return None
    live = live_enums(conn, schema)
    swapped = [s.name for t in bp.types if (s := source_of(t, live)) is not None]
    swapped += [name for name in managed_types if name in live and name not in swapped]
    # A type this plan creates does not exist for the facts' questions (can this text column
    # become order_status, which values fail): a temporary stand-in, gone with the planning
    # transaction, answers them (the temporary schema comes first for type names).
    for t in bp.types:
        if source_of(t, live) is None:
            conn.execute(create_enum_sql(f"pg_temp.{quote_ident(t.name)}", t).encode())
    return TypeState(
        desired=bp.types,
        live=live,
        uses=enum_uses(conn, schema, swapped),
        server_version=conn.info.server_version,
        prefix=prefix,
        managed=frozenset(managed_types),
    )

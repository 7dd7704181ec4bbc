"""Rules that need the whole blueprint: duplicates after normalization and references."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from schemabuilder.engine.errors import Issue
from schemabuilder.engine.normalize import NTable, Origin


def check_tables(
    tables: Sequence[tuple[str, NTable, Origin]],
    *,
    complete: bool,
    all_names: Collection[str] = (),
) -> list[Issue]:
    """Every cross-reference problem among ``tables`` (path, normalized table, origin)."""
    return []

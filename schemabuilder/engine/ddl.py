"""DDL rendering: the SQL that creates a normalized blueprint's desired state from nothing."""

from __future__ import annotations

from collections.abc import Collection

from schemabuilder.engine.normalize import NormalizedBlueprint


def render_ddl(
    bp: NormalizedBlueprint,
    schema: str,
    *,
    tables: Collection[str] | None = None,
    external_schema: str | None = None,
) -> list[str]:
    """The statements that create ``bp`` (or its ``tables`` subset) in ``schema``."""
    raise NotImplementedError

"""The plan's extensions: the blueprint's list checked on the target, and CREATE EXTENSION
for those not installed yet (right after the setup, before anything may use them).

An extension is installed once per database, in one schema: a blueprint's extension that is
installed already, wherever it is, is left as it is. One that is not is installed in the
target schema. None is ever dropped or updated: removing a name from the blueprint leaves the
extension installed (other schemas of the database may use it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from schemabuilder.engine.catalog.extensions import is_superuser, server_extensions
from schemabuilder.engine.contract.errors import BlueprintInvalid, Issue
from schemabuilder.engine.contract.extensions import create_extension_sql
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.contract.paths import BlueprintPaths
from schemabuilder.engine.diff.phases import PHASE_REASONS, LockMode, Phase, Statement
from schemabuilder.engine.hazards.extensions import installs_extension


@dataclass(frozen=True)
class Missing:
    """An extension the blueprint lists that the target does not have yet."""

    name: str
    version: str | None


def missing_extensions(
    conn: psycopg.Connection[Any], bp: NormalizedBlueprint, paths: BlueprintPaths
) -> tuple[Missing, ...]:
    """The blueprint's extensions not installed on the target, in the blueprint's order.

    Raises ``BlueprintInvalid`` at ``extensions[i]`` for one the server does not have
    (``pg_available_extensions``), or one that needs a superuser to install when the target's
    role is not one: CREATE EXTENSION would fail at apply time.
    """
    if not bp.extensions:
        return ()
    found = server_extensions(conn, bp.extensions)
    superuser = is_superuser(conn)
    issues: list[Issue] = []
    missing: list[Missing] = []
    for i, name in enumerate(bp.extensions):
        path = f"{paths.prefix}.extensions[{i}]"
        if name not in found:
            issues.append(
                Issue(
                    path,
                    f"the extension {name} is not available on the target's server "
                    "(pg_available_extensions): install its package there, or remove it",
                )
            )
            continue
        known = found[name]
        if known.installed:
            continue
        if not known.trusted and not superuser:
            issues.append(
                Issue(
                    path,
                    f"the extension {name} is not trusted, so only a superuser may install it: "
                    "have one install it on the target first, or remove it",
                )
            )
            continue
        missing.append(Missing(name, known.version))
    if issues:
        raise BlueprintInvalid(issues)
    return tuple(missing)


def extension_statements(missing: tuple[Missing, ...], schema: str) -> tuple[Statement, ...]:
    """One CREATE EXTENSION per missing extension, with its INFO hazard."""
    return tuple(
        Statement(
            sql=create_extension_sql(m.name, schema),
            phase=Phase.EXTENSIONS,
            table="",
            reason=f"the blueprint lists the extension {m.name}; "
            + PHASE_REASONS[Phase.EXTENSIONS],
            lock=LockMode.NONE,
            hazards=(installs_extension(m.name, schema, m.version),),
        )
        for m in missing
    )

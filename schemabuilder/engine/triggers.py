"""The plan's triggers: the functions they execute checked on the target, the live triggers
read, the wanted ones printed, and the statements written (DROP_TRIGGERS and TRIGGERS).

A trigger executes a function of the blueprint (``functions``) or one the target has, with
no arguments, returning ``trigger``; the ``updated_at`` convenience executes
``<schema>.set_updated_at()``, created here when the target lacks it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

from schemabuilder.engine.catalog.snapshot import Snapshot
from schemabuilder.engine.catalog.triggers import (
    LiveFunction,
    Trigger,
    read_triggers,
    trigger_functions,
)
from schemabuilder.engine.contract.errors import BlueprintInvalid, Issue
from schemabuilder.engine.contract.functions import blueprint_function_names
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.contract.paths import BlueprintPaths
from schemabuilder.engine.contract.triggers import UPDATED_AT_FUNCTION
from schemabuilder.engine.desired.triggers import desired_triggers, function_of
from schemabuilder.engine.desired.updated_at import create_function_sql, is_convenience
from schemabuilder.engine.diff.changes import MemberChange
from schemabuilder.engine.diff.phases import PHASE_REASONS, LockMode, Phase, Statement
from schemabuilder.engine.diff.renames import Renames, rename_row_columns
from schemabuilder.engine.diff.triggers import TableTriggers, trigger_statements
from schemabuilder.engine.hazards import HazardKind
from schemabuilder.engine.hazards.facts import LiveFacts
from schemabuilder.engine.hazards.tables import access_exclusive_lock
from schemabuilder.engine.hazards.triggers import function_created


@dataclass(frozen=True)
class TriggerFunctions:
    """What the plan learned of the functions its triggers execute."""

    blueprint: frozenset[str]  # schema.name of the blueprint's own functions
    create_updated_at: bool  # the convenience's function is missing on the target


def check_trigger_functions(
    conn: psycopg.Connection[Any], bp: NormalizedBlueprint, schema: str, paths: BlueprintPaths
) -> TriggerFunctions:
    """Every function a trigger executes exists (the blueprint's own, or the target's, with
    no arguments, returning trigger); the convenience's is absent or exactly the
    convenience's. Raises ``BlueprintInvalid`` at each trigger's ``function`` otherwise."""
    own = frozenset(f"{schema}.{name}" for name in blueprint_function_names(bp))
    named: list[tuple[str, str, bool]] = []  # path, schema.name, convenience
    for table in bp.tables:
        for k, trigger in enumerate(table.triggers or ()):
            path = f"{paths.table(table.name)}.triggers[{k}]"
            where = path if trigger.convenience else f"{path}.function"
            named.append((where, function_of(trigger, schema), trigger.convenience))
    if not named:
        return TriggerFunctions(own, False)
    found: dict[str, LiveFunction] = {
        f"{s}.{n}": f
        for (s, n), f in trigger_functions(
            conn, {_split(q) for _, q, _ in named if q not in own}
        ).items()
    }
    issues: list[Issue] = []
    create = False
    for path, qualified, convenience in named:
        if qualified in own:
            continue
        function = found.get(qualified)
        if convenience:
            if function is None:
                create = True
            elif not is_convenience(function):
                issues.append(
                    Issue(
                        path,
                        f"{qualified}() exists on the target with another body than the "
                        "updated_at convenience's, and the convenience would run it: write "
                        'the trigger out in full instead ({"name": "set_updated_at", '
                        '"timing": "before", "events": ["update"], "function": '
                        f'"{UPDATED_AT_FUNCTION}"}}) to keep that function, or rename it',
                    )
                )
            continue
        if function is None:
            issues.append(
                Issue(
                    path,
                    f"function {qualified}() does not exist on the target: create it first, "
                    "declare it in the blueprint's functions, or name one that exists",
                )
            )
        elif not function.returns_trigger:
            issues.append(
                Issue(
                    path,
                    f"{qualified}() does not return trigger, so no trigger can execute it: "
                    "name a trigger function",
                )
            )
    if issues:
        raise BlueprintInvalid(issues)
    return TriggerFunctions(own, create)


def _split(qualified: str) -> tuple[str, str]:
    schema, _, name = qualified.partition(".")
    return schema, name


def trigger_plan(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    schema: str,
    live: Snapshot,
    desired: Snapshot,
    renames: Renames,
    paths: BlueprintPaths,
    functions: TriggerFunctions,
) -> tuple[tuple[Statement, ...], dict[str, list[MemberChange]]]:
    """The trigger statements of the tables whose triggers the blueprint manages, with the
    trigger members that change per table. Nothing when it manages none."""
    _check_unmanaged(conn, bp, schema, live, desired, renames, paths)
    managed = [t for t in bp.tables if t.triggers is not None]
    if not managed:
        return (), {}
    sources = {t.name: renames.live_table(t.name) for t in managed}
    existing = {s for s in sources.values() if live.table(s) is not None}
    held = read_triggers(conn, schema, existing)
    wanted = desired_triggers(conn, bp, schema, desired, paths)
    out: list[Statement] = []
    if functions.create_updated_at:
        out.append(
            Statement(
                sql=create_function_sql(schema),
                phase=Phase.TRIGGERS,
                table="",
                reason=PHASE_REASONS[Phase.TRIGGERS],
                lock=LockMode.NONE,
                hazards=(function_created(schema, UPDATED_AT_FUNCTION),),
            )
        )
    members: dict[str, list[MemberChange]] = {}
    for table in managed:
        source = sources[table.name]
        column_renames = renames.columns.get(table.name, {})
        have = (
            {
                name: _renamed_columns(trigger, column_renames)
                for name, trigger in held.of(source).items()
            }
            if source in existing
            else {}
        )
        retired = _retired(live, desired, renames, table.name)
        statements, changed = trigger_statements(
            TableTriggers(
                table=table.name,
                have=have,
                want=wanted.get(table.name, {}),
                renamed={t.name: t.renamed_from for t in table.triggers or () if t.renamed_from},
                retired=retired,
                conveniences={t.name for t in table.triggers or () if t.convenience},
            ),
            schema=schema,
            managed_functions=functions.blueprint,
        )
        out += statements
        if changed:
            members[table.name] = changed
    return tuple(out), members


def _retired(live: Snapshot, desired: Snapshot, renames: Renames, table: str) -> set[str]:
    """The columns of ``table`` (desired names) that this plan drops or retypes."""
    was, will = live.table(renames.live_table(table)), desired.table(table)
    if was is None or will is None:
        return set()
    column_renames = renames.columns.get(table, {})
    out = set()
    for column in was.columns:
        new = column_renames.get(column.name, column.name)
        target = will.column_map.get(new)
        if target is None or target.type != column.type:
            out.add(new)
    return out


def _check_unmanaged(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    schema: str,
    live: Snapshot,
    desired: Snapshot,
    renames: Renames,
    paths: BlueprintPaths,
) -> None:
    """A trigger the blueprint leaves alone that uses a column the plan drops or retypes
    would make PostgreSQL refuse the change at apply time: refuse the blueprint now."""
    retired = {
        t.name: cols
        for t in bp.tables
        if t.triggers is None and (cols := _retired(live, desired, renames, t.name))
    }
    if not retired:
        return
    held = read_triggers(conn, schema, {renames.live_table(name) for name in retired})
    issues: list[Issue] = []
    for name, columns in sorted(retired.items()):
        column_renames = renames.columns.get(name, {})
        shape = desired.table(name)
        for trigger in held.of(renames.live_table(name)).values():
            used = sorted(set(_renamed_columns(trigger, column_renames).depends_on) & columns)
            for column in used:
                gone = shape is None or column not in shape.column_map
                issues.append(
                    Issue(
                        paths.table(name) if gone else paths.column(name, column, "type"),
                        f"trigger {trigger.name} of {name} uses column {column}, and PostgreSQL "
                        f"refuses to {'drop' if gone else 'retype'} it while the trigger "
                        'exists: list the table\'s triggers ("triggers": [...]) so the plan '
                        "drops it and makes it again, or drop the trigger first",
                    )
                )
    if issues:
        raise BlueprintInvalid(issues)


def _renamed_columns(trigger: Trigger, renames: Mapping[str, str]) -> Trigger:
    """A live trigger with its columns under the names this plan gives them."""
    if not renames:
        return trigger
    return dataclasses.replace(
        trigger,
        columns=tuple(sorted(renames.get(c, c) for c in trigger.columns)),
        when=rename_row_columns(trigger.when, renames) if trigger.when is not None else None,
        depends_on=tuple(sorted(renames.get(c, c) for c in trigger.depends_on)),
    )


def with_lock_hazards(statements: list[Statement], facts: LiveFacts) -> list[Statement]:
    """ACCESS_EXCLUSIVE_LOCK on the first trigger statement that locks a populated table so
    (DROP TRIGGER, ALTER TRIGGER ... RENAME), when no other statement of the plan says it."""
    said = {
        h.table for s in statements for h in s.hazards if h.kind is HazardKind.ACCESS_EXCLUSIVE_LOCK
    }
    out = []
    for statement in statements:
        if (
            statement.phase in (Phase.DROP_TRIGGERS, Phase.TRIGGERS)
            and statement.lock is LockMode.ACCESS_EXCLUSIVE
            and statement.table not in said
        ):
            said.add(statement.table)
            stats = facts.table_stats(statement.table)
            if stats is not None and stats.populated:
                hazard = access_exclusive_lock(statement.table, stats)
                statement = dataclasses.replace(statement, hazards=(*statement.hazards, hazard))
        out.append(statement)
    return out


TRIGGER_PHASES = frozenset({Phase.DROP_TRIGGERS, Phase.TRIGGERS})


def trigger_residue(
    conn: psycopg.Connection[Any], bp: NormalizedBlueprint, schema: str, desired: Snapshot
) -> list[str]:
    """After a change's statements, inside its transaction: what the tables' triggers still
    lack to be the blueprint's, as the statements that would be needed (none: verified).
    The tables already equal ``desired`` (verification said so), renames included."""
    statements, _ = trigger_plan(
        conn,
        bp,
        schema,
        desired,
        desired,
        Renames(),
        BlueprintPaths(bp),
        TriggerFunctions(frozenset(), create_updated_at=False),
    )
    return [f"trigger: {s.sql}" for s in statements]

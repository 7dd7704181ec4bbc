"""CREATE, DROP, ALTER ... RENAME and CREATE OR REPLACE TRIGGER: one table's triggers as the
blueprint lists them against the live ones.

Only tables whose ``triggers`` is set are managed; a dropped table takes its triggers with it
and a renamed one keeps them (they are compared under the table's new name). A changed
trigger is replaced in place (CREATE OR REPLACE TRIGGER, PostgreSQL 14 on), except when it
uses a column this plan drops or retypes: PostgreSQL refuses that while the trigger exists,
so it is dropped before the columns change and created again after. Whether a trigger is
enabled is left alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping

from schemabuilder.engine.catalog.triggers import Trigger
from schemabuilder.engine.contract.idents import qualified, quote_ident
from schemabuilder.engine.desired.triggers import create_trigger_sql
from schemabuilder.engine.diff.changes import Action, MemberChange
from schemabuilder.engine.diff.phases import PHASE_REASONS, LockMode, Phase, Statement
from schemabuilder.engine.hazards import Hazard
from schemabuilder.engine.hazards.triggers import (
    trigger_changed,
    trigger_created,
    trigger_dropped,
    trigger_renamed,
)


@dataclasses.dataclass(frozen=True)
class TableTriggers:
    """What the diff needs of one table: its desired name, live triggers (their columns
    under the desired names), wanted triggers, renames (new -> old), the columns this plan
    drops or retypes, and which triggers are the updated_at convenience."""

    table: str
    have: Mapping[str, Trigger]
    want: Mapping[str, Trigger]
    renamed: Mapping[str, str] = dataclasses.field(default_factory=dict)
    retired: Collection[str] = ()
    conveniences: Collection[str] = ()


def _statement(
    sql: str, phase: Phase, table: str, lock: LockMode, hazards: tuple[Hazard, ...] = ()
) -> Statement:
    return Statement(
        sql=sql, phase=phase, table=table, reason=PHASE_REASONS[phase], lock=lock, hazards=hazards
    )


def _same(before: Trigger, after: Trigger) -> bool:
    return dataclasses.replace(before, name=after.name) == after


def trigger_statements(
    t: TableTriggers, *, schema: str, managed_functions: Collection[str]
) -> tuple[list[Statement], list[MemberChange]]:
    """The statements that give ``t.table`` exactly its wanted triggers, and the members."""
    table = qualified(schema, t.table)
    out: list[Statement] = []
    members: list[MemberChange] = []
    sources = {
        old
        for new, old in t.renamed.items()
        if old in t.have and new not in t.have and old not in t.want
    }

    def create(trigger: Trigger, hazard: Hazard | None, *, replace: bool = False) -> None:
        sql = create_trigger_sql(trigger, table, replace=replace)
        hazards = (hazard,) if hazard is not None else ()
        out.append(_statement(sql, Phase.TRIGGERS, t.table, LockMode.SHARE_ROW_EXCLUSIVE, hazards))

    def drop(name: str, hazard: Hazard | None) -> None:
        hazards = (hazard,) if hazard is not None else ()
        sql = f"DROP TRIGGER {quote_ident(name)} ON {table}"
        out.append(
            _statement(sql, Phase.DROP_TRIGGERS, t.table, LockMode.ACCESS_EXCLUSIVE, hazards)
        )

    for name in sorted(t.want):
        after = t.want[name]
        old = t.renamed.get(name) if name not in t.have else None
        source = old if old in sources else name
        before = t.have.get(source) if source is not None else None
        managed = after.function in managed_functions
        if before is None:
            create(
                after,
                trigger_created(
                    t.table,
                    after,
                    schema=schema,
                    managed=managed,
                    convenience=name in t.conveniences,
                ),
            )
            members.append(MemberChange("trigger", name, Action.ADDED, after=after.definition))
            continue
        blocked = bool(set(before.depends_on) & set(t.retired))
        same = _same(before, after)
        changed = (
            None
            if same
            else trigger_changed(t.table, before, after, schema=schema, managed=managed)
        )
        if blocked:
            # Out of the way of the columns that change, then back as wanted.
            drop(source, None)
            create(after, changed)
        else:
            if source != name:
                out.append(
                    _statement(
                        f"ALTER TRIGGER {quote_ident(source)} ON {table} RENAME TO "
                        f"{quote_ident(name)}",
                        Phase.TRIGGERS,
                        t.table,
                        LockMode.ACCESS_EXCLUSIVE,
                        (trigger_renamed(t.table, source, name),),
                    )
                )
            if not same:
                create(after, changed, replace=True)
        if source != name:
            members.append(MemberChange("trigger", name, Action.RENAMED, renamed_from=source))
        if not same:
            members.append(
                MemberChange(
                    "trigger",
                    name,
                    Action.ALTERED,
                    before=before.definition,
                    after=after.definition,
                )
            )
    for name in sorted(t.have):
        if name in t.want or name in sources:
            continue
        before = t.have[name]
        drop(name, trigger_dropped(t.table, before))
        members.append(MemberChange("trigger", name, Action.DROPPED, before=before.definition))
    return out, members

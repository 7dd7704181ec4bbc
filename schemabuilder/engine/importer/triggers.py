"""A table's live triggers in the blueprint's words, or the reasons they cannot be said.

A table's ``triggers`` is written only when every trigger on it can be said: a list that
missed one would make the next plan drop it. Otherwise the key is left out (the triggers are
left alone) and each trigger that could not be said is listed. A trigger that is exactly the
``updated_at`` convenience (its name, BEFORE UPDATE FOR EACH ROW, executing
``<schema>.set_updated_at()`` with the convenience's body) is written as the one word.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg

from schemabuilder.engine.catalog.triggers import (
    LiveFunction,
    LiveTriggers,
    Trigger,
    read_triggers,
    trigger_functions,
)
from schemabuilder.engine.contract.triggers import (
    UPDATED_AT,
    UPDATED_AT_FUNCTION,
    UPDATED_AT_TRIGGER,
    when_problem,
)
from schemabuilder.engine.desired.updated_at import is_convenience
from schemabuilder.engine.importer.tables import blueprint_name


@dataclass(frozen=True)
class ImportedTriggers:
    """Per table: its ``triggers`` entries (only for tables whose every trigger is said), and
    the triggers left out as (table, name, why)."""

    entries: Mapping[str, list[Any]] = field(default_factory=dict)
    left_out: tuple[tuple[str, str, str], ...] = ()


def _is_convenience(t: Trigger, schema: str, functions: Mapping[str, LiveFunction]) -> bool:
    function = functions.get(t.function)
    return (
        t.name == UPDATED_AT_TRIGGER
        and (t.timing, t.events, t.level) == ("BEFORE", ("UPDATE",), "ROW")
        and not t.columns
        and t.when is None
        and not t.arguments
        and t.function == f"{schema}.{UPDATED_AT_FUNCTION}"
        and function is not None
        and is_convenience(function)
    )


def _entry(t: Trigger, schema: str) -> tuple[dict[str, Any] | None, str | None]:
    """The trigger object, or why it cannot be one."""
    if not blueprint_name(t.name):
        return None, f"trigger name {t.name!r} is not a snake_case name"
    if t.timing == "INSTEAD OF":
        return None, "an INSTEAD OF trigger"
    if not (blueprint_name(t.function_schema) and blueprint_name(t.function_name)):
        return None, f"its function {t.function} is not named in snake_case"
    if any(not blueprint_name(c) for c in t.columns):
        return None, "an UPDATE OF column is not named in snake_case"
    if any(ord(ch) < 32 or ord(ch) == 127 for a in t.arguments for ch in a):
        return None, "an argument holds a control character"
    if t.when is not None:
        _, problem = when_problem(t.when)
        if problem:
            return None, f"its condition cannot be said: {problem}"
    events: list[Any] = []
    for event in t.events:
        if event == "UPDATE" and t.columns:
            events.append({"update": list(t.columns)})
        else:
            events.append(event.lower())
    out: dict[str, Any] = {
        "name": t.name,
        "timing": t.timing.lower(),
        "events": events,
        "level": t.level.lower(),
    }
    if t.when is not None:
        out["when"] = t.when
    out["function"] = t.function_name if t.function_schema == schema else t.function
    if t.arguments:
        out["arguments"] = list(t.arguments)
    return out, None


def convert_triggers(
    live: LiveTriggers, schema: str, functions: Mapping[str, LiveFunction]
) -> ImportedTriggers:
    """The blueprint entries of ``live``'s tables (``functions``: schema.name -> function)."""
    entries: dict[str, list[Any]] = {}
    left: list[tuple[str, str, str]] = [
        (
            table,
            name,
            "a constraint trigger (CREATE CONSTRAINT TRIGGER), which a blueprint does not say",
        )
        for table, name in live.constraint_triggers
    ]
    constrained = {table for table, _ in live.constraint_triggers}
    for table, triggers in sorted(live.tables.items()):
        said: list[Any] = []
        refused: list[tuple[str, str, str]] = []
        for name, t in sorted(triggers.items()):
            if _is_convenience(t, schema, functions):
                said.append(UPDATED_AT)
                continue
            entry, why = _entry(t, schema)
            if entry is None:
                refused.append((table, name, why or ""))
            else:
                said.append(entry)
        if refused or table in constrained:
            # A partial list would drop what it misses: the table's triggers stay unmanaged.
            left += refused
            left += [
                (
                    table,
                    n,
                    "its table has a trigger the blueprint cannot say, so the "
                    "table's triggers are left alone",
                )
                for n in sorted(triggers)
                if n not in {r[1] for r in refused}
            ]
        else:
            entries[table] = said
    return ImportedTriggers(entries, tuple(left))


def import_triggers(
    conn: psycopg.Connection[Any], schema: str, tables: list[str]
) -> ImportedTriggers:
    """Read the triggers of ``tables`` and convert them; reads only."""
    live = read_triggers(conn, schema, tables)
    names = {
        (t.function_schema, t.function_name)
        for triggers in live.tables.values()
        for t in triggers.values()
    }
    found = trigger_functions(conn, names)
    functions = {f"{s}.{n}": f for (s, n), f in found.items()}
    return convert_triggers(live, schema, functions)

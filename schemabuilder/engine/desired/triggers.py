"""The blueprint's triggers as PostgreSQL prints them: the values a plan compares with the
live ones, and the SQL that creates them.

A WHEN condition is canonicalized the way every other expression is: the trigger is created
on a scratch copy of its table (the desired columns, nothing else) in a scratch schema,
executing a stand-in function that never runs, inside a transaction that is rolled back, and
printed by ``pg_get_triggerdef``. A condition PostgreSQL refuses is refused at its path.
Triggers without a condition need no server: their parts are compared as values.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

import psycopg
from psycopg import sql

from schemabuilder.engine.catalog.snapshot import Snapshot
from schemabuilder.engine.catalog.triggers import Trigger, read_triggers
from schemabuilder.engine.contract.errors import BlueprintInvalid, Issue
from schemabuilder.engine.contract.idents import qualified, quote_ident, quote_literal
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.contract.paths import BlueprintPaths
from schemabuilder.engine.contract.triggers import NTrigger
from schemabuilder.engine.desired.materialize import SCRATCH_PREFIX
from schemabuilder.engine.safe_errors import safe_message

_STAND_IN = "sb_stand_in"


def function_of(trigger: NTrigger, schema: str) -> str:
    """``schema.name`` of the function ``trigger`` executes (its own schema, else the target's)."""
    return f"{trigger.function_schema or schema}.{trigger.function}"


def events_sql(trigger: Trigger) -> str:
    """``INSERT OR UPDATE OF a, b``: the events as CREATE TRIGGER writes them."""
    parts = []
    for event in trigger.events:
        if event == "UPDATE" and trigger.columns:
            parts.append("UPDATE OF " + ", ".join(quote_ident(c) for c in trigger.columns))
        else:
            parts.append(event)
    return " OR ".join(parts)


def create_trigger_sql(trigger: Trigger, table: str, *, replace: bool = False) -> str:
    """``CREATE [OR REPLACE] TRIGGER`` for ``trigger`` on ``table`` (qualified already)."""
    schema, _, name = trigger.function.partition(".")
    head = "CREATE OR REPLACE TRIGGER" if replace else "CREATE TRIGGER"
    text = trigger.when_source or trigger.when
    when = f" WHEN ({text})" if text is not None else ""
    arguments = ", ".join(quote_literal(a) for a in trigger.arguments)
    return (
        f"{head} {quote_ident(trigger.name)} {trigger.timing} {events_sql(trigger)} ON {table} "
        f"FOR EACH {trigger.level}{when} EXECUTE FUNCTION {qualified(schema, name)}({arguments})"
    )


def _as_value(trigger: NTrigger, schema: str, when: str | None) -> Trigger:
    return Trigger(
        name=trigger.name,
        timing=trigger.timing,
        events=trigger.events,
        level=trigger.level,
        function=function_of(trigger, schema),
        columns=trigger.columns,
        when=when,
        arguments=trigger.arguments,
    )


def desired_triggers(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    schema: str,
    desired: Snapshot,
    paths: BlueprintPaths,
) -> dict[str, dict[str, Trigger]]:
    """Per blueprint table whose triggers it manages, the triggers it wants, by name."""
    out: dict[str, dict[str, Trigger]] = {}
    conditions: dict[str, list[tuple[int, NTrigger]]] = {}
    for table in bp.tables:
        if table.triggers is None:
            continue
        out[table.name] = {}
        for k, trigger in enumerate(table.triggers):
            out[table.name][trigger.name] = _as_value(trigger, schema, None)
            if trigger.when is not None:
                conditions.setdefault(table.name, []).append((k, trigger))
    if conditions:
        printed = _printed_conditions(conn, schema, desired, conditions, paths)
        source = {(n, t.name): t.when for n, items in conditions.items() for _, t in items}
        for (table_name, name), when in printed.items():
            wanted = out[table_name][name]
            out[table_name][name] = dataclasses.replace(
                wanted, when=when, when_source=source[(table_name, name)]
            )
    # The definition a reviewer reads: the statement that makes the trigger.
    return {
        table_name: {
            n: dataclasses.replace(
                t, definition=create_trigger_sql(t, qualified(schema, table_name))
            )
            for n, t in triggers.items()
        }
        for table_name, triggers in out.items()
    }


def _printed_conditions(
    conn: psycopg.Connection[Any],
    schema: str,
    desired: Snapshot,
    conditions: dict[str, list[tuple[int, NTrigger]]],
    paths: BlueprintPaths,
) -> dict[tuple[str, str], str | None]:
    """(table, trigger) -> its WHEN as PostgreSQL prints it, from scratch copies."""
    scratch = SCRATCH_PREFIX + secrets.token_hex(6)
    stand_in = qualified(scratch, _STAND_IN)
    issues: list[Issue] = []
    printed: dict[tuple[str, str], str | None] = {}
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(scratch)))
        path = sql.SQL("{}, {}").format(sql.Identifier(scratch), sql.Identifier(schema))
        cur.execute(
            sql.SQL("SELECT set_config('search_path', {}, true)").format(
                sql.Literal(path.as_string(conn))
            )
        )
        cur.execute(
            f"CREATE FUNCTION {stand_in}() RETURNS trigger LANGUAGE plpgsql "
            "AS 'BEGIN RETURN NULL; END'".encode()
        )
        for table_name, items in sorted(conditions.items()):
            shape = desired.table(table_name)
            if shape is None:
                continue
            columns = ", ".join(f"{quote_ident(c.name)} {c.type}" for c in shape.ordered_columns)
            copy = qualified(scratch, table_name)
            cur.execute(f"CREATE TABLE {copy} ({columns})".encode())
            for k, trigger in items:
                stand = dataclasses.replace(
                    _as_value(trigger, schema, trigger.when),
                    function=f"{scratch}.{_STAND_IN}",
                    arguments=(),
                )
                try:
                    with conn.transaction():
                        cur.execute(create_trigger_sql(stand, copy).encode())
                except psycopg.Error as exc:
                    message = exc.diag.message_primary or safe_message(exc)
                    issues.append(
                        Issue(
                            f"{paths.table(table_name)}.triggers[{k}].when",
                            "PostgreSQL rejected it: " + message.replace(scratch, schema),
                        )
                    )
        if not issues:
            found = read_triggers(conn, scratch, list(conditions), search_path=[schema])
            for table_name, items in conditions.items():
                for _, trigger in items:
                    live = found.of(table_name).get(trigger.name)
                    printed[(table_name, trigger.name)] = live.when if live else trigger.when
    if issues:
        raise BlueprintInvalid(issues)
    return printed

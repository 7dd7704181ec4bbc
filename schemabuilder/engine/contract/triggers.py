"""A table's triggers: ``triggers`` on a table, absent (left alone) or a list (exactly these).

Each entry is a trigger object or the one word ``"updated_at"``::

    {"name": "audit_orders", "timing": "after", "events": ["insert", {"update": ["status"]}],
     "level": "row", "when": "OLD.status IS DISTINCT FROM NEW.status",
     "function": "audit.log_change", "arguments": ["orders"]}

``events`` lists ``insert``, ``update``, ``delete``, ``truncate``; ``{"update": [columns]}``
is UPDATE OF those columns. ``function`` is ``name`` (the target schema's) or
``schema.name``. ``"updated_at"`` is the trigger that keeps a table's ``updated_at`` column
current: BEFORE UPDATE, FOR EACH ROW, executing ``<schema>.set_updated_at()``, which the plan
creates when the target lacks it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pglast import parser
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from schemabuilder.engine.contract import allowlist, fragments
from schemabuilder.engine.contract.errors import Issue
from schemabuilder.engine.contract.idents import did_you_mean, name_problem, snake_case

MAX_TRIGGERS = 100
MAX_ARGUMENTS = 20
UPDATED_AT = "updated_at"  # the one-word convenience, and the column it keeps current
UPDATED_AT_TRIGGER = "set_updated_at"
UPDATED_AT_FUNCTION = "set_updated_at"
UPDATED_AT_BODY = "BEGIN NEW.updated_at := now(); RETURN NEW; END;"
TIMINGS = ("before", "after", "instead of")
EVENTS = ("insert", "update", "delete", "truncate")
# The order pg_get_triggerdef prints events in; the normalized form keeps it.
EVENT_ORDER = ("INSERT", "DELETE", "UPDATE", "TRUNCATE")
LEVELS = ("row", "statement")
_TIMESTAMP_TYPES = ("timestamp", "timestamptz")
# The models a trigger entry or event is validated as beside a word: pydantic names them in
# an error's location, where they mean nothing to the person reading it.
UNION_BRANCHES = frozenset({"Trigger", "UpdateOf"})


def _name(value: str) -> str:
    problem = name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _timing(value: object) -> object:
    if not isinstance(value, str):
        return value
    spelled = " ".join(value.lower().split())
    if spelled not in TIMINGS:
        raise ValueError(
            f"{value[:40]!r} is not a trigger timing: use one of {', '.join(TIMINGS)}"
            + did_you_mean(spelled, TIMINGS)
        )
    return spelled


def _level(value: object) -> object:
    if not isinstance(value, str):
        return value
    spelled = value.strip().lower()
    if spelled not in LEVELS:
        raise ValueError(
            f"{value[:40]!r} is not a trigger level: use row (once per row) or statement "
            "(once per statement)"
        )
    return spelled


def _event(value: object) -> object:
    if isinstance(value, str):
        spelled = value.strip().lower()
        if spelled not in EVENTS:
            raise ValueError(
                f"{value[:40]!r} is not a trigger event: use one of {', '.join(EVENTS)}, or "
                '{"update": ["column", ...]} for UPDATE OF those columns'
                + did_you_mean(spelled, EVENTS)
            )
        return spelled
    if isinstance(value, dict) and set(value) != {"update"}:
        raise ValueError(
            'an event object is {"update": ["column", ...]} (UPDATE OF those columns): no other key'
        )
    return value


def _function(value: str) -> str:
    parts = value.split(".")
    if len(parts) > 2:
        raise ValueError(
            f"{value[:80]!r} is not a function name: write 'name' (a function of the target "
            "schema) or 'schema.name'"
        )
    for part in parts:
        problem = name_problem(part)
        if problem:
            raise ValueError(f"function {problem}")
    return value


def _argument(value: str) -> str:
    for char in value:
        if ord(char) < 32 or ord(char) == 127:
            raise ValueError(f"contains the control character U+{ord(char):04X}: remove it")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class UpdateOf(_Model):
    """UPDATE OF these columns: the trigger fires only when one of them is in the SET list."""

    update: Annotated[list[Annotated[str, AfterValidator(_name)]], Field(min_length=1)]


Event = Annotated[
    Literal["insert", "update", "delete", "truncate"] | UpdateOf,
    BeforeValidator(_event, json_schema_input_type=str | UpdateOf),
]


class Trigger(_Model):
    """One trigger of a table, as submitted."""

    name: Annotated[str, AfterValidator(_name)]
    timing: Annotated[
        Literal["before", "after", "instead of"],
        BeforeValidator(_timing, json_schema_input_type=str),
    ]
    events: Annotated[list[Event], Field(min_length=1, max_length=4)]
    level: Annotated[
        Literal["row", "statement"], BeforeValidator(_level, json_schema_input_type=str)
    ] = "row"
    when: Annotated[str, Field(max_length=10_000)] | None = None
    function: Annotated[str, Field(max_length=200), AfterValidator(_function)]
    arguments: Annotated[
        list[Annotated[str, Field(max_length=1_000), AfterValidator(_argument)]],
        Field(max_length=MAX_ARGUMENTS),
    ] = []
    renamed_from: Annotated[str, AfterValidator(_name)] | None = None


def _entry(value: object) -> object:
    if isinstance(value, str) and value != UPDATED_AT:
        raise ValueError(
            f"{value[:40]!r} is not a trigger: write a trigger object, or the one word "
            f"'{UPDATED_AT}' for the trigger that keeps the updated_at column current"
        )
    return value


TriggerEntry = Annotated[
    Literal["updated_at"] | Trigger, BeforeValidator(_entry, json_schema_input_type=str | Trigger)
]
Triggers = Annotated[list[TriggerEntry], Field(max_length=MAX_TRIGGERS)]


class NTrigger(BaseModel):
    """One trigger, normalized: names in snake_case, events in PostgreSQL's order, UPDATE OF
    columns sorted, the function split into its schema (None: the target's) and name."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    name: str
    timing: str  # BEFORE | AFTER | INSTEAD OF
    events: tuple[str, ...]
    columns: tuple[str, ...] = ()
    level: str = "ROW"  # ROW | STATEMENT
    when: str | None = None
    function_schema: str | None = None
    function: str
    arguments: tuple[str, ...] = ()
    renamed_from: str | None = None
    # The "updated_at" convenience, as written; left out of the canonical JSON otherwise.
    convenience: bool = Field(default=False, exclude_if=lambda v: not v)


def updated_at_trigger() -> NTrigger:
    """What the one word ``"updated_at"`` stands for."""
    return NTrigger(
        name=UPDATED_AT_TRIGGER,
        timing="BEFORE",
        events=("UPDATE",),
        function=UPDATED_AT_FUNCTION,
        convenience=True,
    )


def normalize_trigger(entry: str | Trigger) -> NTrigger:
    """One entry of a table's ``triggers``."""
    if isinstance(entry, str):
        return updated_at_trigger()
    kinds: set[str] = set()
    columns: set[str] = set()
    for event in entry.events:
        if isinstance(event, UpdateOf):
            kinds.add("UPDATE")
            columns.update(snake_case(c) for c in event.update)
        else:
            kinds.add(event.upper())
    schema, _, name = entry.function.rpartition(".")
    return NTrigger(
        name=snake_case(entry.name),
        timing=entry.timing.upper(),
        events=tuple(e for e in EVENT_ORDER if e in kinds),
        columns=tuple(sorted(columns)),
        level=entry.level.upper(),
        when=entry.when,
        function_schema=snake_case(schema) if schema else None,
        function=snake_case(name),
        arguments=tuple(entry.arguments),
        renamed_from=snake_case(entry.renamed_from) if entry.renamed_from else None,
    )


def normalize_triggers(entries: Sequence[str | Trigger] | None) -> tuple[NTrigger, ...] | None:
    """None (the table's triggers left alone) stays None."""
    return None if entries is None else tuple(normalize_trigger(e) for e in entries)


def when_problem(text: str) -> tuple[str, str | None]:
    """(the tidy text, why ``text`` cannot be a trigger's WHEN condition or None).

    What a check may call, on the row before (``OLD.column``) and after (``NEW.column``) the
    change: no bare column (a WHEN has no row of its own), no other qualifier, no sub-query.
    """
    checked = fragments.check_expression(text, allow_subqueries=False)
    if checked.problem:
        return text, f"expression {checked.problem}"
    tree = json.loads(parser.parse_sql_json(f"SELECT ({checked.text}\n)"))
    for ref in _column_refs(tree):
        fields = ref.get("fields", [])
        head = fields[0].get("String", {}).get("sval", "") if fields else ""
        if len(fields) != 2 or head.lower() not in ("old", "new"):
            shown = ".".join(f.get("String", {}).get("sval", "*") for f in fields)
            return checked.text, (
                f"names {shown!r}: a trigger's condition reads the row as OLD.column (before "
                "the change) or NEW.column (after it); write one of those"
            )
    if '"A_Indirection"' in json.dumps(tree):
        return checked.text, "selects a field as (x).f: write OLD.column or NEW.column"
    unqualified = fragments.Checked(
        checked.text, None, checked.column_refs, checked.simple, checked.calls, False
    )
    problem = allowlist.judge(unqualified, "check")[0]
    return checked.text, f"expression {problem}" if problem else None


def _column_refs(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "ColumnRef":
                    found.append(value)
                else:
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def is_timestamp(type_text: str) -> bool:
    """Whether a column type written in a blueprint is a timestamp, with or without zone."""
    spelled = " ".join(type_text.lower().replace("(", " (").split())
    head = spelled.split(" (")[0]
    return head in _TIMESTAMP_TYPES or head.startswith("timestamp with") or head == "timestamp"


def check_triggers(
    triggers: tuple[NTrigger, ...],
    columns: dict[str, str],
    path: str,
) -> list[Issue]:
    """What needs the whole table: names unique, renames once, UPDATE OF columns that exist,
    what PostgreSQL allows of timing and level together, the convenience's column.
    ``columns`` maps the table's column names to their blueprint types."""
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    renamed: dict[str, int] = {}
    for k, t in enumerate(triggers):
        here = f"{path}.triggers[{k}]"
        if t.name in seen:
            issues.append(
                Issue(
                    f"{here}.name" if not t.convenience else here,
                    f"triggers[{seen[t.name]}] already has the name '{t.name}': rename one",
                )
            )
        seen.setdefault(t.name, k)
        if t.convenience:
            type_ = columns.get(UPDATED_AT)
            if type_ is None or not is_timestamp(type_):
                issues.append(
                    Issue(
                        here,
                        f"'{UPDATED_AT}' keeps the column updated_at current, and this table "
                        + (
                            f"has it as {type_}: make it a timestamptz"
                            if type_ is not None
                            else "has no such column: add one (timestamptz; auto_columns "
                            "adds it) or remove the entry"
                        ),
                    )
                )
            continue
        if t.renamed_from:
            if t.renamed_from == t.name:
                issues.append(Issue(f"{here}.renamed_from", "is the trigger's own name: remove it"))
            elif t.renamed_from in renamed:
                issues.append(
                    Issue(
                        f"{here}.renamed_from",
                        f"triggers[{renamed[t.renamed_from]}] is already renamed from "
                        f"'{t.renamed_from}': a trigger can be renamed only once",
                    )
                )
            renamed.setdefault(t.renamed_from, k)
        if t.timing == "INSTEAD OF":
            issues.append(
                Issue(
                    f"{here}.timing",
                    "INSTEAD OF triggers are for views and a table cannot have one: use "
                    "before or after",
                )
            )
        if "TRUNCATE" in t.events and t.level == "ROW":
            issues.append(
                Issue(
                    f"{here}.level",
                    'a TRUNCATE trigger fires once per statement: set "level": "statement" '
                    "or remove truncate",
                )
            )
        if t.when is not None:
            if t.level == "STATEMENT":
                issues.append(
                    Issue(
                        f"{here}.when",
                        "a statement-level trigger has no row to test: remove when or set "
                        '"level": "row"',
                    )
                )
            else:
                _, problem = when_problem(t.when)
                if problem:
                    issues.append(Issue(f"{here}.when", problem))
        for column in t.columns:
            if column not in columns:
                issues.append(
                    Issue(
                        f"{here}.events",
                        f"UPDATE OF names '{column}', which is not a column of the table: "
                        f"use one of {', '.join(list(columns)[:12])}",
                    )
                )
    return issues


def triggers_payload(triggers: tuple[NTrigger, ...] | None) -> dict[str, Any]:
    """A table's triggers as the payload writes them (nothing when they are left alone)."""
    if triggers is None:
        return {}
    out: list[Any] = []
    for t in triggers:
        if t.convenience:
            out.append(UPDATED_AT)
            continue
        events: list[Any] = [
            {"update": list(t.columns)} if e == "UPDATE" and t.columns else e.lower()
            for e in t.events
        ]
        entry: dict[str, Any] = {
            "name": t.name,
            "timing": t.timing.lower(),
            "events": events,
            "level": t.level.lower(),
            "function": f"{t.function_schema}.{t.function}" if t.function_schema else t.function,
        }
        if t.when is not None:
            entry["when"] = t.when
        if t.arguments:
            entry["arguments"] = list(t.arguments)
        if t.renamed_from:
            entry["renamed_from"] = t.renamed_from
        out.append(entry)
    return {"triggers": out}

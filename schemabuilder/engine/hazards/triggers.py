"""Hazards of triggers (CHANGES_CODE): code that runs later, with the target's rights.

A trigger runs its function inside every write it fires on, as the role that writes, so a
new or changed one changes what writes do: it is reviewed (a warning), shown before and
after. Whose code it runs is said: the blueprint's own, or a function this blueprint does
not manage (of the target, or of another schema, such as an extension's or a platform's).
Dropping a trigger stops behaviour the application may rely on (a timestamp kept, an audit
row written). The ``updated_at`` convenience is the one well-known body: worth knowing only.
"""

from __future__ import annotations

from schemabuilder.engine.catalog.triggers import Trigger
from schemabuilder.engine.hazards import Hazard, HazardKind, Severity


def _whose(trigger: Trigger, schema: str, managed: bool) -> str:
    if managed:
        return f"{trigger.function}(), a function of this blueprint"
    if trigger.function_schema != schema:
        return (
            f"{trigger.function}(), code of schema {trigger.function_schema} that this "
            "blueprint does not manage: review what it does"
        )
    return (
        f"{trigger.function}(), code already on the target that this blueprint does not "
        "manage: review what it does"
    )


def _numbers(before: Trigger | None, after: Trigger | None) -> dict[str, str | None]:
    either = after or before
    return {
        "trigger": either.name if either is not None else None,
        "function": either.function if either is not None else None,
        "before": before.definition if before is not None else None,
        "after": after.definition if after is not None else None,
    }


def trigger_created(
    table: str, trigger: Trigger, *, schema: str, managed: bool, convenience: bool
) -> Hazard:
    """A new trigger on ``table``."""
    if convenience:
        return Hazard(
            HazardKind.CHANGES_CODE,
            Severity.INFO,
            f"trigger {trigger.name} on {table} sets updated_at to now() on every update "
            "(the updated_at convenience)",
            table,
            _numbers(None, trigger),
        )
    return Hazard(
        HazardKind.CHANGES_CODE,
        Severity.WARNING,
        f"trigger {trigger.name} on {table} is created: every {_fires(trigger)} runs "
        + _whose(trigger, schema, managed),
        table,
        _numbers(None, trigger),
    )


def trigger_changed(
    table: str, before: Trigger, after: Trigger, *, schema: str, managed: bool
) -> Hazard:
    """A trigger of ``table`` that fires differently or runs other code."""
    return Hazard(
        HazardKind.CHANGES_CODE,
        Severity.WARNING,
        f"trigger {after.name} on {table} changes: from now on every {_fires(after)} runs "
        + _whose(after, schema, managed),
        table,
        _numbers(before, after),
    )


def trigger_dropped(table: str, trigger: Trigger) -> Hazard:
    """A trigger of ``table`` goes away."""
    return Hazard(
        HazardKind.CHANGES_CODE,
        Severity.WARNING,
        f"trigger {trigger.name} on {table} is dropped: {trigger.function}() no longer runs "
        f"on {_fires(trigger)}, and behaviour the application relies on may stop",
        table,
        _numbers(trigger, None),
    )


def trigger_renamed(table: str, old: str, new: str) -> Hazard:
    """A trigger of ``table`` keeps firing under another name."""
    return Hazard(
        HazardKind.RENAMES_OBJECT,
        Severity.INFO,
        f"trigger {old} on {table} is renamed to {new} (renamed_from); it fires as before",
        table,
        {"old": old, "new": new},
    )


def function_created(schema: str, name: str) -> Hazard:
    """The updated_at convenience's function, created because the target lacks it."""
    return Hazard(
        HazardKind.CHANGES_CODE,
        Severity.INFO,
        f"function {schema}.{name}() is created for the updated_at convenience: it sets "
        "NEW.updated_at to now() and nothing else",
        "",
        {"function": f"{schema}.{name}"},
    )


def _fires(trigger: Trigger) -> str:
    events = " or ".join(e.lower() for e in trigger.events)
    unit = "row" if trigger.level == "ROW" else "statement"
    return f"{events} ({trigger.timing.lower()}, per {unit})"

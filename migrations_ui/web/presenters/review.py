"""What a reviewer reads, shaped from a plan's JSON: changes per table with before and after,
the risk report in order of danger, the statements with their progress, the summary line.

Plain functions over the stored JSON (the plan is the record of what was reviewed), so a
proposal page never needs the engine or a target connection to render.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from migrations_ui.web.presenters import stages

JSON = dict[str, Any]

SEVERITY_RANK = {"danger": 0, "warning": 1, "info": 2}
# Destructive changes first: they are what a reviewer must not miss.
ACTION_RANK = {"dropped": 0, "altered": 1, "renamed": 1, "created": 2}
MEMBER_KINDS = ("constraint", "index", "policy", "table")


@dataclass(frozen=True)
class Row:
    """One line of a table's before/after view; ``state`` is added, dropped, altered, renamed
    or same (unchanged, shown for context)."""

    kind: str
    name: str
    state: str
    before: str | None
    after: str | None
    renamed_from: str | None = None


@dataclass
class TableView:
    name: str
    action: str
    renamed_from: str | None
    columns: list[Row] = field(default_factory=list)
    members: list[Row] = field(default_factory=list)
    hazards: list[JSON] = field(default_factory=list)

    @property
    def worst(self) -> str | None:
        return min((h["severity"] for h in self.hazards), key=_rank, default=None)

    @property
    def changed_columns(self) -> int:
        return sum(1 for r in self.columns if r.state != "same")

    @property
    def side_by_side(self) -> bool:
        return self.action == "altered"


def _rank(severity: str) -> int:
    return SEVERITY_RANK.get(severity, 3)


# ---- one-line renderings of snapshot members ------------------------------------------------


def column_text(col: Mapping[str, Any] | None) -> str | None:
    """``text NOT NULL DEFAULT now()``: a column as a person writes it."""
    if col is None:
        return None
    parts = [str(col.get("type", ""))]
    if col.get("identity"):
        parts.append(f"GENERATED {col['identity']} AS IDENTITY")
    if col.get("generated"):
        parts.append(str(col["generated"]))
    if col.get("collation"):
        parts.append(f"COLLATE {col['collation']}")
    if col.get("not_null"):
        parts.append("NOT NULL")
    if col.get("default") is not None:
        parts.append(f"DEFAULT {col['default']}")
    return " ".join(parts)


def member_text(kind: str, obj: Any) -> str | None:
    if obj is None:
        return None
    if not isinstance(obj, Mapping):
        return str(obj)
    if kind == "column":
        return column_text(obj)
    if kind == "constraint":
        return str(obj.get("definition", ""))
    if kind == "index":
        unique = "UNIQUE " if obj.get("unique") else ""
        return f"{unique}{obj.get('definition', '')}"
    if kind == "policy":
        text = f"FOR {obj.get('command', 'ALL')} TO {', '.join(obj.get('roles') or ['public'])}"
        if obj.get("using"):
            text += f" USING ({obj['using']})"
        if obj.get("with_check"):
            text += f" WITH CHECK ({obj['with_check']})"
        return text
    return ", ".join(f"{k}: {v}" for k, v in obj.items() if v not in (None, "", [], False))


def ordered_columns(table: Mapping[str, Any] | None) -> list[JSON]:
    """A snapshot table's columns in the order the table has them (the diagram's too)."""
    if not table:
        return []
    return sorted(table.get("columns", []), key=lambda c: (c.get("position", 0), c["name"]))


def member_state(m: Mapping[str, Any]) -> str:
    """added, dropped, altered or renamed: one member of a change, as pages and the diagram
    colour it."""
    return "renamed" if m.get("renamed_from") and m["action"] == "altered" else str(m["action"])


def _whole_table_rows(table: Mapping[str, Any] | None, state: str) -> tuple[list[Row], list[Row]]:
    """Every column and member of a created (or dropped) table, all in one state."""
    columns = [
        Row("column", c["name"], state, *_sides(state, column_text(c)))
        for c in ordered_columns(table)
    ]
    members: list[Row] = []
    for kind, key in (("constraint", "constraints"), ("index", "indexes"), ("policy", "policies")):
        for obj in (table or {}).get(key, []):
            members.append(Row(kind, obj["name"], state, *_sides(state, member_text(kind, obj))))
    return columns, members


def _sides(state: str, text: str | None) -> tuple[str | None, str | None]:
    return (text, None) if state == "dropped" else (None, text)


def _altered_rows(
    change: Mapping[str, Any], desired: Mapping[str, Any] | None
) -> tuple[list[Row], list[Row]]:
    """Columns: every column of the table after the change, unchanged ones included (so the
    two sides read as the whole table), plus the dropped ones; other members: changes only."""
    by_column: dict[str, JSON] = {}
    members: list[Row] = []
    for m in change.get("members", []):
        if m["kind"] == "column":
            by_column[m["name"]] = m
        else:
            members.append(_member_row(m))
    columns: list[Row] = []
    for col in ordered_columns(desired):
        m = by_column.pop(col["name"], None)
        if m is None:
            text = column_text(col)
            columns.append(Row("column", col["name"], "same", text, text))
        else:
            columns.append(_member_row(m))
    # Dropped columns (and any change the desired table does not show) at the end.
    columns.extend(_member_row(m) for m in by_column.values())
    return columns, members


def _member_row(m: Mapping[str, Any]) -> Row:
    return Row(
        m["kind"],
        m["name"],
        member_state(m),
        member_text(m["kind"], m.get("before")),
        member_text(m["kind"], m.get("after")),
        m.get("renamed_from"),
    )


def table_views(
    changes: Iterable[Mapping[str, Any]],
    desired_tables: Mapping[str, Mapping[str, Any]],
    hazards: Iterable[Mapping[str, Any]] = (),
) -> list[TableView]:
    """The changes grouped by table, the most dangerous and destructive first."""
    by_table: dict[str, list[JSON]] = {}
    for h in hazards:
        by_table.setdefault(str(h.get("table") or ""), []).append(dict(h))
    views = []
    for change in changes:
        action = change["action"]
        if action == "created":
            columns, members = _whole_table_rows(change.get("after"), "added")
        elif action == "dropped":
            columns, members = _whole_table_rows(change.get("before"), "dropped")
        else:
            columns, members = _altered_rows(change, desired_tables.get(change["table"]))
        view = TableView(
            name=change["table"],
            action=action,
            renamed_from=change.get("renamed_from"),
            columns=columns,
            members=members,
            hazards=sorted(by_table.get(change["table"], []), key=lambda h: _rank(h["severity"])),
        )
        views.append(view)
    views.sort(key=lambda v: (_rank(v.worst or ""), ACTION_RANK.get(v.action, 3), v.name))
    return views


def desired_tables(plan: Mapping[str, Any]) -> dict[str, JSON]:
    return {t["name"]: t for t in (plan.get("desired") or {}).get("tables", [])}


def risk_report(plan: Mapping[str, Any]) -> list[JSON]:
    """Every hazard, dangerous ones first, each with the statement it belongs to.

    Statements are numbered from 1 in the order of the plan's SQL, the setup line included:
    the numbers the statement table, the SQL lint and an apply error use too.
    """
    where: dict[tuple[str, str, str], int] = {}
    for n, stmt in enumerate(plan.get("statements", []), start=1):
        for h in stmt.get("hazards", []):
            where.setdefault((h["kind"], h.get("table", ""), h["message"]), n)
    rows = []
    for h in plan.get("hazards", []):
        rows.append(
            {
                **h,
                "statement": where.get((h["kind"], h.get("table", ""), h["message"])),
                "number_items": sorted((h.get("numbers") or {}).items()),
            }
        )
    return sorted(rows, key=lambda h: _rank(h["severity"]))


@dataclass(frozen=True)
class StatementRow:
    index: int
    sql: str
    phase: str
    table: str
    reason: str
    lock: str
    kinds: list[str]
    worst: str | None
    ms: float | None
    state: str  # done | running | pending | failed | "" (not applying)
    stage: int = 1  # 1: in the change's transaction; 2: online, after it commits


def statement_rows(
    plan: Mapping[str, Any], timings: Mapping[str, Any], *, applying: bool
) -> list[StatementRow]:
    ms = {t["index"]: t["ms"] for t in timings.get("statements", [])}
    done = int((timings.get("progress") or {}).get("done", 0))
    # An online change: where each stage is, and the second stage's times (``stages``).
    staged, stage_ms = stages.statement_states(plan, timings, applying=applying)
    ms.update(stage_ms)
    rows = []
    for n, s in enumerate(plan.get("statements", [])):
        state = ""
        if applying:
            by_count = "done" if n < done else ("running" if n == done else "pending")
            state = staged.get(n) or by_count
        hazards = s.get("hazards", [])
        rows.append(
            StatementRow(
                index=n + 1,
                sql=s["sql"],
                phase=s["phase"],
                table=s.get("table", ""),
                reason=s.get("reason", ""),
                lock=s.get("lock", ""),
                kinds=[h["kind"] for h in hazards],
                worst=min((h["severity"] for h in hazards), key=_rank, default=None),
                ms=ms.get(n),
                state=state,
                stage=int(s.get("stage", 1)),
            )
        )
    return rows


def summary(plan: Mapping[str, Any]) -> JSON:
    """Counts for the one line a reviewer reads first."""
    actions = Counter(c["action"] for c in plan.get("changes", []))
    severities = Counter(h["severity"] for h in plan.get("hazards", []))
    statements = [s for s in plan.get("statements", []) if s.get("phase") != "setup"]
    return {
        "created": actions.get("created", 0),
        "altered": actions.get("altered", 0),
        "dropped": actions.get("dropped", 0),
        "danger": severities.get("danger", 0),
        "warning": severities.get("warning", 0),
        "info": severities.get("info", 0),
        "statements": len(statements),
        "tables": len(plan.get("changes", [])),
    }


def schema_tables(snapshot: Mapping[str, Any] | None) -> list[TableView]:
    """Every table of a snapshot as it is (no change), by name: the schema at a version."""
    views = []
    for table in sorted((snapshot or {}).get("tables", []), key=lambda t: t["name"]):
        columns, members = _whole_table_rows(table, "same")
        views.append(TableView(table["name"], "same", None, columns, members))
    return views

"""Entity-relationship diagrams as server-side SVG: no JavaScript, nothing from a CDN.

A diagram is made from a snapshot's JSON (a target's managed schema at some version), or
from a plan's JSON (the schema the proposal leads to, with what it adds, alters and drops
coloured). The layout is deliberately simple and deterministic: tables ordered parents
before children, placed in a few columns (each table goes to the shortest column), foreign
keys drawn as curves from the referencing column to the referenced table. Colours come from
classes in static/app.css: the CSP forbids inline styles.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from migrations_ui.web.presenters.review import member_state, ordered_columns

JSON = dict[str, Any]

CHAR_W = 7.2  # 12px monospace
HEADER_H = 26
ROW_H = 18
PAD = 8
GAP_X = 56  # room for the curves between columns
GAP_Y = 22
MIN_W, MAX_W = 170, 330
MAX_TYPE = 26
MAX_GRID_COLUMNS = 4
# Unchanged tables of a large plan show only their key columns: the eye goes to the changes.
COMPACT_OVER = 12


@dataclass(frozen=True)
class ErdColumn:
    name: str
    type: str
    state: str = "same"  # added | dropped | altered | renamed | same
    key: str = ""  # pk | fk | ""


@dataclass
class ErdTable:
    name: str
    state: str = "same"  # added | dropped | altered | same
    columns: list[ErdColumn] = field(default_factory=list)
    hidden: int = 0  # columns left out (compact view)
    # Layout, filled by _layout.
    x: float = 0
    y: float = 0
    w: float = 0

    @property
    def h(self) -> float:
        rows = len(self.columns) + (1 if self.hidden else 0)
        return HEADER_H + rows * ROW_H + PAD

    def row_y(self, column: str) -> float:
        for n, col in enumerate(self.columns):
            if col.name == column:
                return self.y + HEADER_H + n * ROW_H + ROW_H / 2 + 2
        return self.y + HEADER_H / 2


@dataclass(frozen=True)
class ErdEdge:
    source: str
    column: str
    target: str
    state: str = "same"


@dataclass
class Diagram:
    tables: list[ErdTable]
    edges: list[ErdEdge]

    @property
    def counts(self) -> dict[str, int]:
        counts = {"added": 0, "altered": 0, "dropped": 0, "same": 0}
        for t in self.tables:
            counts[t.state] = counts.get(t.state, 0) + 1
        return counts


# ---- building ------------------------------------------------------------------------------


def _keys(table: Mapping[str, Any]) -> tuple[set[str], list[tuple[str, str]]]:
    pk: set[str] = set()
    fks: list[tuple[str, str]] = []
    for con in table.get("constraints", []):
        if con.get("kind") == "PRIMARY KEY":
            pk.update(con.get("columns", []))
        elif con.get("kind") == "FOREIGN KEY" and con.get("ref_table"):
            fks.extend((col, con["ref_table"]) for col in con.get("columns", [])[:1])
    return pk, fks


def _columns(table: Mapping[str, Any], states: Mapping[str, str], default: str) -> list[ErdColumn]:
    pk, fks = _keys(table)
    fk_cols = {c for c, _ in fks}
    return [
        ErdColumn(
            name=c["name"],
            type=str(c.get("type", "")),
            state=states.get(c["name"], default),
            key="pk" if c["name"] in pk else ("fk" if c["name"] in fk_cols else ""),
        )
        for c in ordered_columns(table)
    ]


def _compact(table: ErdTable) -> None:
    keep = [c for c in table.columns if c.key or c.state != "same"]
    table.hidden = len(table.columns) - len(keep)
    table.columns = keep


def from_snapshot(snapshot: Mapping[str, Any] | None, *, compact: bool | None = None) -> Diagram:
    """A target's schema as it is (or was, at some version): every table unchanged."""
    tables_json = list((snapshot or {}).get("tables", []))
    if compact is None:
        compact = len(tables_json) > COMPACT_OVER
    tables, edges = [], []
    for t in tables_json:
        table = ErdTable(t["name"], "same", _columns(t, {}, "same"))
        if compact:
            _compact(table)
        tables.append(table)
        edges.extend(ErdEdge(t["name"], col, ref) for col, ref in _keys(t)[1])
    return Diagram(tables, edges)


def from_changes(
    desired: Mapping[str, Any] | None, changes: Iterable[Mapping[str, Any]]
) -> Diagram:
    """The schema a change leads to (``desired``), with its changes coloured, plus the tables
    and columns it drops (which ``desired`` no longer has)."""
    by_table = {c["table"]: c for c in changes}
    desired_tables = list((desired or {}).get("tables", []))
    compact = len(desired_tables) > COMPACT_OVER
    tables: list[ErdTable] = []
    edges: list[ErdEdge] = []
    for t in desired_tables:
        change = by_table.get(t["name"])
        action = change["action"] if change else "same"
        states: dict[str, str] = {}
        dropped_cols: list[JSON] = []
        if change and action == "altered":
            for m in change.get("members", []):
                if m["kind"] != "column":
                    continue
                states[m["name"]] = member_state(m)
                if m["action"] == "dropped" and m.get("before"):
                    dropped_cols.append(m["before"])
        state = {"created": "added", "altered": "altered"}.get(action, "same")
        default = "added" if state == "added" else "same"
        columns = _columns(t, states, default)
        columns += [ErdColumn(c["name"], str(c.get("type", "")), "dropped") for c in dropped_cols]
        table = ErdTable(t["name"], state, columns)
        if compact and state == "same":
            _compact(table)
        tables.append(table)
        edge_state = "added" if state == "added" else "same"
        edges.extend(ErdEdge(t["name"], col, ref, edge_state) for col, ref in _keys(t)[1])
    for change in by_table.values():
        if change["action"] == "dropped" and change.get("before"):
            before = change["before"]
            tables.append(ErdTable(before["name"], "dropped", _columns(before, {}, "dropped")))
            edges.extend(
                ErdEdge(before["name"], col, ref, "dropped") for col, ref in _keys(before)[1]
            )
    return Diagram(tables, edges)


# ---- layout and drawing ------------------------------------------------------------------


def _order(diagram: Diagram) -> list[ErdTable]:
    """Parents before children (referenced tables first), by name otherwise."""
    names = {t.name: t for t in diagram.tables}
    parents: dict[str, set[str]] = {n: set() for n in names}
    for e in diagram.edges:
        if e.source in names and e.target in names and e.source != e.target:
            parents[e.source].add(e.target)
    depth: dict[str, int] = {}

    def depth_of(name: str, seen: frozenset[str] = frozenset()) -> int:
        if name in depth:
            return depth[name]
        if name in seen:  # a cycle of foreign keys: stop here
            return 0
        d = max((depth_of(p, seen | {name}) + 1 for p in parents[name]), default=0)
        depth[name] = d
        return d

    return sorted(diagram.tables, key=lambda t: (depth_of(t.name), t.name))


def _layout(diagram: Diagram) -> tuple[float, float]:
    tables = _order(diagram)
    if not tables:
        return 0, 0
    grid = max(1, min(MAX_GRID_COLUMNS, math.ceil(math.sqrt(len(tables)))))
    columns: list[list[ErdTable]] = [[] for _ in range(grid)]
    heights = [0.0] * grid
    for t in tables:
        longest = max(
            [len(t.name) + 4] + [len(c.name) + min(len(c.type), MAX_TYPE) + 5 for c in t.columns]
        )
        t.w = max(MIN_W, min(MAX_W, longest * CHAR_W + 2 * PAD))
        n = heights.index(min(heights))
        columns[n].append(t)
        heights[n] += t.h + GAP_Y
    x = PAD
    for col in columns:
        width = max((t.w for t in col), default=0)
        y = PAD
        for t in col:
            t.x, t.y, t.w = x, y, width
            y += t.h + GAP_Y
        x += width + GAP_X
    return x - GAP_X + PAD, max(heights) - GAP_Y + 2 * PAD


def _edge_path(src: ErdTable, column: str, dst: ErdTable) -> str:
    y1 = src.row_y(column)
    y2 = dst.y + HEADER_H / 2
    if src is dst:
        x = src.x + src.w
        return f"M{x:.0f},{y1:.0f} C{x + 40:.0f},{y1:.0f} {x + 40:.0f},{y2:.0f} {x:.0f},{y2:.0f}"
    if abs(src.x - dst.x) < 1:  # same grid column: bulge out to the right
        x = src.x + src.w
        bend = 30 + min(60, abs(y2 - y1) / 6)
        return (
            f"M{x:.0f},{y1:.0f} C{x + bend:.0f},{y1:.0f} {x + bend:.0f},{y2:.0f} {x:.0f},{y2:.0f}"
        )
    if src.x < dst.x:
        x1, x2 = src.x + src.w, dst.x
    else:
        x1, x2 = src.x, dst.x + dst.w
    mid = (x1 + x2) / 2
    return f"M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"


STATE_WORD = {
    "added": "added",
    "dropped": "dropped",
    "altered": "altered",
    "renamed": "renamed",
    "same": "",
}


def render_svg(diagram: Diagram, *, label: str) -> SafeString:
    """The diagram as an inline ``<svg>`` (every text escaped)."""
    width, height = _layout(diagram)
    if not diagram.tables:
        return mark_safe("")
    by_name = {t.name: t for t in diagram.tables}
    out = [
        f'<svg class="erd" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{escape(label)}">',
        '<defs><marker id="erd-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" '
        'class="erd-arrowhead"/></marker></defs>',
    ]
    for e in diagram.edges:
        src, dst = by_name.get(e.source), by_name.get(e.target)
        if src is None or dst is None:
            continue
        out.append(
            f'<path class="erd-edge erd-edge-{e.state}" d="{_edge_path(src, e.column, dst)}" '
            f'marker-end="url(#erd-arrow)"><title>{escape(e.source)}.{escape(e.column)} → '
            f"{escape(e.target)}</title></path>"
        )
    for t in diagram.tables:
        out.append(_table_svg(t))
    out.append("</svg>")
    return mark_safe("".join(out))


def _table_svg(t: ErdTable) -> str:
    word = STATE_WORD.get(t.state, "")
    parts = [
        f'<g class="erd-table erd-{t.state}" data-table="{escape(t.name)}">',
        f"<title>{escape(t.name)}{' (' + word + ')' if word else ''}</title>",
        f'<rect class="erd-box" x="{t.x:.0f}" y="{t.y:.0f}" width="{t.w:.0f}" '
        f'height="{t.h:.0f}" rx="6"/>',
        f'<path class="erd-head" d="M{t.x:.0f},{t.y + HEADER_H:.0f} v-{HEADER_H - 6} '
        f"a6,6 0 0 1 6,-6 h{t.w - 12:.0f} a6,6 0 0 1 6,6 v{HEADER_H - 6}"
        f' z"/>',
        f'<text class="erd-name" x="{t.x + PAD:.0f}" y="{t.y + 17:.0f}">{escape(t.name)}</text>',
    ]
    if word:
        parts.append(
            f'<text class="erd-tag" x="{t.x + t.w - PAD:.0f}" y="{t.y + 17:.0f}" '
            f'text-anchor="end">{word}</text>'
        )
    y = t.y + HEADER_H
    for col in t.columns:
        base = y + ROW_H - 5
        cword = STATE_WORD.get(col.state, "")
        parts.append(f'<g class="erd-col erd-col-{col.state}">')
        if col.state != "same":
            parts.append(
                f'<rect class="erd-mark" x="{t.x + 1:.0f}" y="{y + 1:.0f}" '
                f'width="{t.w - 2:.0f}" height="{ROW_H - 1}"/>'
            )
        key = {"pk": "PK", "fk": "FK"}.get(col.key, "")
        title = f"{col.name} {col.type}{' — ' + cword if cword else ''}"
        parts.append(f"<title>{escape(title)}</title>")
        if key:
            parts.append(f'<text class="erd-key" x="{t.x + PAD:.0f}" y="{base:.0f}">{key}</text>')
        parts.append(
            f'<text class="erd-colname" x="{t.x + PAD + 22:.0f}" y="{base:.0f}">'
            f"{escape(col.name)}</text>"
        )
        typ = col.type if len(col.type) <= MAX_TYPE else col.type[: MAX_TYPE - 1] + "…"
        parts.append(
            f'<text class="erd-type" x="{t.x + t.w - PAD:.0f}" y="{base:.0f}" '
            f'text-anchor="end">{escape(typ)}</text></g>'
        )
        y += ROW_H
    if t.hidden:
        parts.append(
            f'<text class="erd-more" x="{t.x + PAD + 22:.0f}" y="{y + ROW_H - 5:.0f}">'
            f"+ {t.hidden} more column{'s' if t.hidden != 1 else ''}</text>"
        )
    parts.append("</g>")
    return "".join(parts)

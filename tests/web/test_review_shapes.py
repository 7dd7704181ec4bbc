"""The pure helpers behind the pages: JSON lines, the change view, the diagram, squawk."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from migrations_ui.web.presenters import erd, review, sqltools
from migrations_ui.web.presenters.json_lines import line_of, path_lines

TEXT = """{
  "schema_version": "001",
  "tables": [
    {"name": "a"},
    {
      "name": "b",
      "columns": [{"name": "x", "type": "TEXT"}]
    }
  ]
}"""


def test_json_paths_map_to_their_lines():
    lines = path_lines(TEXT)
    assert lines["schema_version"] == 2
    assert lines["tables[0]"] == 4 and lines["tables[0].name"] == 4
    assert lines["tables[1].name"] == 6
    assert lines["tables[1].columns[0].type"] == 7


def test_a_missing_key_is_placed_at_its_parent():
    lines = path_lines(TEXT)
    assert line_of(lines, "tables[1].columns[0].not_null") == 7
    assert line_of(lines, "tables[1].description") == 5
    assert line_of(lines, "description") == 1


def test_broken_json_gives_what_was_found_and_never_raises():
    lines = path_lines('{"a": 1,\n "b": [1, 2, {"c": ')
    assert lines["a"] == 1 and lines["b"] == 2
    deep = path_lines(
        "[" * 5000
    )  # nesting beyond any blueprint: the scan stops, no recursion error
    assert 0 < len(deep) <= 66


COL = {"name": "phone", "type": "text", "not_null": False, "default": None, "position": 7}
TABLE = {
    "name": "patients",
    "columns": [
        {
            "name": "id",
            "type": "uuid",
            "not_null": True,
            "default": "gen_random_uuid()",
            "position": 1,
        },
        {"name": "email", "type": "text", "position": 8},
    ],
    "constraints": [
        {
            "name": "patients_pkey",
            "kind": "PRIMARY KEY",
            "definition": "PRIMARY KEY (id)",
            "columns": ["id"],
        }
    ],
}
CHANGES = [
    {
        "table": "patients",
        "action": "altered",
        "members": [
            {
                "kind": "column",
                "name": "email",
                "action": "added",
                "before": None,
                "after": TABLE["columns"][1],
            },
            {"kind": "column", "name": "phone", "action": "dropped", "before": COL, "after": None},
        ],
    },
    {
        "table": "old_log",
        "action": "dropped",
        "members": [],
        "before": {"name": "old_log", "columns": [COL]},
    },
]
HAZARDS = [
    {
        "kind": "ACCESS_EXCLUSIVE_LOCK",
        "severity": "warning",
        "message": "locks",
        "table": "patients",
    },
    {
        "kind": "DROPS_COLUMN",
        "severity": "danger",
        "message": "drops phone",
        "table": "patients",
        "numbers": {"rows": 3},
    },
]


def test_an_altered_table_shows_the_whole_table_before_and_after():
    [patients, old_log] = review.table_views(CHANGES, {"patients": TABLE}, HAZARDS)
    assert patients.name == "patients" and patients.worst == "danger"  # most dangerous first
    states = {r.name: (r.state, r.before, r.after) for r in patients.columns}
    assert states["id"] == (
        "same",
        "uuid NOT NULL DEFAULT gen_random_uuid()",
        "uuid NOT NULL DEFAULT gen_random_uuid()",
    )
    assert states["email"] == ("added", None, "text")
    assert states["phone"] == ("dropped", "text", None)
    assert [h["kind"] for h in patients.hazards] == ["DROPS_COLUMN", "ACCESS_EXCLUSIVE_LOCK"]
    assert old_log.action == "dropped" and old_log.columns[0].before == "text"


def test_the_risk_report_puts_danger_first_and_names_the_statement():
    plan = {
        "hazards": HAZARDS,
        "statements": [
            {"sql": "SET", "hazards": []},
            {"sql": "ALTER", "hazards": [HAZARDS[1], HAZARDS[0]]},
        ],
    }
    risks = review.risk_report(plan)
    assert [r["kind"] for r in risks] == ["DROPS_COLUMN", "ACCESS_EXCLUSIVE_LOCK"]
    # The ALTER is the second statement of the SQL, as an apply error would count it.
    assert risks[0]["statement"] == 2 and risks[0]["number_items"] == [("rows", 3)]


def test_the_summary_counts_what_a_reviewer_reads_first():
    plan = {
        "changes": CHANGES,
        "hazards": HAZARDS,
        "statements": [{"phase": "setup"}, {"phase": "x"}],
    }
    assert review.summary(plan) == {
        "created": 0,
        "altered": 1,
        "dropped": 1,
        "danger": 1,
        "warning": 1,
        "info": 0,
        "statements": 1,
        "tables": 2,
    }


def test_the_diagram_marks_each_change_and_escapes_every_name():
    visits = {
        "name": "visits<x>",
        "columns": [{"name": "patient_id", "type": "uuid", "position": 1}],
        "constraints": [
            {
                "name": "fk",
                "kind": "FOREIGN KEY",
                "columns": ["patient_id"],
                "ref_table": "patients",
                "definition": "",
            }
        ],
    }
    changes = [
        *CHANGES,
        {"table": "visits<x>", "action": "created", "members": [], "after": visits},
    ]
    diagram = erd.from_changes({"tables": [TABLE, visits]}, changes)
    assert diagram.counts == {"added": 1, "altered": 1, "dropped": 1, "same": 0}
    svg = str(erd.render_svg(diagram, label="after"))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "visits&lt;x&gt;" in svg and "visits<x>" not in svg
    assert 'class="erd-col erd-col-dropped"' in svg and 'class="erd-col erd-col-added"' in svg
    assert svg.count('class="erd-edge') == 1


def test_a_large_schema_shows_only_key_columns_of_unchanged_tables():
    tables = [
        {
            "name": f"t{n:02d}",
            "columns": [{"name": f"c{i}", "type": "text", "position": i} for i in range(10)],
        }
        for n in range(erd.COMPACT_OVER + 1)
    ]
    diagram = erd.from_snapshot({"tables": tables})
    assert all(t.hidden == 10 and not t.columns for t in diagram.tables)
    assert "+ 10 more columns" in str(erd.render_svg(diagram, label="big"))


def test_statement_lines_follow_the_plan_sql():
    assert sqltools.statement_lines(["SET x", "CREATE TABLE t (\n a int\n)", "SELECT 1"]) == [
        1,
        2,
        5,
    ]


@pytest.mark.skipif(sqltools.squawk_binary() is None, reason="squawk-cli is a dev dependency")
def test_squawk_reports_a_dropped_column_and_is_cached():
    cache.clear()
    sql = "SET LOCAL search_path TO public;\nALTER TABLE public.t DROP COLUMN c;\n"
    report = sqltools.squawk_report(
        sql,
        "k1",
        statements=["SET LOCAL search_path TO public", "ALTER TABLE public.t DROP COLUMN c"],
    )
    assert report.available and not report.error
    [finding] = report.findings
    assert finding.rule == "ban-drop-column" and finding.line == 2 and finding.statement == 2
    # Cached by the key (the plan checksum): the same key never runs squawk again.
    assert sqltools.squawk_report("SELECT 1;", "k1", statements=[]).findings == report.findings


def test_the_diagram_and_the_change_view_agree_on_columns_and_their_states():
    table = {
        "name": "t",
        "columns": [
            {"name": "b", "type": "text", "position": 2},
            {"name": "a", "type": "text", "position": 3},
            {"name": "nick", "type": "text", "position": 1},
        ],
    }
    change = {
        "table": "t",
        "action": "altered",
        "members": [
            {"kind": "column", "name": "nick", "action": "renamed", "renamed_from": "name"},
            {"kind": "column", "name": "a", "action": "added", "after": {"type": "text"}},
        ],
    }
    (view,) = review.table_views([change], {"t": table})
    (box,) = erd.from_changes({"tables": [table]}, [change]).tables
    assert [c.name for c in box.columns] == [r.name for r in view.columns] == ["nick", "b", "a"]
    assert [c.state for c in box.columns] == [r.state for r in view.columns]

"""The online benchmark's arithmetic: percentiles, windows over the writers' operations,
the markdown table, and the changes measured (no server, no clock)."""

from __future__ import annotations

import math

import pytest

from bench.online_changes import CHANGES, base, changed
from bench.online_stats import markdown, percentile, results_row, throughput_pct, window


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]  # unsorted on purpose
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 3.0
    assert percentile(values, 100) == 5.0
    assert percentile(values, 25) == 2.0
    assert percentile(values, 90) == pytest.approx(4.6)
    assert percentile([7.0], 99) == 7.0


def test_p99_of_a_hundred_values_sits_between_the_two_largest() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 99) == pytest.approx(99.01)


def test_percentile_of_nothing_is_nan_and_q_is_bounded() -> None:
    assert math.isnan(percentile([], 99))
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], 101)


def test_a_window_counts_completions_inside_it_and_latencies_of_overlapping_writes() -> None:
    ops = [
        (0.0, 0.1),  # before the window
        (0.9, 2.5),  # started before, held by the apply, ends inside: 1600 ms
        (1.2, 1.3),  # inside
        (1.9, 2.2),  # starts inside, ends after the window: overlaps, not completed
        (3.0, 3.1),  # after
    ]
    w = window(ops, 1.0, 2.0)
    assert w.completed == 1
    assert w.overlapping == 3
    assert w.max_ms == pytest.approx(1600)
    assert w.rate == pytest.approx(1.0)


def test_an_empty_window_has_no_latencies() -> None:
    w = window([(0.0, 0.1)], 5.0, 6.0)
    assert w.completed == 0 and w.overlapping == 0
    assert math.isnan(w.max_ms) and math.isnan(w.p99_ms)


def test_throughput_during_is_a_percentage_of_the_rate_before() -> None:
    before = window([(i / 10, i / 10 + 0.01) for i in range(10)], 0.0, 1.0)  # 10/s
    during = window([(2.0, 2.05), (2.5, 2.55)], 2.0, 3.0)  # 2/s
    assert throughput_pct(during, before) == pytest.approx(20)
    assert math.isnan(throughput_pct(during, window([], 0.0, 1.0)))


def test_the_table_has_a_line_per_row_and_says_why_a_cell_failed() -> None:
    ops = [(i / 10, i / 10 + 0.002) for i in range(30)]
    ok = results_row("add index", "atomic", ops, (0.0, 1.0), (1.0, 2.0), stage2_steps=0)
    failed = {"change": "add index", "mode": "online", "error": "LockTimeout: blocked"}
    lines = markdown([ok, failed]).splitlines()
    assert lines[0].startswith("| change | mode | apply |")
    assert len(lines) == 4
    cells = [c.strip() for c in lines[2].strip("|").split("|")]
    assert cells[:3] == ["add index", "atomic", "1.00 s"]
    assert cells[5] == "10"  # completed during the apply
    assert cells[6] == "100 %"
    assert "failed: LockTimeout: blocked" in lines[3]
    assert lines[3].count("|") == lines[2].count("|")


@pytest.mark.parametrize("change", list(CHANGES))
def test_each_change_is_the_base_blueprint_plus_one_valid_thing(change: str) -> None:
    from schemabuilder.engine import validate_payload

    base_bp = validate_payload(base("1"))
    payload = changed(change, "2", None)
    assert "apply_mode" not in payload  # today's engine refuses the key
    bp = validate_payload(payload)
    assert bp.tables[0] == base_bp.tables[0]  # the parent table never changes
    assert bp.tables[1] != base_bp.tables[1]
    assert changed(change, "2", "online")["apply_mode"] == "online"

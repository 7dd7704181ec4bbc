"""The whole plan benchmark at N = 10, once: every step runs and measures what it claims."""

from __future__ import annotations

import pytest

from bench import plan_bench, report, schemas

pytestmark = pytest.mark.slow  # starts many processes; builds bench/.venv-migra on first use


def test_each_measurement_plans_what_it_should(pg_server_url: str) -> None:
    result = plan_bench.bench_size(pg_server_url, 10, repeat=1, seed=schemas.DEFAULT_SEED)
    (empty,), (warm,), (cold,), (base,) = result.empty, result.warm, result.cold, result.baseline
    # From empty, every table is created; v1 -> v2 changes 4 tables. A warm cache means at
    # most those are materialized (fewer: a change made of known members is assembled), a
    # cold one all 10.
    assert empty.materialized == 10 and empty.statements > 10 * 5
    assert warm.materialized <= result.tables_changed == 4
    assert cold.materialized == 10
    assert warm.statements == cold.statements >= result.tables_changed
    assert base.migra_statements >= result.tables_changed
    assert min(s.maxrss_kib for s in (empty, warm, cold)) > 10 * 1024


def test_the_report_shows_every_column_and_the_checks(pg_server_url: str) -> None:
    result = plan_bench.bench_size(pg_server_url, 10, repeat=1, seed=schemas.DEFAULT_SEED)
    machine = report.Machine.here("PostgreSQL test")
    text = report.section([result], 1, machine, notes="")
    row = next(line for line in text.splitlines() if line.startswith("| 10 |"))
    assert "n/a" not in row
    (warm,) = result.warm
    assert f"warm plan materialized {warm.materialized} tables (cold: 10)" in text

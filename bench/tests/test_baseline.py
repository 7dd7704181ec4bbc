"""The shadow database + migra baseline finds every change v2 makes (no timing asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import baseline, engine_adapter, pg, schemas

pytestmark = pytest.mark.slow  # builds bench/.venv-migra on first use


def test_migra_finds_every_change_of_v2(pg_server_url: str, tmp_path: Path) -> None:
    v1 = schemas.blueprint(10)
    v2, changes = schemas.mutate(v1)
    v1_sql, v2_sql = tmp_path / "v1.sql", tmp_path / "v2.sql"
    v1_sql.write_text(engine_adapter.render_sql(v1))
    v2_sql.write_text(engine_adapter.render_sql(v2))
    live_url = pg.recreate_database(pg_server_url, "bench_test_live")
    try:
        engine_adapter.apply(live_url, v1_sql)
        sample = baseline.run_once(pg_server_url, live_url, v2_sql, engine_adapter.SCHEMA)
    finally:
        pg.drop_database(pg_server_url, "bench_test_live")
    script = sample.migra_sql.lower()
    for change in changes:
        table = f'"{engine_adapter.SCHEMA}"."{change.table}"'
        if change.kind == "add_column":
            assert f'alter table {table} add column "{change.detail.split()[0]}"' in script
        elif change.kind == "drop_column":
            assert f'alter table {table} drop column "{change.detail}"' in script
        elif change.kind == "widen_type":
            assert f'alter table {table} alter column "{change.detail.split()[0]}"' in script
        else:
            assert f"create index {change.detail} " in script

"""`manage.py plan` and `manage.py submit` as scripts use them: output and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.apply.blueprints import envelope, seed_envelope, table
from tests.apply.conftest import ROOT, app_database_url

pytestmark = pytest.mark.slow


def run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def write(tmp_path: Path, data: object) -> str:
    path = tmp_path / "blueprint.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_plan_exits_2_for_safe_changes_and_0_once_applied(tmp_path, target_url):
    file = write(tmp_path, seed_envelope())
    first = run("plan", file, "--database-url", target_url, "--format", "sql")
    assert first.returncode == 2, first.stderr
    assert "CREATE TABLE public.patients" in first.stdout
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(first.stdout)
    again = run("plan", file, "--database-url", target_url)
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_second_cli_plan_is_warm_from_the_app_databases_cache(
    transactional_db, tmp_path, target_url
):
    file = write(tmp_path, envelope([table("orders", ("total", "INTEGER"))]))
    env = {"DATABASE_URL": app_database_url()}
    first = run("plan", file, "--database-url", target_url, "--format", "json", env=env)
    assert first.returncode == 2, first.stderr
    assert json.loads(first.stdout)["materialized_tables"] == ["orders"]
    second = run("plan", file, "--database-url", target_url, "--format", "json", env=env)
    assert second.returncode == 2, second.stderr
    assert json.loads(second.stdout)["materialized_tables"] == []  # the forms came from the cache
    assert json.loads(second.stdout)["sql"] == json.loads(first.stdout)["sql"]


def test_plan_exits_3_when_a_populated_column_is_dropped(tmp_path, target_url):
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders VALUES (1, 'x')"
        )
    bp = {
        "schema_version": "2",
        "description": "drop note",
        "auto_columns": False,
        "tables": [
            {
                "name": "orders",
                "rls": False,
                "columns": [{"name": "id", "type": "INTEGER", "primary_key": True}],
            }
        ],
    }
    result = run("plan", write(tmp_path, bp), "--database-url", target_url, "--managed", "orders")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "DROPS_COLUMN" in result.stdout and "1 row" in result.stdout


def test_plan_exits_1_with_every_error_at_its_path(tmp_path, target_url):
    bad = {
        "schema_version": "1",
        "description": "x",
        "tables": [{"name": "t", "columns": [{"name": "a", "type": "TEXT", "not_nul": True}]}],
    }
    result = run("plan", write(tmp_path, bad), "--database-url", target_url, "--format", "json")
    assert result.returncode == 1
    errors = json.loads(result.stdout)["errors"]
    assert any(e["path"] == "payload.tables[0].columns[0].not_nul" for e in errors), errors


def test_submit_prints_the_output_contract_and_exits_by_status(
    people, workers, tmp_path, target_url
):
    workers.start()
    env = {"DATABASE_URL": app_database_url(), "TARGET_DEV_URL": target_url}
    file = write(tmp_path, envelope([table("orders", ("total", "INTEGER"))]))
    result = run("submit", file, "--tenant", "t_demo", "--user", "alice", "--wait", "60", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    assert answer["result"]["status"] == "applied"
    assert answer["result"]["primary_outputs"]["tables_created"] == 1
    assert answer["result"]["primary_outputs"]["migration_log_id"].startswith("ml_")
    assert set(answer) == {"meta_out", "result", "audit"}

    invalid = run(
        "submit",
        write(tmp_path, {"payload": {"tables": []}}),
        "--tenant",
        "t_demo",
        "--user",
        "alice",
        env=env,
    )
    assert invalid.returncode == 1
    assert json.loads(invalid.stdout)["errors"]

"""``manage.py import_schema`` against a real database: stdout, stderr, exit codes."""

from __future__ import annotations

import io
import json

import psycopg
import pytest
from django.core.management import call_command

from schemabuilder.engine import plan, validate_envelope, validate_payload
from tests.engine.test_import import everything_url  # noqa: F401 (a fixture)


def _run(*args: str) -> tuple[int, dict[str, object], str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("import_schema", *args, stdout=out, stderr=err)
    return int(exited.value.code or 0), json.loads(out.getvalue()), err.getvalue()


def test_it_prints_the_blueprint_and_lists_what_it_left_out(everything_url: str) -> None:  # noqa: F811
    code, payload, err = _run("--database-url", everything_url, "--schema", "public")
    assert code == 4
    bp = validate_payload(payload)
    with psycopg.connect(everything_url, autocommit=True) as conn:
        found = plan(conn, bp, schema="public", managed={t.name for t in bp.tables})
    assert found.is_empty
    assert "imported 7 tables" in err
    assert "fence: tenant_id uuid (every table with row level security, 4, has it)" in err
    assert "left out: 1 comment (positive_balance on accounts), 1 sequence" in err
    # Enum types, grants and the schema's functions are said now.
    summary = next(line for line in err.splitlines() if line.startswith("left out: "))
    assert "enum type" not in summary and "grant" not in summary
    assert "function" not in summary
    assert "1 trigger (locked_guard on locked)" in err
    assert "11 tables (CamelCase, bookings, collated, deferred, events, ...)" in err
    assert "  table events: index events_lower_name has the key lower(name)" in err


def test_a_schema_it_can_say_whole_exits_0_in_an_envelope(everything_url: str) -> None:  # noqa: F811
    code, body, err = _run(
        "--database-url",
        everything_url,
        "--tables",
        "memberships",
        "--fence",
        "none",
        "--format",
        "envelope",
        "--tenant",
        "t_001",
    )
    assert code == 0, err
    validated = validate_envelope(body)
    assert validated.tenant_id == "t_001"
    assert [t.name for t in validated.blueprint.tables] == ["memberships"]
    assert "fence" not in body["payload"]  # type: ignore[operator]
    assert "left out" not in err


def test_it_needs_no_write_as_on_a_standby(everything_url: str) -> None:  # noqa: F811
    with psycopg.connect(everything_url, autocommit=True) as conn:
        name = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
        conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    code, _, err = _run("--database-url", everything_url, "--tables", "memberships")
    assert code == 0, err


def test_no_server_is_an_error_in_our_own_words() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as failed:
        call_command(
            "import_schema", "--database-url", "postgresql://nobody:secret@127.0.0.1:1/app"
        )
    assert "Cannot import" in str(failed.value)
    assert "secret" not in str(failed.value)


def test_an_envelope_needs_a_tenant() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="needs --tenant"):
        call_command(
            "import_schema",
            "--database-url",
            "postgresql://x@127.0.0.1:1/app",
            "--format",
            "envelope",
        )

"""Functions through the whole flow: created with a version (a warning: applied), changed by
the next (its body's diff on the reviewer's page), and dropped by a version that no longer
declares it; a definer function is danger, blocked without force_apply."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from django.test import Client

from migrations_ui.models import ProposalStatus, Source
from migrations_ui.workflow.submission import submit
from tests.apply.blueprints import envelope
from tests.apply.test_apply import final

S = ProposalStatus
pytestmark = pytest.mark.slow


def _version(version: str, functions: list[dict[str, Any]]) -> dict[str, Any]:
    columns = [{"name": "title", "type": "TEXT"}]
    env = envelope([{"name": "notes", "columns": columns}], version=version)
    env["payload"]["functions"] = functions
    return env


def _answer(body: str, **fields: Any) -> dict[str, Any]:
    return {"name": "answer", "returns": "integer", "language": "sql", "body": body, **fields}


def _source(url: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT prosrc FROM pg_proc WHERE proname = 'answer' "
            "AND pronamespace = 'public'::regnamespace"
        ).fetchone()
    return row[0] if row else None


def test_a_function_is_created_changed_and_dropped_and_a_definer_blocked(
    people, workers, target_url
):  # type: ignore[no-untyped-def]
    workers.start()
    first = submit(
        user=people.alice, envelope=_version("001", [_answer("select 41")]), source=Source.API
    ).proposal
    assert final(first).status == S.APPLIED, first.error + workers.logs()
    assert _source(target_url) == "select 41"
    second = submit(
        user=people.alice, envelope=_version("002", [_answer("select 42")]), source=Source.API
    ).proposal
    assert final(second).status == S.APPLIED, second.error + workers.logs()
    assert _source(target_url) == "select 42"
    client = Client()
    client.force_login(people.alice)
    page = client.get(f"/proposals/{second.pk}/").content.decode()
    assert "CHANGES_CODE" in page and "-select 41" in page and "+select 42" in page
    definer = _answer("select 43", security_definer=True, search_path="")
    third = submit(
        user=people.alice, envelope=_version("003", [definer]), source=Source.API
    ).proposal
    third.refresh_from_db()
    assert third.status == S.BLOCKED
    assert _source(target_url) == "select 42"
    # A version without the function: the one the last applied version declared is dropped.
    fourth = submit(user=people.alice, envelope=_version("004", []), source=Source.API).proposal
    assert final(fourth).status == S.APPLIED, fourth.error + workers.logs()
    assert _source(target_url) is None

"""Enum types through the whole flow: a type created with its table, a value added by the
next version, a removed value, which is dangerous and blocked without force_apply, and a type
the next version no longer declares, dropped."""

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


def _version(version: str, values: list[str]) -> dict[str, Any]:
    columns = [{"name": "status", "type": "order_status", "not_null": True, "default": "'new'"}]
    env = envelope([{"name": "orders", "columns": columns}], version=version)
    env["payload"]["types"] = [{"name": "order_status", "enum": values}]
    return env


def _values(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT enum_range(NULL::public.order_status)::text[]").fetchone()
    assert row is not None
    return list(row[0])


def test_a_type_is_created_then_given_a_value_then_a_removal_is_blocked(
    people, workers, target_url
):  # type: ignore[no-untyped-def]
    workers.start()
    first = submit(
        user=people.alice, envelope=_version("001", ["new", "paid"]), source=Source.API
    ).proposal
    assert final(first).status == S.APPLIED, first.error + workers.logs()
    assert _values(target_url) == ["new", "paid"]
    second = submit(
        user=people.alice, envelope=_version("002", ["new", "paid", "shipped"]), source=Source.API
    ).proposal
    assert final(second).status == S.APPLIED, second.error + workers.logs()
    assert _values(target_url) == ["new", "paid", "shipped"]
    third = submit(
        user=people.alice, envelope=_version("003", ["new", "shipped"]), source=Source.API
    ).proposal
    third.refresh_from_db()
    assert third.status == S.BLOCKED
    assert "REMOVES_ENUM_VALUE" in [h["kind"] for h in third.hazards]
    assert _values(target_url) == ["new", "paid", "shipped"]
    # The reviewer's page shows the type statements and the swap's hazard.
    client = Client()
    client.force_login(people.alice)
    page = client.get(f"/proposals/{second.pk}/")
    assert page.status_code == 200
    assert "ADD VALUE" in page.content.decode()
    body = client.get(f"/proposals/{third.pk}/").content.decode()
    assert "REMOVES_ENUM_VALUE" in body and "order_status__new" in body
    # A version without the type, its column back to text: the type it declared is dropped.
    columns = [{"name": "status", "type": "TEXT", "not_null": True, "default": "'new'"}]
    fourth = submit(
        user=people.alice,
        envelope=envelope([{"name": "orders", "columns": columns}], version="004"),
        source=Source.API,
    ).proposal
    assert final(fourth).status == S.APPLIED, fourth.error + workers.logs()
    assert "DROPS_TYPE" in [h["kind"] for h in fourth.hazards]
    with psycopg.connect(target_url) as conn:
        gone = conn.execute("SELECT to_regtype('public.order_status') IS NULL").fetchone()
    assert gone == (True,)

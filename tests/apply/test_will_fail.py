"""A plan that says a statement fails on the live data (WILL_FAIL) is never queued, approved
or run: not with force_apply, not by the worker."""

from __future__ import annotations

import psycopg
import pytest

from migrations_ui.models import Proposal, ProposalStatus, Source
from migrations_ui.workflow.submission import submit
from schemabuilder.engine import (
    ApplyRequest,
    Reviewed,
    WillFail,
    apply_plan,
    fingerprints,
    plan,
    validate_envelope,
)
from tests.apply.blueprints import envelope
from tests.apply.test_apply import final

S = ProposalStatus
pytestmark = pytest.mark.slow


def _orders(*, note_not_null: bool, version: str, force: bool = False) -> dict:
    columns = [
        {"name": "total", "type": "INTEGER"},
        {"name": "note", "type": "TEXT", "not_null": note_not_null},
    ]
    return envelope([{"name": "orders", "columns": columns}], version=version, force=force)


def _with_null_notes(people, workers, target_url) -> None:  # type: ignore[no-untyped-def]
    workers.start()
    first = submit(
        user=people.alice, envelope=_orders(note_not_null=False, version="001"), source=Source.API
    ).proposal
    assert final(first).status == S.APPLIED, first.error + workers.logs()
    with psycopg.connect(target_url) as conn:
        conn.execute(
            "INSERT INTO orders (tenant_id, total) SELECT gen_random_uuid(), g FROM generate_series(1, 7) g"
        )


def test_force_apply_cannot_pass_a_not_null_over_nulls(people, workers, target_url):
    _with_null_notes(people, workers, target_url)
    env = _orders(note_not_null=True, version="002", force=True)
    proposal = submit(user=people.alice, envelope=env, source=Source.API).proposal
    proposal.refresh_from_db()
    assert proposal.status == S.BLOCKED  # not awaiting_approval: nobody can approve it
    assert "cannot succeed on the live data" in proposal.error
    assert "7 of 7 rows are NULL" in proposal.error
    kinds = [h["kind"] for h in proposal.hazards]
    assert "WILL_FAIL" in kinds
    assert Proposal.objects.filter(status=S.AWAITING_APPROVAL).count() == 0


def test_the_engine_refuses_to_run_a_reviewed_plan_that_will_fail(people, workers, target_url):
    _with_null_notes(people, workers, target_url)
    bp = validate_envelope(_orders(note_not_null=True, version="002")).blueprint
    with psycopg.connect(target_url, autocommit=True) as conn:
        scope = {"orders"}
        before = fingerprints(conn, "public", scope)
        p = plan(conn, bp, schema="public", managed=scope)
        assert p.will_fail
        request = ApplyRequest.reviewing(
            p,
            proposal_id="00000000-0000-0000-0000-000000000002",
            tenant_id="t_demo",
            schema="public",
            managed=frozenset(scope),
            schema_hash="x",
            version="002",
            description="",
            applied_by="test",
            lock_key=1,
            lock_timeout_ms=1000,
            statement_timeout_ms=5000,
        )
        with pytest.raises(WillFail, match="7 of 7 rows are NULL"):
            apply_plan(conn, bp, request, reviewed=Reviewed.of(p, before))
        (nullable,) = conn.execute(
            "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'orders'::regclass"
            " AND attname = 'note'"
        ).fetchone()
        assert nullable is False

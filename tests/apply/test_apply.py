"""Proposals through the real worker process: applied once, verified, recorded, never stuck."""

from __future__ import annotations

import itertools
import threading

import psycopg
import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction

from migrations_ui import workflow
from migrations_ui.models import (
    Approval,
    AuditEvent,
    MigrationRecord,
    NotAllowedError,
    Proposal,
    ProposalStatus,
    Source,
)
from migrations_ui.workflow.submission import submit
from tests.apply.blueprints import envelope, seed_envelope, table
from tests.apply.conftest import wait_for

S = ProposalStatus
pytestmark = pytest.mark.slow


def final(proposal: Proposal, timeout: float = 120) -> Proposal:
    def done() -> bool:
        proposal.refresh_from_db()
        return proposal.is_final or proposal.status == S.AWAITING_APPROVAL

    wait_for(done, timeout, f"proposal {proposal.pk} to finish")
    return proposal


def tables_in(url: str, schema: str = "public") -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind = 'r'",
            [schema],
        ).fetchall()
    return {r[0] for r in rows}


def actions(proposal: Proposal) -> list[str]:
    return list(
        AuditEvent.objects.filter(proposal=proposal).order_by("id").values_list("action", flat=True)
    )


def test_a_safe_change_goes_from_submitted_to_applied_through_the_worker(
    people, workers, target_url
):
    workers.start()
    proposal = submit(user=people.alice, envelope=seed_envelope(), source=Source.API).proposal
    assert proposal.status == S.QUEUED
    final(proposal)
    assert proposal.status == S.APPLIED, proposal.error + workers.logs()

    assert "patients" in tables_in(target_url)
    with psycopg.connect(target_url) as conn:
        marker = conn.execute(
            "SELECT version, proposal_id::text, checksum, schema_hash, status"
            " FROM schemabuilder.schema_migrations"
        ).fetchall()
        (marker_meta,) = conn.execute(
            "SELECT metadata FROM schemabuilder.schema_migrations"
        ).fetchone()
    assert marker == [
        ("001", str(proposal.pk), proposal.plan_checksum, proposal.schema_hash, "success")
    ]
    # The audit chain's head as the apply began lives on in the target's own marker.
    applying = AuditEvent.objects.get(proposal=proposal, action="proposal.applying")
    assert marker_meta["audit_head"] == {"seq": applying.seq, "hash": applying.hash}
    assert actions(proposal) == [
        "proposal.submitted",
        "proposal.planned",
        "proposal.queued",
        "proposal.applying",
        "proposal.applied",
    ]
    record = MigrationRecord.objects.get(proposal=proposal)
    assert record.status == "success" and record.managed_tables == ["patients"]
    assert record.metadata["audit_head"] == {"seq": applying.seq, "hash": applying.hash}
    assert record.snapshot and record.snapshot_hash
    assert proposal.result["tables_created"] == 1
    assert len(proposal.timings["statements"]) == len(proposal.plan["statements"])


def test_the_same_blueprint_twice_makes_the_second_a_noop(people, workers, target_url):
    workers.start()
    first = final(submit(user=people.alice, envelope=seed_envelope(), source=Source.API).proposal)
    assert first.status == S.APPLIED
    second = submit(user=people.alice, envelope=seed_envelope(), source=Source.API)
    assert second.created and second.proposal.pk != first.pk
    assert second.proposal.status == S.NOOP
    assert MigrationRecord.objects.filter(proposal=second.proposal, status="noop").count() == 1


def test_a_force_apply_proposal_waits_for_a_second_person_even_when_safe(
    people, workers, target_url
):
    workers.start()
    env = envelope([table("orders", ("total", "NUMERIC(10,2)"))], force=True)
    proposal = submit(user=people.alice, envelope=env, source=Source.FORM).proposal
    assert proposal.status == S.AWAITING_APPROVAL
    assert not proposal.is_dangerous

    with pytest.raises(NotAllowedError, match="second person"):
        workflow.approve(proposal, people.alice, proposal.plan_checksum)
    assert proposal.status == S.AWAITING_APPROVAL

    workflow.approve(proposal, people.bob, proposal.plan_checksum, comment="looks fine")
    final(proposal)
    assert proposal.status == S.APPLIED
    assert "orders" in tables_in(target_url)
    assert actions(proposal)[-5:] == [
        "proposal.awaiting_approval",
        "proposal.approved",
        "proposal.queued",
        "proposal.applying",
        "proposal.applied",
    ]


def test_the_database_refuses_a_self_approval_whatever_the_code_does(people, target_url):
    env = envelope([table("orders", ("total", "INTEGER"))], force=True)
    proposal = submit(user=people.alice, envelope=env, source=Source.API).proposal
    with pytest.raises(IntegrityError), transaction.atomic():
        Approval.objects.create(
            proposal=proposal,
            approver=people.alice,
            submitter=people.alice,
            decision="approved",
            plan_checksum="x",
        )
    # Lying about the submitter does not help: it must be the proposal's.
    with pytest.raises(IntegrityError), transaction.atomic():
        Approval.objects.create(
            proposal=proposal,
            approver=people.alice,
            submitter=people.bob,
            decision="approved",
            plan_checksum="x",
        )
    assert Approval.objects.count() == 0


def test_fifty_concurrent_identical_submissions_make_one_proposal_and_one_apply(
    people, workers, target_url
):
    workers.start()
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(50)

    def one() -> None:
        try:
            barrier.wait()
            results.append(
                str(
                    submit(
                        user=people.alice, envelope=seed_envelope(), source=Source.API
                    ).proposal.pk
                )
            )
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 50 and len(set(results)) == 1
    assert Proposal.objects.count() == 1
    final(Proposal.objects.get())
    assert MigrationRecord.objects.filter(status="success").count() == 1
    with psycopg.connect(target_url) as conn:
        assert conn.execute("SELECT count(*) FROM schemabuilder.schema_migrations").fetchone() == (
            1,
        )


def test_two_workers_never_overlap_on_one_target_and_apply_everything(
    people, workers, make_target_db
):
    from tests.factories import TargetFactory

    extra_env = {}
    targets = []
    for n in range(10):
        url = make_target_db()
        extra_env[f"TARGET_A{n}_URL"] = url
        targets.append(
            TargetFactory(
                tenant=people.tenant,
                environment=f"e{n}",
                connection_alias=f"a{n}",
                is_default=False,
            )
        )
    import os

    os.environ.update(extra_env)  # the submitting side plans against them too
    try:
        workers.start(count=2, concurrency=4, extra_env=extra_env)
        proposals = []
        for version in range(1, 4):
            # Each version keeps the earlier tables and adds one: the desired state grows.
            tables = [table(f"t{v}", ("n", "INTEGER")) for v in range(1, version + 1)]
            for n in range(10):
                env = envelope(tables, version=f"{version:03d}", environment=f"e{n}")
                proposals.append(
                    submit(user=people.alice, envelope=env, source=Source.API).proposal
                )
        for p in proposals:
            final(p, timeout=120)
        assert {p.status for p in proposals} == {S.APPLIED}, [
            (p.status, p.error) for p in proposals
        ]
        for target in targets:
            spans = sorted(
                Proposal.objects.filter(target=target).values_list("started_at", "finished_at")
            )
            assert len(spans) == 3
            for (_, end), (start, _) in itertools.pairwise(spans):
                assert end <= start, f"applies overlapped on {target}: {spans}"
    finally:
        for key in extra_env:
            os.environ.pop(key, None)


def _apply_v1(people, workers) -> Proposal:
    first = final(
        submit(
            user=people.alice,
            envelope=envelope([table("orders", ("total", "INTEGER"))]),
            source=Source.API,
        ).proposal
    )
    assert first.status == S.APPLIED, first.error
    return first


def test_a_worker_killed_mid_apply_leaves_no_partial_schema_and_no_stuck_proposal(
    people, workers, target_url
):
    fast_recovery = {"WORKER_STALLED_AFTER_S": "3"}
    workers.start(extra_env=fast_recovery)
    _apply_v1(people, workers)
    people.target.lock_timeout_ms = 60_000
    people.target.save()
    with psycopg.connect(target_url) as holder:
        holder.execute("BEGIN")
        holder.execute("SELECT count(*) FROM orders")
        v2 = envelope(
            [
                table("orders", ("total", "INTEGER"), ("note", "TEXT")),
                table("extra", ("n", "INTEGER")),
            ],
            version="002",
        )
        proposal = submit(user=people.alice, envelope=v2, source=Source.API).proposal
        wait_for(lambda: Proposal.objects.get(pk=proposal.pk).status == S.APPLYING, 30, "applying")
        # The worker is now inside the target transaction, waiting on our lock (CREATE TABLE
        # extra may already have run inside it).
        wait_for(
            lambda: (
                holder.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0] > 0
            ),
            30,
            "a waiting lock",
        )
        workers.kill(0)
        holder.execute("ROLLBACK")
    assert "extra" not in tables_in(target_url)  # the dead transaction never committed
    workers.start(extra_env=fast_recovery)
    final(proposal, timeout=90)
    assert proposal.status in (S.APPLIED, S.FAILED)
    assert proposal.status == S.APPLIED, proposal.error
    assert "extra" in tables_in(target_url)
    assert "proposal.resumed" in actions(proposal)
    with psycopg.connect(target_url) as conn:
        assert conn.execute("SELECT count(*) FROM schemabuilder.schema_migrations").fetchone() == (
            2,
        )


def test_the_worker_refuses_when_the_live_schema_moved_and_voids_the_approval(
    people, workers, target_url
):
    workers.start()
    _apply_v1(people, workers)
    v2 = envelope(
        [table("orders", ("total", "INTEGER"), ("note", "TEXT"))], version="002", force=True
    )
    proposal = submit(user=people.alice, envelope=v2, source=Source.API).proposal
    assert proposal.status == S.AWAITING_APPROVAL
    reviewed = proposal.plan_checksum
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE orders ADD COLUMN added_by_hand TEXT")
    workflow.approve(proposal, people.bob, proposal.plan_checksum)
    final(proposal)
    assert proposal.status == S.AWAITING_APPROVAL
    assert "changed since this plan was reviewed" in proposal.review_reason
    assert proposal.plan_checksum != reviewed
    approval = Approval.objects.get(proposal=proposal)
    assert approval.voided_at is not None
    assert "DROP COLUMN" in proposal.plan_sql and "added_by_hand" in proposal.plan_sql
    with psycopg.connect(target_url) as conn:
        cols = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders'"
            )
        }
    assert "note" not in cols and "added_by_hand" in cols


def test_a_verification_failure_rolls_everything_back(people, workers, target_url):
    workers.start()
    with psycopg.connect(target_url, autocommit=True) as conn:
        # Something on the target changes what we create: the residue verification must catch.
        conn.execute("""
            CREATE FUNCTION sneak() RETURNS event_trigger LANGUAGE plpgsql AS $$
            DECLARE obj record;
            BEGIN
              FOR obj IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' AND schema_name = 'public'
              LOOP
                EXECUTE format('ALTER TABLE %s ADD COLUMN IF NOT EXISTS sneaky int', obj.object_identity);
              END LOOP;
            END $$;
            CREATE EVENT TRIGGER sneak ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION sneak();
        """)
    proposal = final(
        submit(
            user=people.alice,
            envelope=envelope([table("orders", ("total", "INTEGER"))]),
            source=Source.API,
        ).proposal
    )
    assert proposal.status == S.FAILED
    assert "Verification failed" in proposal.error and "orders" in proposal.error
    assert "sneaky" in str(proposal.result["residue"])
    assert "orders" not in tables_in(target_url)
    assert MigrationRecord.objects.get(proposal=proposal).status == "failed"

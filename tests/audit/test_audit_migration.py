"""Migration 0010 numbers the events that exist already and gives every chain its checkpoint:
chains written before it verify afterwards, and go on from where they were."""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from migrations_ui.audit.chain import verify_chains
from migrations_ui.models import AuditCheckpoint, AuditEvent
from migrations_ui.models.audit import GENESIS, canonical_content, content_hash
from tests.factories import TenantFactory

BEFORE = [("migrations_ui", "0008_audit_indexes")]


def migrate(to: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(to)


def migrate_to_latest() -> None:
    """Through 0010 and every migration after it: the tests that run next expect the
    current schema."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def insert_old_chain(tenant_id: int, count: int, prev: str = GENESIS) -> list[str]:
    """Events as 0008's schema stores them (no seq), hashed as record() hashes them, linked
    on from ``prev``."""
    hashes: list[str] = []
    at = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    with connection.cursor() as cur:
        for n in range(count):
            created = at + datetime.timedelta(minutes=n)
            data = {"n": n}
            digest = content_hash(
                canonical_content(
                    tenant_id=tenant_id,
                    proposal_id=None,
                    actor_name="system",
                    action="test.old",
                    created_at=created,
                    request_id="",
                    data=data,
                    prev_hash=prev,
                )
            )
            cur.execute(
                "INSERT INTO migrations_ui_auditevent (tenant_id, actor_name, action, created_at,"
                " request_id, data, prev_hash, hash) VALUES (%s, 'system', 'test.old', %s, '',"
                " %s, %s, %s)",
                [tenant_id, created, json.dumps(data), prev, digest],
            )
            hashes.append(digest)
            prev = digest
    return hashes


@pytest.mark.django_db(transaction=True)
def test_existing_chains_are_numbered_in_id_order_and_checkpointed():
    one, two = TenantFactory(slug="t_one"), TenantFactory(slug="t_two")
    migrate(BEFORE)
    try:
        # Interleaved, as tenants write in production.
        first = insert_old_chain(one.pk, 2)
        second = insert_old_chain(two.pk, 1)
        first += insert_old_chain(one.pk, 1, prev=first[-1])
    finally:
        migrate_to_latest()
    seqs = list(AuditEvent.objects.filter(tenant=one).order_by("id").values_list("seq", flat=True))
    assert seqs == [1, 2, 3]
    assert AuditEvent.objects.get(tenant=two).seq == 1
    assert AuditCheckpoint.head(two.pk) == {"seq": 1, "hash": second[-1]}
    assert AuditCheckpoint.head(one.pk) == {"seq": 3, "hash": first[-1]}
    assert verify_chains().ok
    nxt = AuditEvent.record(tenant=two, action="test.new")
    assert (nxt.seq, nxt.prev_hash) == (2, second[-1])

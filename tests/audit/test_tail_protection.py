"""The end of a chain cannot be cut: every event has its number in the chain, the chain's
checkpoint only moves forward, and retention deletes only old events, never a chain's head.
The attack that motivated this (the retention switch set by hand, the newest event deleted) is
refused by the database; with the triggers switched off by the table's owner, verify_audit
sees the cut."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from migrations_ui.audit.chain import MIN_RETENTION_DAYS
from migrations_ui.models import AuditCheckpoint, AuditEvent
from migrations_ui.models.audit import chain_key, chain_lock_key
from tests.audit.conftest import verify

UTC = datetime.UTC


def write(tenant, actor, days: list[str], monkeypatch) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    events = []
    for n, day in enumerate(days):
        moment = datetime.datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
        events.append(
            AuditEvent.record(tenant=tenant, action="test.event", actor=actor, data={"n": n})
        )
    monkeypatch.undo()
    return events


def refused(sql: str, params: list[object], *, settings: dict[str, str] | None = None) -> str:
    """Run ``sql`` in its own transaction with the given ``SET LOCAL`` settings; the database
    must refuse it. Returns the message."""
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cur:
        for name, value in (settings or {}).items():
            cur.execute("SELECT set_config(%s, %s, true)", [name, value])
        cur.execute(sql, params)
    return str(caught.value)


def owner_bypass(sql: str, params: list[object]) -> None:
    """What the tables' owner (or a superuser) can do: switch every trigger off, change history
    and the checkpoint, switch them on again."""
    with connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("ALTER TABLE migrations_ui_auditevent DISABLE TRIGGER USER")
        cur.execute("ALTER TABLE migrations_ui_auditcheckpoint DISABLE TRIGGER USER")
        cur.execute(sql, params)
        cur.execute("ALTER TABLE migrations_ui_auditevent ENABLE TRIGGER USER")
        cur.execute("ALTER TABLE migrations_ui_auditcheckpoint ENABLE TRIGGER USER")


@pytest.fixture
def events(tenant, other_tenant, alice, erin) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    for n in range(3):
        AuditEvent.record(tenant=tenant, action="test.event", actor=alice, data={"n": n})
    AuditEvent.record(tenant=other_tenant, action="test.event", actor=erin)
    return list(AuditEvent.objects.filter(tenant=tenant).order_by("id"))


def test_each_chain_is_numbered_from_one_and_its_checkpoint_follows_it(events, other_tenant):
    assert [e.seq for e in events] == [1, 2, 3]
    assert AuditEvent.objects.get(tenant=other_tenant).seq == 1
    assert AuditCheckpoint.head(events[0].tenant_id) == {"seq": 3, "hash": events[-1].hash}
    assert AuditCheckpoint.head(other_tenant.pk)["seq"] == 1  # type: ignore[index]


def test_events_without_a_tenant_have_a_chain_of_their_own():
    assert chain_key(None) == "global" and chain_lock_key(None) == 0
    assert chain_key(7) == "7" and chain_lock_key(7) == 7


def test_the_attack_switch_on_and_delete_the_newest_is_refused(events):
    newest = events[-1]
    message = refused(
        "DELETE FROM migrations_ui_auditevent WHERE id = %s",
        [newest.pk],
        settings={"schemabuilder.retention": "on"},
    )
    assert "retention_before is not set" in message
    # Naming a cutoff does not help: a recent cutoff is refused, an old one does not cover it.
    now = timezone.now()
    message = refused(
        "DELETE FROM migrations_ui_auditevent WHERE id = %s",
        [newest.pk],
        settings={
            "schemabuilder.retention": "on",
            "schemabuilder.retention_before": now.isoformat(),
        },
    )
    assert f"less than {MIN_RETENTION_DAYS} days ago" in message
    old = (now - datetime.timedelta(days=MIN_RETENTION_DAYS + 1)).isoformat()
    message = refused(
        "DELETE FROM migrations_ui_auditevent WHERE id = %s",
        [newest.pk],
        settings={"schemabuilder.retention": "on", "schemabuilder.retention_before": old},
    )
    assert "is not older than the cutoff" in message
    assert AuditEvent.objects.filter(pk=newest.pk).exists()
    assert verify()[0] == 0


def test_even_an_old_head_of_a_quiet_chain_cannot_be_deleted(tenant, alice, monkeypatch):
    """A tenant quiet for months: all its events are older than any allowed cutoff, but the
    newest is the chain's head and stays."""
    old = write(tenant, alice, ["2024-01-01", "2024-02-01"], monkeypatch)
    settings = {"schemabuilder.retention": "on", "schemabuilder.retention_before": "2025-01-01"}
    message = refused(
        "DELETE FROM migrations_ui_auditevent WHERE id = %s", [old[-1].pk], settings=settings
    )
    assert "is the head of its chain" in message
    assert verify()[0] == 0


def test_the_checkpoint_cannot_be_rewound_or_deleted(events):
    chain = chain_key(events[0].tenant_id)
    message = refused(
        "UPDATE migrations_ui_auditcheckpoint SET seq = 2, hash = %s WHERE chain = %s",
        [events[1].hash, chain],
    )
    assert "only moves forward" in message
    refused("UPDATE migrations_ui_auditcheckpoint SET seq = seq WHERE chain = %s", [chain])
    assert "never deleted" in refused(
        "DELETE FROM migrations_ui_auditcheckpoint WHERE chain = %s", [chain]
    )
    assert AuditCheckpoint.head(events[0].tenant_id) == {"seq": 3, "hash": events[-1].hash}


def test_a_tail_cut_behind_the_triggers_back_is_caught_by_the_checkpoint(events):
    newest = events[-1]
    owner_bypass("DELETE FROM migrations_ui_auditevent WHERE id = %s", [newest.pk])
    code, out = verify()
    assert code == 1
    assert (
        f"BROKEN: tenant t_demo, event {events[1].pk} (test.event at "
        f"{events[1].created_at.isoformat(timespec='seconds')}): tail cut: the chain ends at "
        f"seq 2 but its checkpoint is at seq 3 ({newest.hash[:16]}…)"
    ) in out
    assert "t_other" not in out.split("checked")[0]


def test_a_whole_chain_cut_is_caught(events):
    owner_bypass("DELETE FROM migrations_ui_auditevent WHERE tenant_id = %s", [events[0].tenant_id])
    code, out = verify()
    assert code == 1 and "BROKEN: tenant t_demo: tail cut: the checkpoint is at seq 3" in out


def test_rewinding_both_behind_the_triggers_back_is_caught_by_the_next_event(events, alice):
    """Cut the newest event and move the checkpoint back with it: the chain is whole again as
    far as the database can tell, which is why the head also leaves the database (webhook
    bodies, target markers). What stays visible here: the next event carries on from the
    rewound head, so only the copies outside can prove the cut."""
    owner_bypass("DELETE FROM migrations_ui_auditevent WHERE id = %s", [events[-1].pk])
    owner_bypass(
        "UPDATE migrations_ui_auditcheckpoint SET seq = 2, hash = %s WHERE chain = %s",
        [events[1].hash, chain_key(events[0].tenant_id)],
    )
    assert verify()[0] == 0  # the residual risk the README states
    nxt = AuditEvent.record(tenant=events[0].tenant, action="test.event", actor=alice)
    assert (nxt.seq, nxt.prev_hash) == (3, events[1].hash)
    assert nxt.hash != events[-1].hash  # the copy outside names a seq-3 hash that is gone


def test_an_event_appended_without_the_checkpoint_is_caught(events):
    owner_bypass(
        "UPDATE migrations_ui_auditcheckpoint SET seq = 2, hash = %s WHERE chain = %s",
        [events[1].hash, chain_key(events[0].tenant_id)],
    )
    code, out = verify("--tenant", "t_demo")
    assert code == 1 and "the checkpoint is at seq 2, behind the chain's seq 3" in out


def test_purge_still_works_and_the_chain_verifies_after_it(tenant, alice, monkeypatch):
    old = write(tenant, alice, ["2024-01-01", "2024-02-01", "2025-06-01"], monkeypatch)
    out = io.StringIO()
    call_command("purge_audit", "--before", "2025-01-01", "--yes", stdout=out)
    assert f"removed 2 events {old[0].pk}..{old[1].pk}" in out.getvalue()
    left = list(AuditEvent.objects.filter(tenant=tenant).order_by("id"))
    assert [e.seq for e in left] == [3, 4]
    assert left[-1].data["last_seq"] == 2 and left[-1].data["first_seq"] == 1
    assert AuditCheckpoint.head(tenant.pk) == {"seq": 4, "hash": left[-1].hash}
    code, out_text = verify("--heads")
    assert code == 0, out_text
    assert f"head t_demo: event {left[-1].pk}, seq 4," in out_text
    assert "(starts after a retention)" in out_text

"""Retention: old audit events leave only as whole chain prefixes, recorded in the chain, and the
chain still verifies afterwards; any other removal is caught."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from migrations_ui.audit.chain import MIN_RETENTION_DAYS, RETENTION_ACTION, verify_chains
from migrations_ui.models import AuditEvent

UTC = datetime.UTC


def at(day: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def write(tenant, actor, days: list[str], monkeypatch) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    """Events as if written on those days (the clock is moved, nothing is edited)."""
    events = []
    for n, day in enumerate(days):
        monkeypatch.setattr(timezone, "now", lambda day=day: at(day))
        events.append(
            AuditEvent.record(tenant=tenant, action="test.event", actor=actor, data={"n": n})
        )
    monkeypatch.undo()
    return events


def purge(*args: str) -> str:
    out = io.StringIO()
    call_command("purge_audit", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def old_and_new(tenant, other_tenant, alice, erin, monkeypatch):  # type: ignore[no-untyped-def]
    demo = write(
        tenant, alice, ["2024-01-10", "2024-03-01", "2024-06-01", "2025-02-01"], monkeypatch
    )
    other = write(other_tenant, erin, ["2024-02-01", "2025-03-01"], monkeypatch)
    return demo, other


def test_without_yes_nothing_is_deleted(old_and_new):
    out = purge("--before", "2025-01-01")
    assert "t_demo: would remove 3 events" in out and "nothing deleted" in out
    assert AuditEvent.objects.count() == 6


def test_purge_removes_the_old_prefix_records_it_and_the_chain_still_verifies(old_and_new):
    demo, other = old_and_new
    out = purge("--before", "2025-01-01", "--yes", "--actor", "carol")
    assert f"t_demo: removed 3 events {demo[0].pk}..{demo[2].pk}" in out
    assert f"t_other: removed 1 events {other[0].pk}..{other[0].pk}" in out
    remaining = list(AuditEvent.objects.filter(tenant=demo[0].tenant).order_by("id"))
    assert remaining[0].pk == demo[3].pk
    retention = remaining[-1]
    assert retention.action == RETENTION_ACTION
    assert retention.actor_name == "retention (carol)"
    assert retention.data["removed"] == 3
    assert retention.data["first_hash"] == demo[0].hash
    assert retention.data["last_hash"] == demo[2].hash == remaining[0].prev_hash
    result = verify_chains()
    assert result.ok, result.breaks
    assert result.heads["t_demo"].after_retention


def test_a_second_purge_anchors_on_the_newer_retention_event(old_and_new):
    purge("--before", "2024-04-01", "--yes")
    purge("--before", "2025-01-01", "--yes")
    assert verify_chains().ok
    demo_left = AuditEvent.objects.filter(tenant__slug="t_demo").order_by("id")
    assert [e.action for e in demo_left] == ["test.event", RETENTION_ACTION, RETENTION_ACTION]
    assert [e.data["removed"] for e in demo_left[1:]] == [2, 1]


def test_purging_a_whole_chain_leaves_the_retention_event(tenant, alice, monkeypatch):
    write(tenant, alice, ["2024-01-01", "2024-01-02"], monkeypatch)
    old_enough = timezone.now() - datetime.timedelta(days=MIN_RETENTION_DAYS + 1)
    purge("--before", old_enough.date().isoformat(), "--yes")
    left = list(AuditEvent.objects.filter(tenant=tenant))
    assert [e.action for e in left] == [RETENTION_ACTION]
    assert verify_chains().ok


def test_purge_of_one_tenant_leaves_the_others(old_and_new):
    purge("--before", "2025-01-01", "--tenant", "t_other", "--yes")
    assert AuditEvent.objects.filter(tenant__slug="t_demo").count() == 4
    assert verify_chains().ok


def test_a_delete_through_the_switch_without_the_retention_record_is_caught(old_and_new):
    demo, _ = old_and_new
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT set_config('schemabuilder.retention', 'on', true)")
        cur.execute("SELECT set_config('schemabuilder.retention_before', '2024-02-01', true)")
        cur.execute("DELETE FROM migrations_ui_auditevent WHERE id = %s", [demo[0].pk])
    result = verify_chains()
    assert not result.ok
    assert result.breaks[0].event_id == demo[1].pk
    assert "no retention event accounts for" in result.breaks[0].reason


def test_a_cutoff_younger_than_the_minimum_retention_is_refused(old_and_new):
    recent = timezone.now() - datetime.timedelta(days=MIN_RETENTION_DAYS - 1)
    with pytest.raises(CommandError, match=f"at least {MIN_RETENTION_DAYS} days"):
        purge("--before", recent.date().isoformat(), "--yes")
    assert AuditEvent.objects.count() == 6


def test_a_date_in_the_future_or_not_a_date_is_refused(old_and_new):
    with pytest.raises(CommandError, match="future"):
        purge("--before", "2999-01-01", "--yes")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        purge("--before", "last year", "--yes")
    assert AuditEvent.objects.count() == 6

"""Audit events and migration records cannot be updated or deleted: the database refuses,
whatever the client (the ORM, raw SQL in the app's connection, another session)."""

from __future__ import annotations

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction

from migrations_ui.models import AuditEvent, MigrationRecord, MigrationStatus
from tests.apply.conftest import app_database_url
from tests.audit.conftest import make_proposal


@pytest.fixture
def event(tenant, alice) -> AuditEvent:
    return AuditEvent.objects.get(proposal=make_proposal(tenant, alice))


@pytest.fixture
def record(tenant, alice) -> MigrationRecord:
    return MigrationRecord.for_proposal(make_proposal(tenant, alice), MigrationStatus.SUCCESS)


def refused(statement) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        statement()
    return str(caught.value)


def test_it_refuses_to_update_an_audit_event_through_the_orm(event):
    message = refused(lambda: AuditEvent.objects.filter(pk=event.pk).update(action="x"))
    assert "append-only" in message and "UPDATE" in message
    event.actor_name = "mallory"
    refused(event.save)
    assert AuditEvent.objects.get(pk=event.pk).actor_name == "alice"


def test_it_refuses_to_delete_an_audit_event_through_the_orm(event):
    assert "DELETE" in refused(event.delete)
    refused(lambda: AuditEvent.objects.all().delete())
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_it_refuses_raw_sql_in_the_apps_own_connection(event):
    def update() -> None:
        with connection.cursor() as cur:
            cur.execute("UPDATE migrations_ui_auditevent SET data = '{}' WHERE id = %s", [event.pk])

    def delete() -> None:
        with connection.cursor() as cur:
            cur.execute("DELETE FROM migrations_ui_auditevent WHERE id = %s", [event.pk])

    refused(update)
    refused(delete)
    assert AuditEvent.objects.get(pk=event.pk).data == event.data


def test_it_refuses_to_update_or_delete_a_migration_record(record):
    refused(lambda: MigrationRecord.objects.filter(pk=record.pk).update(status="failed"))
    refused(lambda: MigrationRecord.objects.filter(pk=record.pk).update(sql_script="DROP TABLE x"))
    refused(record.delete)
    assert MigrationRecord.objects.get(pk=record.pk).status == MigrationStatus.SUCCESS


def test_the_retention_switch_never_allows_an_update_nor_a_migration_records_delete(event, record):
    def switch_on() -> None:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT set_config('schemabuilder.retention', 'on', true),"
                " set_config('schemabuilder.retention_before', '2000-01-01', true)"
            )

    def update_with_switch() -> None:
        switch_on()
        AuditEvent.objects.filter(pk=event.pk).update(action="x")

    def delete_record_with_switch() -> None:
        switch_on()
        MigrationRecord.objects.filter(pk=record.pk).delete()

    refused(update_with_switch)
    assert "append-only" in refused(delete_record_with_switch)
    assert MigrationRecord.objects.filter(pk=record.pk).exists()


def test_another_session_of_the_apps_role_is_refused_too(transactional_db, tenant, alice):
    proposal = make_proposal(tenant, alice)
    event = AuditEvent.objects.get(proposal=proposal)
    MigrationRecord.for_proposal(proposal, MigrationStatus.FAILED, error="boom")
    with psycopg.connect(app_database_url(), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(
                "UPDATE migrations_ui_auditevent SET actor_name = 'x' WHERE id = %s", [event.pk]
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("DELETE FROM migrations_ui_auditevent WHERE id = %s", [event.pk])
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("DELETE FROM migrations_ui_migrationrecord")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("UPDATE migrations_ui_migrationrecord SET error_message = ''")
    assert AuditEvent.objects.get(pk=event.pk).actor_name == "alice"
    assert MigrationRecord.objects.get(proposal=proposal).error_message == "boom"

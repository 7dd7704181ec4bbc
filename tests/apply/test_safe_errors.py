"""Error texts carry nothing of other connections: a lock held by another tenant's connection with a
recognisable query and application name times out the apply, and neither shows in the
proposal, its audit trail, the API or the page; database errors of every kind come out in our
own words; a target that cannot be reached does not reveal its host, port or database."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from django.test import Client

from migrations_ui.models import AuditEvent, Proposal, ProposalStatus, Source
from migrations_ui.workflow.submission import submit
from schemabuilder.engine import safe_message
from tests.apply.blueprints import envelope, seed_envelope, table
from tests.apply.conftest import _url_for, wait_for

SECRET_QUERY = "SECRET_QUERY_h5"
SECRET_APP = "tenant_b_app"


def everything_shown(proposal: Proposal, client: Client) -> str:
    """All a member of the tenant can read about the proposal: its error and result, its audit
    events, the API's answer and the page."""
    proposal.refresh_from_db()
    events = AuditEvent.objects.filter(proposal=proposal).values_list("data", flat=True)
    api = client.get(f"/api/v1/proposals/{proposal.pk}")
    page = client.get(f"/proposals/{proposal.pk}/")
    assert api.status_code == 200 and page.status_code == 200
    return "\n".join(
        [
            proposal.error,
            json.dumps(proposal.result),
            json.dumps(list(events)),
            api.content.decode(),
            page.content.decode(),
        ]
    )


def final(proposal: Proposal) -> Proposal:
    def done() -> bool:
        proposal.refresh_from_db()
        return proposal.is_final

    wait_for(done, 120, f"proposal {proposal.pk} to finish")
    return proposal


@pytest.mark.slow
def test_a_lock_timeout_shows_nothing_of_the_blocking_connection(people, workers, target_url):
    workers.start()
    v1 = envelope([table("orders", ("total", "INTEGER"))])
    first = final(submit(user=people.alice, envelope=v1, source=Source.API).proposal)
    assert first.status == ProposalStatus.APPLIED, first.error
    with psycopg.connect(target_url, application_name=SECRET_APP) as holder:
        holder.execute("BEGIN")
        holder.execute(f"SELECT count(*) /* {SECRET_QUERY} */ FROM orders")
        pid = holder.info.backend_pid
        v2 = envelope([table("orders", ("total", "INTEGER"), ("note", "TEXT"))], version="002")
        proposal = final(submit(user=people.alice, envelope=v2, source=Source.API).proposal)
        holder.execute("ROLLBACK")
    assert proposal.status == ProposalStatus.FAILED
    # Ours: the SQLSTATE, what happened and what to do, the lock waited for on our table,
    # and who held it: its pid, its lock's mode and its transaction's age, which a database
    # administrator needs to find it (issue 17), and nothing else of it.
    assert "SQLSTATE 55P03 (lock timeout" in proposal.error
    assert "Gave up after 3 attempts" in proposal.error
    assert "for ACCESS EXCLUSIVE on public.orders" in proposal.error
    assert f"held by pid {pid} (AccessShareLock, in a transaction for" in proposal.error
    client = Client()
    client.force_login(people.alice)
    shown = everything_shown(proposal, client)
    assert AuditEvent.objects.filter(proposal=proposal, action="proposal.apply_retry").count() == 2
    retries = AuditEvent.objects.filter(proposal=proposal, action="proposal.lock_retry")
    assert retries.count() == 3 * (people.target.lock_attempts - 1)  # per run, all but the last
    assert "retried after a lock timeout" in shown
    for secret in (SECRET_QUERY, SECRET_APP):
        assert secret not in shown, secret


@pytest.fixture
def server(pg_server_url: str) -> Iterator[Callable[..., psycopg.Connection[Any]]]:
    """Connections to a scratch table ``h5_t`` on the test server, closed afterwards."""
    opened: list[psycopg.Connection[Any]] = []

    def connect(**kwargs: Any) -> psycopg.Connection[Any]:
        conn = psycopg.connect(pg_server_url, **kwargs)
        opened.append(conn)
        return conn

    with psycopg.connect(pg_server_url, autocommit=True) as setup:
        setup.execute("DROP TABLE IF EXISTS h5_t, h5_u")
        setup.execute("CREATE TABLE h5_t (n int)")
        setup.execute("CREATE TABLE h5_u (n int)")
    yield connect
    for conn in opened:
        conn.close()
    with psycopg.connect(pg_server_url, autocommit=True) as setup:
        setup.execute("DROP TABLE IF EXISTS h5_t, h5_u")


def assert_no_secret(message: str, *secrets: str) -> None:
    for secret in (SECRET_QUERY, SECRET_APP, *secrets):
        assert secret not in message, (secret, message)


def test_a_real_lock_timeout_is_reduced(server):
    holder = server(application_name=SECRET_APP)
    holder.execute(f"LOCK TABLE h5_t /* {SECRET_QUERY} */")
    waiter = server()
    waiter.execute("SET lock_timeout = '50ms'")
    with pytest.raises(psycopg.errors.LockNotAvailable) as caught:
        waiter.execute("LOCK TABLE h5_t")
    message = safe_message(caught.value, where="Statement 2 of 3 failed")
    assert message.startswith("Statement 2 of 3 failed: SQLSTATE 55P03 (lock timeout")
    assert_no_secret(message, str(holder.info.backend_pid))


def test_a_real_deadlock_is_reduced_without_the_other_backends_query(server):
    """PostgreSQL's DETAIL of a deadlock quotes the other backend's query and pid."""
    a, b = server(application_name=SECRET_APP), server()
    a.execute("LOCK TABLE h5_t")
    b.execute("LOCK TABLE h5_u")
    errors: list[BaseException] = []

    def a_waits() -> None:
        try:
            a.execute(f"LOCK TABLE h5_u /* {SECRET_QUERY} */")
        except psycopg.Error as exc:
            errors.append(exc)

    waiting = threading.Thread(target=a_waits)
    waiting.start()
    wait_for(
        lambda: bool(
            b.execute(
                "SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted", [a.info.backend_pid]
            ).fetchone()
        ),
        30,
        "the first connection to wait",
    )
    try:
        b.execute("LOCK TABLE h5_t")
    except psycopg.Error as exc:
        errors.append(exc)
    b.rollback()
    waiting.join(30)
    a.rollback()
    (deadlock,) = [e for e in errors if isinstance(e, psycopg.errors.DeadlockDetected)]
    assert SECRET_QUERY in str(deadlock) or "Process" in str(deadlock)  # what the server says
    message = safe_message(deadlock)
    assert message.startswith("SQLSTATE 40P01 (deadlock")
    assert_no_secret(message, str(a.info.backend_pid), str(b.info.backend_pid), "Process")


def test_a_real_statement_timeout_is_reduced(server):
    conn = server()
    conn.execute("SET statement_timeout = '50ms'")
    with pytest.raises(psycopg.errors.QueryCanceled) as caught:
        conn.execute(f"SELECT pg_sleep(5) /* {SECRET_QUERY} */")
    assert safe_message(caught.value).startswith("SQLSTATE 57014 (statement timeout")


def test_a_real_serialization_failure_is_reduced(server):
    one, two = server(), server()
    for conn in (one, two):
        conn.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        conn.execute("SELECT count(*) FROM h5_t")
    one.execute("INSERT INTO h5_t VALUES (1)")
    two.execute("INSERT INTO h5_t VALUES (2)")
    one.commit()
    with pytest.raises(psycopg.errors.SerializationFailure) as caught:
        two.execute(f"SELECT 1 /* {SECRET_QUERY} */")
        two.commit()
    assert safe_message(caught.value).startswith("SQLSTATE 40001 (serialization failure")


def test_an_error_about_our_own_statement_keeps_its_primary_message_only(server):
    conn = server()
    with pytest.raises(psycopg.Error) as caught:
        conn.execute("CREATE TABLE h5_t (n int)")
    assert safe_message(caught.value) == 'SQLSTATE 42P07: relation "h5_t" already exists'


def test_a_wrapped_error_and_a_non_database_error(server):
    try:
        try:
            server().execute("SET statement_timeout = '10ms'; SELECT pg_sleep(1)")
        except psycopg.Error as inner:
            raise RuntimeError(f"wrapped: {inner} {SECRET_QUERY}") from inner
    except RuntimeError as outer:
        assert safe_message(outer).startswith("SQLSTATE 57014")
    assert safe_message(KeyError(SECRET_QUERY)) == (
        "KeyError (an internal error; the server's log has details)"
    )


def test_a_closed_port_or_an_unknown_database_shows_no_host_port_or_name(pg_server_url):
    for url, secrets in (
        ("postgresql://h5_role@127.0.0.1:1/h5_secret_db", ["127.0.0.1", "h5_role", "port 1"]),
        (_url_for(pg_server_url, "h5_secret_db"), [pg_server_url.split("@")[-1][:20]]),
    ):
        with pytest.raises(psycopg.OperationalError) as caught:
            psycopg.connect(url, connect_timeout=5)
        message = safe_message(caught.value, where="Cannot connect to target t_demo/dev")
        assert "SQLSTATE" in message
        assert_no_secret(message, "h5_secret_db", *secrets)


def test_a_proposal_for_an_unreachable_target_shows_no_address(people, monkeypatch):
    secret_url = "postgresql://h5_role:pw@127.0.0.1:1/h5_secret_db"
    monkeypatch.setenv("TARGET_DEV_URL", secret_url)
    proposal = submit(user=people.alice, envelope=seed_envelope(), source=Source.API).proposal
    assert proposal.status == ProposalStatus.FAILED
    assert "SQLSTATE 08006 (connection failure" in proposal.error
    client = Client()
    client.force_login(people.alice)
    shown = everything_shown(proposal, client)
    for secret in ("127.0.0.1", "h5_secret_db", "h5_role", "port 1"):
        assert secret not in shown, secret

"""Targets connect as roles of their own: the worker applies as a role that only owns its
schema (marker table, scratch schemas and all), and /healthz and the tenant page warn when a
target's role is a superuser, bypasses row-level security, or can use other schemas."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.core.cache import cache
from django.test import Client

from migrations_ui.models import ProposalStatus, Source
from migrations_ui.workflow import health as target_health
from migrations_ui.workflow.submission import submit, wait_until_final
from schemabuilder.target_roles import provision, role_warnings
from tests.apply.blueprints import envelope, seed_envelope, table


def _as_role(url: str, role: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{role}:{password}@{host}"))


class RoleDb:
    def __init__(self, admin_url: str, role: str) -> None:
        self.admin_url = admin_url
        self.role = role
        self.url = _as_role(admin_url, role, "h5-pw")

    def admin(self, statement: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement)


@pytest.fixture
def role_db(make_target_db: Callable[[], str]) -> Iterator[RoleDb]:
    """A fresh target database and an ``h5_`` role provisioned as the demo's is."""
    admin_url = make_target_db()
    role = f"h5_target_{uuid.uuid4().hex[:8]}"
    database = urlsplit(admin_url).path.lstrip("/")
    provision(admin_url, database, role, "public", password="h5-pw")
    cache.clear()
    yield RoleDb(admin_url, role)
    cache.clear()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP OWNED BY "{role}"')  # its objects, and its grants on the database
        conn.execute(f'DROP ROLE "{role}"')


def test_a_provisioned_role_is_a_plain_login_that_owns_its_schema(role_db):
    with psycopg.connect(role_db.url) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles"
            " WHERE rolname = current_user"
        ).fetchone()
        owner = conn.execute(
            "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'"
        ).fetchone()
        assert row == (False, False, False, False)
        assert owner == (role_db.role,)
        assert role_warnings(conn, "public") == []


@pytest.mark.slow
def test_the_worker_applies_as_the_target_role(people, workers, role_db, monkeypatch):
    # Something made by the superuser before the role existed: provisioning hands it over.
    role_db.admin("CREATE TABLE public.legacy (id int)")
    database = urlsplit(role_db.admin_url).path.lstrip("/")
    provision(role_db.admin_url, database, role_db.role, "public")
    monkeypatch.setenv("TARGET_DEV_URL", role_db.url)
    workers.start(extra_env={"TARGET_DEV_URL": role_db.url})
    first = submit(user=people.alice, envelope=seed_envelope(), source=Source.API).proposal
    first = wait_until_final(first, 120)
    assert first.status == ProposalStatus.APPLIED, first.error + workers.logs()
    v2 = envelope([table("orders", ("total", "INTEGER"))], version="002")
    second = wait_until_final(
        submit(user=people.alice, envelope=v2, source=Source.API).proposal, 120
    )
    assert second.status == ProposalStatus.APPLIED, second.error + workers.logs()
    with psycopg.connect(role_db.admin_url) as conn:
        owners = dict(
            conn.execute(
                "SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname IN ('public', 'schemabuilder') AND c.relkind = 'r'"
            ).fetchall()
        )
        markers = conn.execute("SELECT count(*) FROM schemabuilder.schema_migrations").fetchone()
    assert {"legacy", "orders", "schema_migrations"} <= owners.keys()
    assert set(owners.values()) == {role_db.role}
    assert markers == (2,)


def _health(client: Client) -> dict[str, Any]:
    cache.clear()
    return client.get("/healthz").json()


def test_a_superuser_target_is_warned_about(people, target_url):
    """The suite's own target URL connects as the server's superuser."""
    client = Client()
    assert "connects as a superuser" in _health(client)["target_warnings"]["dev"][0]
    client.force_login(people.alice)
    page = client.get("/tenants/t_demo/").content.decode()
    assert "This target connects as a superuser" in page


def test_a_proper_role_is_not_warned_about_until_it_gains_rights(people, role_db, monkeypatch):
    monkeypatch.setenv("TARGET_DEV_URL", role_db.url)
    client = Client()
    client.force_login(people.alice)
    assert _health(client)["target_warnings"] == {}
    assert "role-warning" not in client.get("/tenants/t_demo/").content.decode()

    role_db.admin("CREATE SCHEMA h5_tenant_b")
    role_db.admin(f'GRANT USAGE ON SCHEMA h5_tenant_b TO "{role_db.role}"')
    role_db.admin(f'ALTER ROLE "{role_db.role}" BYPASSRLS')
    warnings = _health(client)["target_warnings"]["dev"]
    assert "connects with BYPASSRLS: row-level security does not apply to it" in warnings
    assert any("can use 1 schema outside its own" in w for w in warnings)
    assert not any("h5_tenant_b" in w for w in warnings)  # how many, never whose
    page = client.get("/tenants/t_demo/").content.decode()
    assert "This target can use 1 schema outside its own" in page
    role_db.admin(f'ALTER ROLE "{role_db.role}" NOBYPASSRLS')


def test_the_check_is_cached_briefly(people, role_db, monkeypatch):
    monkeypatch.setenv("TARGET_DEV_URL", role_db.url)
    target = people.target
    assert target_health.warnings_for(target) == []
    role_db.admin(f'ALTER ROLE "{role_db.role}" BYPASSRLS')
    assert target_health.warnings_for(target) == []  # the answer of a moment ago
    cache.clear()
    assert target_health.warnings_for(target) == [
        "connects with BYPASSRLS: row-level security does not apply to it"
    ]
    role_db.admin(f'ALTER ROLE "{role_db.role}" NOBYPASSRLS')

"""Real worker processes against the test database, and target databases of their own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from migrations_ui.models import Role
from tests.factories import MembershipFactory, TargetFactory, TenantFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]


def _url_for(base: str, database: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(base)._replace(path="/" + database))


@pytest.fixture
def make_target_db(pg_server_url: str) -> Iterator[Callable[[], str]]:
    """Creates fresh target databases; drops them afterwards."""
    created: list[str] = []

    def make() -> str:
        name = f"sb_target_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return _url_for(pg_server_url, name)

    yield make
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def target_url(make_target_db: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> str:
    """The demo tenant's `dev` target database (alias dev → TARGET_DEV_URL)."""
    url = make_target_db()
    monkeypatch.setenv("TARGET_DEV_URL", url)
    return url


@pytest.fixture
def people(transactional_db, target_url):  # type: ignore[no-untyped-def]
    tenant = TenantFactory(slug="t_demo", name="Demo")
    target = TargetFactory(
        tenant=tenant, environment="dev", connection_alias="dev", lock_timeout_ms=500
    )
    alice = MembershipFactory(
        user=UserFactory(username="alice"), tenant=tenant, role=Role.SUBMITTER
    ).user
    bob = MembershipFactory(
        user=UserFactory(username="bob"), tenant=tenant, role=Role.APPROVER
    ).user
    carol_user = UserFactory(username="carol", is_staff=True, is_superuser=True)
    carol = MembershipFactory(user=carol_user, tenant=tenant, role=Role.ADMIN).user
    return type(
        "People",
        (),
        {"tenant": tenant, "target": target, "alice": alice, "bob": bob, "carol": carol},
    )


def app_database_url() -> str:
    s = connection.settings_dict
    host = s["HOST"]
    if host.startswith("/"):
        return f"postgresql://{s['USER']}@/{s['NAME']}?host={host}"
    return f"postgresql://{s['USER']}:{s['PASSWORD']}@{host}:{s['PORT'] or 5432}/{s['NAME']}"


class Workers:
    """Worker processes, started as production starts them (``manage.py worker``)."""

    def __init__(self, tmp: Path) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.tmp = tmp

    def start(
        self, count: int = 1, concurrency: int = 4, extra_env: dict[str, str] | None = None
    ) -> None:
        env = {**os.environ, "DATABASE_URL": app_database_url(), **(extra_env or {})}
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        for n in range(count):
            log = (self.tmp / f"worker-{len(self.procs)}.log").open("ab")
            self.procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        str(ROOT / "manage.py"),
                        "worker",
                        "--concurrency",
                        str(concurrency),
                        "--name",
                        f"test-worker-{n}",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )

    def kill(self, index: int = 0, sig: int = signal.SIGKILL) -> None:
        self.procs[index].send_signal(sig)
        self.procs[index].wait(timeout=30)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(self.tmp.glob("worker-*.log"))
        )


@pytest.fixture
def workers(transactional_db, tmp_path: Path) -> Iterator[Workers]:  # type: ignore[no-untyped-def]
    w = Workers(tmp_path)
    yield w
    w.stop()


def wait_for(
    predicate: Callable[[], object], timeout: float = 60, what: str = "condition"
) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def online_conn(
    any_target_url: str, request: pytest.FixtureRequest
) -> Iterator[psycopg.Connection]:
    """A fresh database with the online apply tests' live schema (``online_setup.LIVE``), on
    each server in turn: one connection to it, in autocommit."""
    from tests.apply.online_setup import LIVE
    from tests.engine.conftest import fresh_database

    for url in fresh_database(any_target_url, "sbonline", request):
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(LIVE.encode())
            yield connection

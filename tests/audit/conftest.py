"""The audit trail's people, proposals and a local webhook receiver.

carol: superuser and admin of t_demo. erin: admin of t_other only (not a superuser). dave:
staff, member of nothing. alice submits, bob approves, both in t_demo.
"""

from __future__ import annotations

import io
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.management import call_command

from migrations_ui import workflow
from migrations_ui.models import (
    MigrationRecord,
    MigrationStatus,
    Proposal,
    Role,
    Source,
    Target,
    Tenant,
)
from migrations_ui.workflow import events
from tests.apply.conftest import (  # noqa: F401  (fixtures for the worker tests)
    make_target_db,
    people,
    target_url,
    workers,
)
from tests.factories import MembershipFactory, TargetFactory, TenantFactory, UserFactory

PLAN_SQL = (
    "CREATE TABLE public.patients (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
    "  name text NOT NULL\n);\nALTER TABLE public.patients ADD COLUMN born date;"
)


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    """Users are made by the dozen here; a real password hash costs a second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def tenant(db: None) -> Tenant:
    tenant = TenantFactory(slug="t_demo", name="Demo tenant")
    TargetFactory(tenant=tenant)
    return tenant


@pytest.fixture
def other_tenant(db: None) -> Tenant:
    tenant = TenantFactory(slug="t_other", name="Other tenant")
    TargetFactory(tenant=tenant, environment="prod", connection_alias="prod")
    return tenant


@pytest.fixture
def alice(tenant: Tenant) -> Any:
    return MembershipFactory(
        user=UserFactory(username="alice"), tenant=tenant, role=Role.SUBMITTER
    ).user


@pytest.fixture
def bob(tenant: Tenant) -> Any:
    return MembershipFactory(
        user=UserFactory(username="bob"), tenant=tenant, role=Role.APPROVER
    ).user


@pytest.fixture
def carol(tenant: Tenant) -> Any:
    user = UserFactory(username="carol", is_staff=True, is_superuser=True)
    MembershipFactory(user=user, tenant=tenant, role=Role.ADMIN)
    return user


@pytest.fixture
def erin(other_tenant: Tenant) -> Any:
    """Admin of t_other, not a superuser: staff only through her membership."""
    user = UserFactory(username="erin")
    MembershipFactory(user=user, tenant=other_tenant, role=Role.ADMIN)
    user.refresh_from_db()
    return user


@pytest.fixture
def dave(db: None) -> Any:
    """Staff (so the admin lets him log in), member of nothing."""
    return UserFactory(username="dave", is_staff=True)


def make_proposal(
    tenant: Tenant,
    user: Any,
    *,
    version: str = "001",
    target: Target | None = None,
    force_apply: bool = False,
    description: str = "",
) -> Proposal:
    """A proposal as the submission service stores it, with its submitted event."""
    target = target or tenant.targets.get()
    proposal = Proposal.objects.create(
        tenant=tenant,
        target=target,
        submitted_by=user,
        source=Source.API,
        envelope={"payload": {"schema_version": version}},
        blueprint={"schema_version": version, "tables": [{"name": "patients"}]},
        schema_version=version,
        description=description or f"version {version}",
        schema_hash=uuid.uuid4().hex * 2,
        idempotency_key=uuid.uuid4().hex,
        force_apply=force_apply,
    )
    events.record(
        tenant=tenant,
        proposal=proposal,
        action="proposal.submitted",
        actor=user,
        data={"version": version, "target": target.environment},
    )
    return proposal


def plan(proposal: Proposal, *, dangerous: bool = False) -> None:
    """submitted → planned with a small plan (two statements)."""
    workflow.record_plan(
        proposal,
        {
            "statements": [{"sql": "CREATE TABLE ..."}, {"sql": "ALTER TABLE ..."}],
            "hazards": [{"id": "h1", "kind": "DELETES_DATA", "severity": "danger"}]
            if dangerous
            else [],
        },
        sql=PLAN_SQL,
        checksum="c" * 64,
        base_hash="b" * 64,
        dangerous=dangerous,
    )


@pytest.fixture
def history(tenant: Tenant, other_tenant: Tenant, alice: Any, bob: Any, carol: Any) -> Any:
    """Some history in both tenants: a proposal approved and applied in t_demo, one blocked in
    t_other, with their events, approval and migration records."""
    approved = make_proposal(tenant, alice, version="001", force_apply=True)
    plan(approved)
    workflow.settle(approved)  # force_apply: awaiting approval
    approval = workflow.approve(approved, bob, approved.plan_checksum, comment="looks right")
    approved.refresh_from_db()
    workflow.start_applying(approved)
    record = MigrationRecord.for_proposal(approved, MigrationStatus.SUCCESS)
    workflow.mark_applied(approved, {"migration_log_id": record.log_id}, {"statements": []})

    other_admin = UserFactory(username="olga")
    MembershipFactory(user=other_admin, tenant=other_tenant, role=Role.SUBMITTER)
    blocked = make_proposal(other_tenant, other_admin, version="7.1")
    plan(blocked, dangerous=True)
    workflow.settle(blocked)
    return type(
        "History",
        (),
        {"approved": approved, "approval": approval, "record": record, "blocked": blocked},
    )


# ---- a local webhook receiver ------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that answers with the next status of ``script`` (the last
    one repeats), and can hold every request until ``release()``."""

    url: str = ""
    script: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    hold: threading.Event | None = None
    held: threading.Event = field(default_factory=threading.Event)
    redirect_to: str = ""

    def release(self) -> None:
        if self.hold is not None:
            self.hold.set()


@pytest.fixture
def receiver(settings: Any) -> Iterator[Callable[..., Receiver]]:
    # The receiver listens on 127.0.0.1, which webhooks refuse unless private addresses are
    # allowed (as for development); a worker process needs SB_WEBHOOK_ALLOW_PRIVATE=1 too.
    settings.WEBHOOK_ALLOW_PRIVATE = True
    servers: list[tuple[ThreadingHTTPServer, Receiver]] = []

    def start(
        script: list[int] | None = None, *, hold: bool = False, redirect_to: str = ""
    ) -> Receiver:
        state = Receiver(
            script=list(script or [200]),
            hold=threading.Event() if hold else None,
            redirect_to=redirect_to,
        )
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    state.requests.append(Received(dict(self.headers.items()), body))
                    n = len(state.requests)
                if state.hold is not None:
                    state.held.set()
                    state.hold.wait(120)
                status = state.script[min(n, len(state.script)) - 1]
                self.send_response(status)
                if state.redirect_to:
                    self.send_header("Location", state.redirect_to)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(f"answer {n}: {status}".encode())

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append((server, state))
        return state

    yield start
    for server, state in servers:
        state.release()
        server.shutdown()
        server.server_close()


def verify(*args: str) -> tuple[int, str]:
    """``manage.py verify_audit``: (exit code, what it printed)."""
    out = io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()

from __future__ import annotations

import psycopg
import pytest

from migrations_ui.models import Proposal, ProposalStatus, Role, Source
from migrations_ui.workflow import apply as apply_service
from migrations_ui.workflow.submission import submit
from tests.apply.blueprints import envelope, table

# Fresh target databases (TARGET_DEV_URL), as the apply tests use them.
from tests.apply.conftest import make_target_db, target_url  # noqa: F401
from tests.factories import MembershipFactory, TargetFactory, TenantFactory, UserFactory


@pytest.fixture
def tenant(db):
    tenant = TenantFactory(slug="t_demo", name="Demo tenant")
    TargetFactory(tenant=tenant)
    return tenant


@pytest.fixture
def alice(tenant):
    return MembershipFactory(
        user=UserFactory(username="alice"), tenant=tenant, role=Role.SUBMITTER
    ).user


@pytest.fixture
def bob(tenant):
    return MembershipFactory(
        user=UserFactory(username="bob"), tenant=tenant, role=Role.APPROVER
    ).user


@pytest.fixture
def carol(tenant):
    user = UserFactory(username="carol", is_staff=True, is_superuser=True)
    MembershipFactory(user=user, tenant=tenant, role=Role.ADMIN)
    return user


@pytest.fixture
def dave(db):
    """Logged in, member of nothing."""
    return UserFactory(username="dave")


@pytest.fixture
def erin(tenant):
    """A viewer: reads everything in t_demo, decides nothing."""
    return MembershipFactory(
        user=UserFactory(username="erin"), tenant=tenant, role=Role.VIEWER
    ).user


V1 = [table("patients", ("first_name", "TEXT"), ("phone", "TEXT"))]
# v2 drops phone (danger: the column holds a value), adds email and a visits table.
V2 = [
    table("patients", ("first_name", "TEXT"), ("email", "TEXT")),
    {
        "name": "visits",
        "columns": [
            {"name": "patient_id", "type": "UUID", "references": "patients.id"},
            {"name": "starts_at", "type": "TIMESTAMPTZ"},
        ],
    },
]


@pytest.fixture
def applied_v1(alice, target_url) -> Proposal:  # noqa: F811 (the fixture)
    """v1 of t_demo, applied to a real target by the worker's own code (run in-process)."""
    proposal = submit(user=alice, envelope=envelope(V1, version="001"), source=Source.FORM).proposal
    apply_service.run(str(proposal.pk))
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPLIED, proposal.error
    return proposal


@pytest.fixture
def dangerous(applied_v1, alice, target_url) -> Proposal:  # noqa: F811 (the fixture)
    """v2 submitted by alice with force_apply: it drops a populated column."""
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO patients (tenant_id, first_name, phone)"
            " VALUES (gen_random_uuid(), 'Ada', '555-0100')"
        )
    proposal = submit(
        user=alice, envelope=envelope(V2, version="002", force=True), source=Source.FORM
    ).proposal
    assert proposal.status == ProposalStatus.AWAITING_APPROVAL
    return proposal


def hx(target: str) -> dict[str, str]:
    """Headers of an htmx request aimed at the region ``target`` (django-htmx reads them)."""
    return {"HX-Request": "true", "HX-Target": target}

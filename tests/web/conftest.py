from __future__ import annotations

import pytest

from migrations_ui.models import Role
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

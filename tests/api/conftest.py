"""API tests: the people and target databases of the apply tests, tokens, and a client that
speaks JSON with a bearer token."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from migrations_ui.models import ApiToken, Role
from tests.apply import conftest as apply_fixtures
from tests.factories import MembershipFactory, TargetFactory, TenantFactory, UserFactory

# The apply tests' fixtures, shared: people (alice, bob, carol in t_demo), target databases
# and real worker processes.
make_target_db = apply_fixtures.make_target_db
target_url = apply_fixtures.target_url
people = apply_fixtures.people
workers = apply_fixtures.workers

SEED_FILE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "seed" / "seed_patients_envelope.json"
)


def seed_request() -> dict[str, Any]:
    """The seed's example envelope, unchanged (tenant t_001, environment prod)."""
    return json.loads(SEED_FILE.read_text())


class Api:
    """A JSON client acting with one bearer token."""

    def __init__(self, raw_token: str | None, **client_kwargs: Any) -> None:
        self.client = Client(**client_kwargs)
        self.headers = {"Authorization": f"Bearer {raw_token}"} if raw_token else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, headers=self.headers)

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Any:
        data = raw if raw is not None else json.dumps({} if body is None else body)
        return self.client.post(
            path, data, content_type="application/json", headers={**self.headers, **(headers or {})}
        )


@pytest.fixture
def token_for(transactional_db) -> Callable[..., str]:  # type: ignore[no-untyped-def]
    def make(user: Any, name: str = "test") -> str:
        return ApiToken.issue(user, name)[1]

    return make


@pytest.fixture
def api_as(token_for: Callable[..., str]) -> Callable[..., Api]:
    """``api_as(alice)``: a client with a fresh token of alice's."""

    def make(user: Any) -> Api:
        return Api(token_for(user))

    return make


@pytest.fixture
def t001(people, make_target_db, monkeypatch):  # type: ignore[no-untyped-def]
    """The seed's tenant t_001 with its target prod (alias t001), alice a submitter there."""
    url = make_target_db()
    monkeypatch.setenv("TARGET_T001_URL", url)
    tenant = TenantFactory(slug="t_001", name="Seed tenant")
    target = TargetFactory(
        tenant=tenant, environment="prod", connection_alias="t001", lock_timeout_ms=500
    )
    MembershipFactory(user=people.alice, tenant=tenant, role=Role.SUBMITTER)
    MembershipFactory(user=people.bob, tenant=tenant, role=Role.APPROVER)
    return type("T001", (), {"tenant": tenant, "target": target, "url": url})


@pytest.fixture
def outsider(people):  # type: ignore[no-untyped-def]
    """Erin: a submitter and approver of another tenant only."""
    other = TenantFactory(slug="t_other", name="Other")
    TargetFactory(tenant=other, environment="dev", connection_alias="dev")
    erin = UserFactory(username="erin")
    MembershipFactory(user=erin, tenant=other, role=Role.ADMIN)
    return erin


@pytest.fixture
def viewer(people):  # type: ignore[no-untyped-def]
    """Victor: a viewer of t_demo."""
    victor = UserFactory(username="victor")
    MembershipFactory(user=victor, tenant=people.tenant, role=Role.VIEWER)
    return victor

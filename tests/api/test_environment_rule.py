"""The API's ?environment= and the envelope's meta.environment must agree when both are given."""

from __future__ import annotations

from migrations_ui.models import Proposal
from tests.apply.blueprints import seed_envelope
from tests.factories import TargetFactory


def test_a_query_environment_that_disagrees_with_the_envelope_is_refused(people, api_as):
    TargetFactory(
        tenant=people.tenant, environment="prod", connection_alias="prod", is_default=False
    )
    alice = api_as(people.alice)
    for path in ("/api/v1/proposals?environment=prod", "/api/v1/plan?environment=prod"):
        response = alice.post(path, seed_envelope())  # meta.environment is dev
        assert response.status_code in (400, 422), response.json()
        errors = response.json()["errors"]
        assert errors[0]["path"] == "meta.environment"
        assert "dev" in errors[0]["message"] and "prod" in errors[0]["message"]
    assert not Proposal.objects.exists()


def test_a_query_environment_that_agrees_is_fine(people, api_as):
    response = api_as(people.alice).post("/api/v1/proposals?environment=dev", seed_envelope())
    assert response.status_code == 202, response.json()

"""The envelope's meta.environment names its target; the picker may not silently change it."""

from __future__ import annotations

import json

from migrations_ui.models import Proposal
from tests.factories import TargetFactory
from tests.web.conftest import V1, hx

PROD_ENVELOPE = json.dumps(
    {
        "meta": {"tenant_id": "t_demo", "environment": "prod"},
        "payload": {"schema_version": "001", "description": "Patients", "tables": V1},
    },
    indent=2,
)


def _form(text: str, target: str) -> dict[str, object]:
    return {"tenant": "t_demo", "target": target, "blueprint": text}


def test_the_live_check_points_at_meta_environment_when_the_picker_disagrees(client, alice, tenant):
    TargetFactory(tenant=tenant, environment="prod", connection_alias="prod", is_default=False)
    client.force_login(alice)
    body = client.post(
        "/proposals/new/validate/", _form(PROD_ENVELOPE, "dev"), headers=hx("blueprint-issues")
    ).content.decode()
    assert "Valid." not in body
    assert '<code class="path">meta.environment</code>' in body
    assert "pick &#x27;prod&#x27;" in body


def test_submitting_a_prod_envelope_with_the_picker_on_dev_is_refused(client, alice, tenant):
    TargetFactory(tenant=tenant, environment="prod", connection_alias="prod", is_default=False)
    client.force_login(alice)
    response = client.post("/proposals/new/", _form(PROD_ENVELOPE, "dev"))
    assert response.status_code == 422
    assert '<code class="path">meta.environment</code>' in response.content.decode()
    assert not Proposal.objects.exists()


def test_an_envelope_without_environment_takes_the_picker(client, alice, target_url):
    client.force_login(alice)
    text = json.dumps(
        {"meta": {"tenant_id": "t_demo"}, "payload": json.loads(PROD_ENVELOPE)["payload"]}
    )
    response = client.post("/proposals/new/", _form(text, "dev"))
    assert response.status_code == 302
    assert Proposal.objects.get().target.environment == "dev"


def test_the_live_check_points_at_the_version_when_it_would_go_backwards(client, alice, applied_v1):
    from migrations_ui.models import Source
    from migrations_ui.workflow import apply as apply_service
    from migrations_ui.workflow.submission import submit
    from tests.apply.blueprints import envelope
    from tests.web.conftest import V2

    later = submit(
        user=alice, envelope=envelope(V2, version="004", force=False), source=Source.FORM
    )
    apply_service.run(str(later.proposal.pk))
    client.force_login(alice)
    text = json.dumps({"schema_version": "001", "description": "Patients", "tables": V1})
    body = client.post(
        "/proposals/new/validate/", _form(text, "dev"), headers=hx("blueprint-issues")
    ).content.decode()
    assert '<code class="path">schema_version</code>' in body
    assert "lower than dev&#x27;s current version 004" in body, body[:1500]

"""The REST API (django-ninja) at /api/v1/ and the seed's webhook at /wf106/schema-builder.

Both authenticate with a personal token (``Authorization: Bearer <token>``) or, for people
in a browser, with their session (CSRF-protected). One OpenAPI document, at
/api/v1/openapi.json, describes both; /api/v1/docs is the interactive page.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

from migrations_ui.api import errors
from migrations_ui.api.auth import BrowserSession, TokenAuth
from migrations_ui.api.blueprint_schema import router as blueprint_schema_router
from migrations_ui.api.docs import LocalSwagger
from migrations_ui.api.proposals import router as proposals_router
from migrations_ui.api.tenants import router as tenants_router
from migrations_ui.api.webhook import router as webhook_router
from migrations_ui.examples import SEED_PAYLOAD
from schemabuilder.engine import envelope_json_schema

DESCRIPTION = """
Submit blueprints, follow and review proposals, read a tenant's history and schema.

**Authentication**: `Authorization: Bearer <token>`. Create a token at `/settings/tokens/` or
with `python manage.py create_token USER`. A token acts as its user: the user's tenant
memberships decide what it may do. A tenant you are not a member of answers 404. Only a
token its user made counts; one made by someone else is 401.

**Errors** answer JSON: `{"code": "...", "message": "...", "errors": [{"path", "message"}]}`
(`errors` for validation only). Requests are rate limited per person, all of their tokens and
their session together (429 with `Retry-After`).

**Idempotency**: send `Idempotency-Key` (or `meta.idempotency_key`): a retried request returns
the same proposal; the same key with a different blueprint is 409.
"""


class Api(NinjaAPI):
    """NinjaAPI whose OpenAPI document also describes the APIs mounted elsewhere (the seed's
    webhook) and the blueprint envelope, the engine's own model."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.merged: list[NinjaAPI] = []

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas.update(envelope_components())
        for other in self.merged:
            extra = other.get_openapi_schema()
            schema["paths"].update(extra.get("paths", {}))
            for key, value in extra.get("components", {}).items():
                components.setdefault(key, {}).update(value)
        return schema


def envelope_components() -> dict[str, Any]:
    """The engine's Envelope model as OpenAPI components, named Blueprint*: the schema served
    at /api/v1/envelope.schema.json, descriptions included, its references renamed."""
    text = json.dumps(envelope_json_schema()).replace(
        '"#/$defs/', '"#/components/schemas/Blueprint'
    )
    raw = json.loads(text)
    raw.pop("$schema", None)
    defs = raw.pop("$defs", {})
    found = {f"Blueprint{name}": value for name, value in defs.items()}
    envelope = copy.deepcopy(raw)
    envelope["example"] = EXAMPLE_ENVELOPE
    found["BlueprintEnvelope"] = envelope
    return found


EXAMPLE_ENVELOPE: dict[str, Any] = {
    "meta": {"tenant_id": "t_demo", "environment": "dev"},
    "payload": SEED_PAYLOAD,
}

AUTH = [TokenAuth(), BrowserSession()]

api = Api(
    title="Schema Auto-Builder API",
    version="1.0.0",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=AUTH,
    docs=LocalSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)
api.add_router("/", proposals_router)
api.add_router("/", tenants_router)
api.add_router("/", blueprint_schema_router)

# The seed's webhook lives at /wf106/schema-builder, outside /api/v1/: its own NinjaAPI,
# described in the same document.
webhook_api = NinjaAPI(
    title="Schema Auto-Builder webhook",
    version="1.0.0",
    urls_namespace="wf106",
    auth=AUTH,
    docs_url=None,
    openapi_url=None,
)
errors.install(webhook_api)
webhook_api.add_router("/", webhook_router)
api.merged.append(webhook_api)

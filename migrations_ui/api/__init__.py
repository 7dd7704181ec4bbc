"""The REST API (django-ninja) at /api/v1/ and the seed's webhook at /wf106/schema-builder."""

from ninja import NinjaAPI

api = NinjaAPI(title="Schema Auto-Builder API", version="1.0.0", urls_namespace="api")

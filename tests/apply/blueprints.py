"""Envelopes for the apply tests, built from the seed's example."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

# A copy of ../shared/examples/, so the suite runs wherever the repository is cloned.
SEED = json.loads(
    (
        Path(__file__).resolve().parents[1] / "fixtures" / "seed" / "seed_patients_envelope.json"
    ).read_text()
)


def seed_envelope(tenant: str = "t_demo", *, keep_key: bool = False) -> dict[str, Any]:
    env = copy.deepcopy(SEED)
    env["meta"]["tenant_id"] = tenant
    env["subject"]["tenant_id"] = tenant
    env["meta"]["environment"] = "dev"
    if not keep_key:
        env["meta"].pop("idempotency_key")
    return env


def envelope(
    tables: list[dict[str, Any]],
    *,
    version: str = "001",
    tenant: str = "t_demo",
    force: bool = False,
    environment: str | None = "dev",
) -> dict[str, Any]:
    meta: dict[str, Any] = {"tenant_id": tenant}
    if environment:
        meta["environment"] = environment
    return {
        "meta": meta,
        "payload": {
            "schema_version": version,
            "description": f"v{version}",
            "force_apply": force,
            "tables": tables,
        },
    }


def table(name: str, *columns: tuple[str, str]) -> dict[str, Any]:
    return {"name": name, "columns": [{"name": c, "type": t} for c, t in columns]}

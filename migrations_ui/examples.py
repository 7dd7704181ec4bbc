"""Blueprints to start from in the submit form (payloads: the tenant and target come from the
form's pickers)."""

from __future__ import annotations

import json
from typing import Any

# The seed's foundation schema (its example envelope's payload,
# tests/fixtures/seed/seed_patients_envelope.json): the form's first example and the API's.
SEED_PAYLOAD: dict[str, Any] = {
    "schema_version": "001",
    "description": "Foundation Schema",
    "force_apply": False,
    "tables": [
        {
            "name": "patients",
            "columns": [
                {"name": "first_name", "type": "TEXT", "not_null": True},
                {"name": "last_name", "type": "TEXT", "not_null": True},
                {"name": "phone", "type": "TEXT"},
            ],
            "indexes": [{"name": "idx_patients_phone", "columns": ["phone"]}],
        }
    ],
}
_PATIENTS = SEED_PAYLOAD["tables"][0]

# Its next step: an email on patients, and their visits.
CLINIC_PAYLOAD: dict[str, Any] = {
    "schema_version": "002",
    "description": "Visits per patient",
    "force_apply": False,
    "tables": [
        {
            **_PATIENTS,
            "columns": [
                *_PATIENTS["columns"],
                {"name": "email", "type": "VARCHAR(255)", "unique": True},
            ],
        },
        {
            "name": "visits",
            "columns": [
                {
                    "name": "patient_id",
                    "type": "UUID",
                    "not_null": True,
                    "references": "patients.id",
                },
                {"name": "starts_at", "type": "TIMESTAMPTZ", "not_null": True},
                {
                    "name": "status",
                    "type": "TEXT",
                    "not_null": True,
                    "default": "'BOOKED'",
                    "check": "status IN ('BOOKED', 'DONE', 'CANCELLED')",
                },
                {"name": "notes", "type": "TEXT"},
            ],
            "indexes": [
                {"name": "idx_visits_patient", "columns": ["patient_id", "starts_at DESC"]}
            ],
        },
    ],
}

EXAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "patients": ("Patients (the seed's foundation schema)", SEED_PAYLOAD),
    "clinic": ("Clinic: patients and visits, with a foreign key and checks", CLINIC_PAYLOAD),
}


def example_text(name: str) -> str | None:
    found = EXAMPLES.get(name)
    return json.dumps(found[1], indent=2) if found else None

"""The blueprints the app offers to start from: the seed's own example, once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from migrations_ui.api import EXAMPLE_ENVELOPE
from migrations_ui.examples import EXAMPLES, SEED_PAYLOAD, example_text
from schemabuilder.engine import validate_payload

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "seed" / "seed_patients_envelope.json"


def test_the_foundation_example_is_the_seed_s_own_payload() -> None:
    assert json.loads(SEED.read_text())["payload"] == SEED_PAYLOAD
    assert EXAMPLE_ENVELOPE["payload"] is SEED_PAYLOAD
    assert json.loads(example_text("patients") or "") == SEED_PAYLOAD


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_every_example_is_a_valid_blueprint(name: str) -> None:
    assert validate_payload(EXAMPLES[name][1]).tables


def test_the_clinic_example_grows_the_foundation() -> None:
    patients, visits = EXAMPLES["clinic"][1]["tables"]
    seed_columns = SEED_PAYLOAD["tables"][0]["columns"]
    assert patients["columns"][: len(seed_columns)] == seed_columns
    assert [c["name"] for c in patients["columns"]][-1] == "email"
    assert visits["name"] == "visits"

"""Hostile and broken envelopes are all rejected, each with a path to the problem."""

from __future__ import annotations

import pytest

from schemabuilder.engine import BlueprintInvalid, render_ddl, validate_envelope
from tests.engine.hostile_corpus import Case, base_envelope, cases

CASES = cases()


def test_the_corpus_is_large_and_its_base_envelope_is_valid() -> None:
    assert len(CASES) >= 150
    assert len({c.name for c in CASES}) == len(CASES)
    assert sum(c.name.startswith("file_") for c in CASES) >= 10
    accepted = validate_envelope(base_envelope())
    assert render_ddl(accepted.blueprint, "s")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_it_rejects_every_hostile_envelope_with_a_path_to_the_problem(case: Case) -> None:
    with pytest.raises(BlueprintInvalid) as info:
        validate_envelope(case.envelope)

    issues = info.value.issues
    assert issues
    assert any(issue.path.startswith(case.expected_path_prefix) for issue in issues), str(
        info.value
    )[:2_000]
    for issue in issues:
        assert issue.message.strip()
        assert len(issue.message) < 2_000  # never echoes a huge input back

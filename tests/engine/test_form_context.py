"""Desired forms are cached per target: a form learned where a type or a role exists never
vouches for the same table on a target where it does not (planning would pass there and the
apply fail)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from schemabuilder.engine import BlueprintInvalid, validate_payload
from schemabuilder.engine.apply.marker import MARKER_DDL
from schemabuilder.engine.catalog.live_forms import form_context
from schemabuilder.engine.desired.cache import CANONICAL_FORM_VERSION, MemoryCanonicalCache
from schemabuilder.engine.plan import plan
from tests.pg_plugin import _scratch_database

SCHEMA = "app"


def _blueprint() -> Any:
    table: dict[str, Any] = {
        "name": "moods",
        "columns": [
            {"name": "id", "type": "INTEGER", "primary_key": True},
            {"name": "feeling", "type": "feeling"},
        ],
        "rls": False,
    }
    return validate_payload(
        {"schema_version": "001", "description": "t", "auto_columns": False, "tables": [table]}
    )


@pytest.fixture
def two_targets(pg_server_url: str) -> Iterator[tuple[psycopg.Connection, psycopg.Connection]]:
    first = _scratch_database(pg_server_url, "sb_test_form_context_1")
    second = _scratch_database(pg_server_url, "sb_test_form_context_2")
    with (
        psycopg.connect(next(first), autocommit=True) as one,
        psycopg.connect(next(second), autocommit=True) as two,
    ):
        one.execute(b"CREATE SCHEMA app; CREATE TYPE app.feeling AS ENUM ('ok', 'sad')")
        two.execute(b"CREATE SCHEMA app")
        yield one, two
    for gen in (first, second):
        gen.close()


def test_a_form_learned_on_one_target_does_not_vouch_on_another(two_targets) -> None:
    one, two = two_targets
    cache = MemoryCanonicalCache()
    bp = _blueprint()
    made = plan(one, bp, schema=SCHEMA, managed=set(), cache=cache)
    assert made.materialized_tables == ("moods",)
    assert len(cache) > 0
    # The second target has no type app.feeling: planning must say so, not reuse the form.
    with pytest.raises(BlueprintInvalid) as raised:
        plan(two, bp, schema=SCHEMA, managed=set(), cache=cache)
    assert "feeling" in str(raised.value.issues)
    # On the first target the form is still good: nothing is materialized again.
    again = plan(one, bp, schema=SCHEMA, managed=set(), cache=cache)
    assert not again.materialized_tables


def test_the_context_moves_with_the_types_the_roles_and_the_schema(two_targets) -> None:
    one, _ = two_targets
    before = form_context(one, SCHEMA)
    assert form_context(one, SCHEMA) == before
    assert form_context(one, "elsewhere") != before
    one.execute(b"ALTER TYPE app.feeling ADD VALUE 'glad'")
    after_type = form_context(one, SCHEMA)
    assert after_type != before
    one.execute(b"CREATE ROLE sb_form_context_role")
    try:
        assert form_context(one, SCHEMA) != after_type
    finally:
        one.execute(b"DROP ROLE sb_form_context_role")


def test_the_form_version_is_a_digest_of_the_sources() -> None:
    assert len(CANONICAL_FORM_VERSION) == 16
    int(CANONICAL_FORM_VERSION, 16)  # hex, derived, not a hand-kept number


def test_the_first_apply_s_migration_log_leaves_the_context_alone(two_targets) -> None:
    """The first apply to a target makes the schema of its migration log: the forms the plan
    of that change learned must still vouch for the next plan (a new schema of the tenant's
    own still moves the context)."""
    one, _ = two_targets
    before = form_context(one, SCHEMA)
    for statement in MARKER_DDL:
        one.execute(statement.encode())
    assert form_context(one, SCHEMA) == before
    one.execute(b"CREATE SCHEMA sb_form_context_other")
    assert form_context(one, SCHEMA) != before

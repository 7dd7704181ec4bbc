"""Extensions: only the deployment's allowlist, checked on the target, installed before the
tables that use them, never dropped, and brought in by the import."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from schemabuilder.engine import BlueprintInvalid, import_schema, validate_payload
from schemabuilder.engine.contract.extensions import DEFAULT_EXTENSIONS, EXTENSIONS_SETTING
from schemabuilder.engine.hazards import HazardKind, Severity
from schemabuilder.engine.plan import plan
from schemabuilder.engine.render_text import render_text
from tests.engine.conftest import fresh_database


@pytest.fixture
def url(any_target_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database for one test."""
    yield from fresh_database(any_target_url, "sbext", request)


def _payload(extensions: list[str], email_type: str = "TEXT") -> dict[str, object]:
    return {
        "schema_version": "1",
        "description": "d",
        "auto_columns": False,
        "extensions": extensions,
        "tables": [
            {
                "name": "accounts",
                "rls": False,
                "columns": [
                    {"name": "id", "type": "INTEGER", "primary_key": True},
                    {"name": "email", "type": email_type},
                ],
            }
        ],
    }


def _issues(payload: dict[str, object]) -> list[tuple[str, str]]:
    with pytest.raises(BlueprintInvalid) as raised:
        validate_payload(payload)
    return [(i.path, i.message) for i in raised.value.issues]


def test_an_extension_outside_the_allowlist_is_refused_at_its_path_with_the_allowed_ones() -> None:
    [(path, message)] = _issues(_payload(["citext", "plpython3u"]))
    assert path == "payload.extensions[1]"
    assert "plpython3u" in message
    for name in DEFAULT_EXTENSIONS:
        assert name in message


def test_a_misspelled_extension_gets_a_suggestion() -> None:
    [(path, message)] = _issues(_payload(["citex"]))
    assert path == "payload.extensions[0]"
    assert "did you mean 'citext'?" in message


def test_an_extension_listed_twice_is_refused() -> None:
    [(path, message)] = _issues(_payload(["citext", "CITEXT"]))
    assert path == "payload.extensions"
    assert "listed twice" in message


def test_the_setting_replaces_the_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EXTENSIONS_SETTING, "isn, fuzzystrmatch")
    assert validate_payload(_payload(["isn"])).extensions == ("isn",)
    [(path, message)] = _issues(_payload(["citext"]))
    assert path == "payload.extensions[0]"
    assert "fuzzystrmatch, isn" in message
    monkeypatch.setenv(EXTENSIONS_SETTING, "none")
    [(_, message)] = _issues(_payload(["isn"]))
    assert "allows no extension" in message


def test_an_allowed_extension_the_server_lacks_is_refused_at_plan_time(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(EXTENSIONS_SETTING, "citext,no_such_extension")
    bp = validate_payload(_payload(["citext", "no_such_extension"]))
    with psycopg.connect(url, autocommit=True) as conn, pytest.raises(BlueprintInvalid) as raised:
        plan(conn, bp, schema="public", managed=set())
    [issue] = raised.value.issues
    assert issue.path == "payload.extensions[1]"
    assert "not available on the target's server" in issue.message


def test_an_extension_and_a_column_of_its_type_in_one_plan_and_removing_it_drops_nothing(
    url: str,
) -> None:
    bp = validate_payload(_payload(["citext"], email_type="CITEXT"))
    with psycopg.connect(url, autocommit=True) as conn:
        first = plan(conn, bp, schema="public", managed=set())
        # Planning installed nothing: the scratch copy went with its rolled-back transaction.
        assert conn.execute(
            "SELECT count(*) FROM pg_extension WHERE extname = 'citext'"
        ).fetchone() == (0,)
        [install] = [s for s in first.statements if "EXTENSION" in s.sql]
        assert install.sql == "CREATE EXTENSION IF NOT EXISTS citext SCHEMA public"
        [hazard] = install.hazards
        assert (hazard.kind, hazard.severity) == (HazardKind.INSTALLS_EXTENSION, Severity.INFO)
        assert "Extensions installed: citext" in render_text(first)
        conn.execute(first.sql.encode())
        assert plan(conn, bp, schema="public", managed={"accounts"}).is_empty
        # No longer listed, still used by the column: left installed, nothing to do.
        without = validate_payload({**_payload([], email_type="CITEXT"), "extensions": []})
        assert plan(conn, without, schema="public", managed={"accounts"}).is_empty
        assert conn.execute(
            "SELECT count(*) FROM pg_extension WHERE extname = 'citext'"
        ).fetchone() == (1,)


def test_the_import_lists_allowed_extensions_and_leaves_out_the_others(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE EXTENSION citext; CREATE EXTENSION pg_trgm;"
            " CREATE TABLE accounts (id integer PRIMARY KEY, email citext)"
        )
        result = import_schema(conn, "public")
        assert result.payload["extensions"] == ["citext", "pg_trgm"]
        assert not [o for o in result.left_out if o.kind == "extension"]
        bp = validate_payload(result.payload)
        assert plan(conn, bp, schema="public", managed={"accounts"}).is_empty
        monkeypatch.setenv(EXTENSIONS_SETTING, "citext")
        narrowed = import_schema(conn, "public")
    assert narrowed.payload["extensions"] == ["citext"]
    assert [(o.kind, o.name) for o in narrowed.left_out if o.kind == "extension"] == [
        ("extension", "pg_trgm")
    ]


def test_an_untrusted_extension_is_refused_to_a_role_that_is_not_a_superuser(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(EXTENSIONS_SETTING, "moddatetime")
    bp = validate_payload(_payload(["moddatetime"]))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "DO $$ BEGIN CREATE ROLE sb_ext_planner NOLOGIN; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
        # As a superuser it would be installed; as the target's role it cannot be.
        assert [s.sql for s in plan(conn, bp, schema="public", managed=set()).statements][1] == (
            "CREATE EXTENSION IF NOT EXISTS moddatetime SCHEMA public"
        )
        conn.execute("SET ROLE sb_ext_planner")
        with pytest.raises(BlueprintInvalid) as raised:
            plan(conn, bp, schema="public", managed=set())
    [issue] = raised.value.issues
    assert issue.path == "payload.extensions[0]"
    assert "only a superuser may install it" in issue.message
